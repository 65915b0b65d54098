/**
 * Plain-JavaScript copies of `src/` and `bench/` for the child processes. Under `node --import tsx` every process
 * carries tsx's loader thread and transform cache (~40 MB of RSS on this machine: a bare `node:http` origin reads
 * ~85 MB under tsx), which would drown the connector's own memory figures. esbuild (tsx's own transpiler) turns each
 * file into the `.js` next to where `tsc` would put it, keeping paths, so CPU profiles still name our files.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readlinkSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Where the transpiled tree goes: outside the repository so nothing generated can be committed by accident; a
 * `node_modules` link and a `"type": "module"` package.json make it resolve like the repository. One per checkout:
 * two checkouts benchmarked at the same time would otherwise overwrite each other's compiled code (and share one
 * checkout's node_modules), each measuring a mix of both.
 */
export const COMPILED_ROOT = join(
  tmpdir(),
  `cftunnel-bench-${process.getuid?.() ?? 0}-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12)}`,
);

function prepareRoot(): void {
  mkdirSync(COMPILED_ROOT, { recursive: true });
  writeFileSync(join(COMPILED_ROOT, 'package.json'), '{"type":"module","private":true}\n');
  const link = join(COMPILED_ROOT, 'node_modules');
  const target = join(REPO_ROOT, 'node_modules');
  try {
    symlinkSync(target, link, 'dir');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (readlinkSync(link) !== target) {
      unlinkSync(link);
      symlinkSync(target, link, 'dir');
    }
  }
}

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

let compiled: Promise<void> | undefined;

/** Transpiles `src/**` and `bench/{procs,harness}/**` into {@link COMPILED_ROOT} once per driver run. */
export function compileForChildren(): Promise<void> {
  compiled ??= (async () => {
    prepareRoot();
    const entryPoints = [
      join(REPO_ROOT, 'src'),
      join(REPO_ROOT, 'bench/procs'),
      join(REPO_ROOT, 'bench/harness'),
    ].flatMap((d) => tsFiles(d));
    await build({
      entryPoints,
      outdir: COMPILED_ROOT,
      outbase: REPO_ROOT,
      bundle: false,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
    });
  })();
  return compiled;
}

/** Path of the compiled copy of `bench/procs/<script>.ts`. */
export function compiledProcPath(script: string): string {
  return join(COMPILED_ROOT, 'bench/procs', `${script}.js`);
}
