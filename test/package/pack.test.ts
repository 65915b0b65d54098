/**
 * What `npm pack` ships: the compiled library and CLI, their types, the TypeScript sources the source maps point at,
 * LICENSE and README — and no tests, fixtures, benchmarks or build leftovers. Needs `npm run build` first (as
 * `npm test` does); `--ignore-scripts` keeps pack from rebuilding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface PackResult {
  files: Array<{ path: string }>;
}

function packedFiles(): string[] {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  return (JSON.parse(out) as PackResult[])[0]!.files.map((f) => f.path).sort();
}

test('npm pack ships LICENSE, README, bin, dist and the sources, and nothing from tests, fixtures or tooling', () => {
  const files = packedFiles();
  const shipped = new Set(files);
  for (const required of [
    'LICENSE',
    'README.md',
    'package.json',
    'bin/cftunnel.js',
    'dist/src/index.js',
    'dist/src/index.d.ts',
    'dist/src/cli/main.js',
    'dist/src/local-edge/index.js',
    'dist/src/local-edge/index.d.ts',
    'src/index.ts',
    'src/capnp/schema/tunnelrpc.capnp',
  ]) {
    assert.ok(shipped.has(required), `${required} is not in the package (built? run npm run build)`);
  }
  const forbidden = [
    /^test\//,
    /fixtures/,
    /^bench\//,
    /^examples\//,
    /^scripts\//,
    /^docs\//,
    /\.test\.[cm]?[jt]s$/,
    /node_modules/,
    /\.tsbuildinfo$/,
    /build-stamp/,
    /^dist\/(?!src\/)/,
    /^\.tmp\//,
  ];
  for (const f of files) for (const re of forbidden) assert.doesNotMatch(f, re, `${f} must not be shipped`);
});

test('every entry point of package.json (main, types, exports, bin) is in the package', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    main: string;
    types: string;
    bin: Record<string, string>;
    exports: Record<string, string | Record<string, string>>;
  };
  const shipped = new Set(packedFiles());
  const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin)];
  for (const entry of Object.values(pkg.exports))
    targets.push(...(typeof entry === 'string' ? [entry] : Object.values(entry)));
  for (const target of targets) assert.ok(shipped.has(posix.normalize(target)), `${target} is not shipped`);
});

test('every shipped source map points at a shipped source file', () => {
  const files = packedFiles();
  const shipped = new Set(files);
  const maps = files.filter((f) => f.endsWith('.map'));
  assert.ok(maps.length > 100, 'the build emits source maps');
  for (const map of maps) {
    const { sources, sourceRoot } = JSON.parse(readFileSync(join(root, map), 'utf8')) as {
      sources: string[];
      sourceRoot?: string;
    };
    for (const source of sources) {
      const resolved = posix.normalize(posix.join(dirname(map), sourceRoot ?? '', source));
      assert.ok(shipped.has(resolved), `${map} points at ${resolved}, which is not shipped`);
    }
  }
});

test('package.json carries the metadata a registry page needs', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(pkg.license, 'Apache-2.0');
  assert.match(String((pkg.repository as { url?: string } | undefined)?.url), /^git\+https:\/\/github\.com\/.+\.git$/);
  assert.match(String(pkg.homepage), /^https:\/\//);
  assert.ok(Array.isArray(pkg.keywords) && pkg.keywords.includes('cloudflare-tunnel'));
  assert.match(
    readFileSync(join(root, 'LICENSE'), 'utf8'),
    /Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS/,
  );
});
