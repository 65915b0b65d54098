#!/usr/bin/env node
// Builds dist/ with tsc unless it is newer than every input, and says so either way: `npm install` (the `prepare`
// script) and `npm run demo` would otherwise sit silent for the 8-24 s tsc takes on a small machine.
// Usage: node scripts/build-if-stale.mjs [--force]
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Written after a successful build; its mtime is the build time. Not shipped (outside dist/src). */
export const STAMP = 'dist/.build-stamp';
/** What the build reads besides src/. */
const CONFIG_INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** True when `root`'s dist/ was built after the last change to src/ and the build configuration. */
export function distIsFresh(root) {
  const stamp = join(root, STAMP);
  if (!existsSync(stamp) || !existsSync(join(root, 'dist', 'src', 'index.js'))) return false;
  const inputs = [join(root, 'src'), ...CONFIG_INPUTS.map((f) => join(root, f)).filter((p) => existsSync(p))];
  return Math.max(...inputs.map(newestMtime)) < statSync(stamp).mtimeMs;
}

function main() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (!process.argv.includes('--force') && distIsFresh(root)) {
    process.stderr.write('cftunnel: dist/ is up to date with src/; not rebuilding\n');
    return 0;
  }
  process.stderr.write('cftunnel: compiling TypeScript into dist/ (tsc; takes 10-25 s on a small machine)...\n');
  // From scratch: files of renamed or deleted sources would otherwise stay in dist/ (and be packed).
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) return r.status ?? 1;
  writeFileSync(join(root, STAMP), `${new Date().toISOString()}\n`);
  process.stderr.write('cftunnel: build done\n');
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main();
