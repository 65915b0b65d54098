/**
 * scripts/build-if-stale.mjs, the `prepare` and `npm run demo` build step: it rebuilds only when src/ or the build
 * configuration changed since the last build, and always says first what it does (npm's first build is 8-25 s of
 * tsc that used to be silent).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const script = join(root, 'scripts', 'build-if-stale.mjs');
const { distIsFresh, STAMP } = (await import(script)) as { distIsFresh(root: string): boolean; STAMP: string };

/** A project tree whose files all date from `t0`, with a build stamp from `stampAt`. */
function project(t0: Date, stampAt: Date | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'cftunnel-stale-'));
  for (const d of ['src/cli', 'dist/src']) mkdirSync(join(dir, d), { recursive: true });
  for (const f of [
    'src/index.ts',
    'src/cli/main.ts',
    'tsconfig.json',
    'tsconfig.build.json',
    'package.json',
    'dist/src/index.js',
  ]) {
    writeFileSync(join(dir, f), '');
    utimesSync(join(dir, f), t0, t0);
  }
  for (const d of ['src/cli', 'src']) utimesSync(join(dir, d), t0, t0);
  if (stampAt !== undefined) {
    writeFileSync(join(dir, STAMP), '');
    utimesSync(join(dir, STAMP), stampAt, stampAt);
  }
  return dir;
}

test('dist/ is fresh only when built after every source and build-configuration change', (t) => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const later = new Date('2026-01-01T00:01:00Z');
  const latest = new Date('2026-01-01T00:02:00Z');
  const dirs: string[] = [];
  t.after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const make = (stampAt: Date | undefined): string => {
    const d = project(t0, stampAt);
    dirs.push(d);
    return d;
  };

  assert.equal(distIsFresh(make(later)), true, 'built after everything');
  assert.equal(distIsFresh(make(undefined)), false, 'never built by the script');

  const edited = make(later);
  utimesSync(join(edited, 'src/cli/main.ts'), latest, latest);
  assert.equal(distIsFresh(edited), false, 'a nested source edited after the build');

  const added = make(later);
  writeFileSync(join(added, 'src/cli/new.ts'), '');
  assert.equal(distIsFresh(added), false, 'a source added after the build');

  const reconfigured = make(later);
  utimesSync(join(reconfigured, 'tsconfig.build.json'), latest, latest);
  assert.equal(distIsFresh(reconfigured), false, 'build configuration changed');

  const wiped = make(later);
  rmSync(join(wiped, 'dist/src/index.js'));
  assert.equal(distIsFresh(wiped), false, 'output missing');
});

test('the script says what it does before doing it', async () => {
  const child = spawn(process.execPath, [script], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const [first] = (await once(createInterface({ input: child.stderr! }), 'line')) as [string];
  assert.match(
    first,
    /^cftunnel: (dist\/ is up to date with src\/; not rebuilding|compiling TypeScript into dist\/ .*)$/,
  );
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0);
});
