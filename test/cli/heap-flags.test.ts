/** The V8 heap flags the `cftunnel` command sets for itself (src/cli/heap-flags.ts, issue #19). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The compiled module bin/cftunnel.js loads (`npm run build`): no TypeScript loader warming the heap up first. */
const HEAP_FLAGS = new URL('../../dist/src/cli/heap-flags.js', import.meta.url).href;

/**
 * Runs a child that (optionally) applies the CLI's heap flags, then allocates like a busy proxy: many short-lived
 * objects, some of them surviving a while. Reports the flags applied and the young generation's size afterwards.
 */
async function youngGeneration(
  apply: boolean,
  nodeFlags: string[] = [],
): Promise<{ applied: string[]; mb: number; execArgv: string[]; pid: number; ppid: number }> {
  const script = `
    import v8 from 'node:v8';
    const { applyCliHeapFlags } = await import(${JSON.stringify(HEAP_FLAGS)});
    const applied = ${apply} ? applyCliHeapFlags() : [];
    let live = [];
    for (let i = 0; i < 2e6; i++) {
      live.push({ i, s: 'x' + i });
      if (live.length > 20000) live = [];
    }
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(JSON.stringify({ applied, mb: young.space_size / 2 ** 20, execArgv: process.execArgv.slice(0, 1), pid: process.pid, ppid: process.ppid }));
  `;
  const { stdout } = await run(process.execPath, [...nodeFlags, '--input-type=module', '-e', script]);
  return JSON.parse(stdout) as Awaited<ReturnType<typeof youngGeneration>>;
}

const V8_MAJOR = Number(process.versions.v8.split('.')[0]);

describe('CLI heap flags', () => {
  it("keep the young generation at V8's initial 2 MB under allocation churn", async () => {
    const r = await youngGeneration(true);
    assert.deepEqual(r.applied, ['--semi-space-growth-factor=1', '--heap-growing-percent=25']);
    if (V8_MAJOR < 13) {
      assert.ok(r.mb <= 2, `young generation ${r.mb} MB`);
    } else {
      // V8 13 (Node 24) pages its young generation: even node's own --max-semi-space-size=1 from the start ends at
      // 2-3 MB after this churn (16 runs: 14 at 2 MB, then 2.75 and 3), so 2 MB is not a bound any flag gives there.
      // What the flags must still do: keep it a small fraction of what V8's defaults grow to (~32 MB).
      const control = await youngGeneration(false);
      assert.ok(r.mb * 4 <= control.mb, `young generation ${r.mb} MB with the flags, ${control.mb} MB without`);
    }
  });

  const canRestart = process.platform !== 'win32' && typeof (process as { execve?: unknown }).execve === 'function';
  it(
    'restart the process once with --max-semi-space-size=1 where it can replace its own image (same process)',
    { skip: canRestart ? false : `no process.execve in Node ${process.version}` },
    async () => {
      const r = await youngGeneration(true);
      // Replaced in place: the output comes from the restarted image, still the child execFile started.
      assert.deepEqual(r.execArgv, ['--max-semi-space-size=1']);
      assert.equal(r.ppid, process.pid);
    },
  );

  it('without them, the same churn grows the young generation', async () => {
    const r = await youngGeneration(false);
    assert.ok(r.mb > 2, `young generation ${r.mb} MB`);
  });

  it("leave the heap alone when the user chose a semi-space size (node's own flags win)", async () => {
    const r = await youngGeneration(true, ['--max-semi-space-size=8']);
    assert.deepEqual(r.applied, []);
    assert.ok(r.mb > 2, `young generation ${r.mb} MB`);
  });
});
