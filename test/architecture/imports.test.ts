/**
 * Imports go one way (README "Layout"): no import cycle between files, between folders at any depth, or between
 * modules (top-level folders of src/ and the files directly in it), and no import against the layer order of `LAYERS` in ./import-graph.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  cycles,
  folderGraph,
  importSpecifiers,
  layerViolations,
  moduleGraph,
  readImportGraph,
  type ImportGraph,
} from './import-graph.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * Known violations inside the connection core, which is being rewritten on another branch; each names its fix.
 * The test fails when one of them disappears (delete the entry) as well as when a new one appears.
 */
const KNOWN_LAYER_VIOLATIONS: Record<string, string> = {};
const KNOWN_FILE_CYCLES: Record<string, string> = {};
const KNOWN_MODULE_CYCLES: Record<string, string> = {};

const graph = readImportGraph(SRC);

describe('the import graph of src/', () => {
  it('has no import against the layer order but the known ones', () => {
    const found = layerViolations(graph).map((v) => `${v.from} -> ${v.to}`);
    assert.deepEqual(
      found.sort(),
      Object.keys(KNOWN_LAYER_VIOLATIONS).sort(),
      layerViolations(graph)
        .map((v) => `${v.from} -> ${v.to}: ${v.reason}`)
        .join('\n'),
    );
  });

  it('has no import cycle between files but the known ones', () => {
    assert.deepEqual(
      cycles(graph)
        .map((c) => c.join(' '))
        .sort(),
      Object.keys(KNOWN_FILE_CYCLES).sort(),
    );
  });

  it('has no import cycle between modules (top-level folders) but the known ones', () => {
    assert.deepEqual(
      cycles(moduleGraph(graph))
        .map((c) => c.join(' '))
        .sort(),
      Object.keys(KNOWN_MODULE_CYCLES).sort(),
    );
  });

  it('has no import cycle between folders at any depth (a folder and its subfolder included)', () => {
    assert.deepEqual(cycles(folderGraph(graph)), []);
  });

  it('sees the imports it checks (the graph is not empty and includes type-only and dynamic imports)', () => {
    assert.ok(graph.size > 100);
    assert.ok(graph.get('index.ts')!.includes('tunnel.ts'));
    // `import type` only:
    assert.ok(graph.get('local-edge/quic-side.ts')!.includes('local-edge/router.ts'));
  });
});

describe('the rules themselves', () => {
  const g = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

  it('parse static, type-only, re-export, side-effect and dynamic imports', () => {
    const text = [
      "import a from './a.js';",
      "import type { B } from '../b.js';",
      "export * from './c.js';",
      "export { d } from './d.js';",
      "import './e.js';",
      "const f = await import('./f.js');",
      "import fs from 'node:fs';",
    ].join('\n');
    assert.deepEqual(importSpecifiers(text), ['./a.js', '../b.js', './c.js', './d.js', './e.js', './f.js']);
  });

  it('reject an import against the grain (the pairs the layout once had)', () => {
    const bad = g({
      'ingress/origin-request.ts': ['cli/go-duration.ts'],
      'proxy/headers.ts': ['connection/serialized-headers.ts'],
      'edge-discovery/protocol-percentage.ts': ['connection/types.ts'],
      'local-edge/quic-side.ts': ['connection/edge-request.ts'],
      'local-edge/visitor.ts': ['proxy/headers.ts'],
      'supervisor/supervisor.ts': ['local-edge/edge.ts'],
      'errors.ts': ['tunnel.ts'],
    });
    assert.deepEqual(
      layerViolations(bad).map((v) => v.from),
      [
        'ingress/origin-request.ts',
        'proxy/headers.ts',
        'edge-discovery/protocol-percentage.ts',
        'local-edge/quic-side.ts',
        'local-edge/visitor.ts',
        'supervisor/supervisor.ts',
        'errors.ts',
      ],
    );
  });

  it('accept imports down the layers and within a module', () => {
    const good = g({
      'cli/main.ts': ['tunnel.ts', 'local-edge/index.ts', 'util/go-duration.ts'],
      'connection/control.ts': ['rpc/errors.ts', 'proxy/index.ts', 'connection/types.ts'],
      'local-edge/quic-side.ts': ['wire/preamble.ts', 'transport/quic/index.ts', 'rpc/tunnel/codec.ts'],
      'tunnel.ts': ['tunnel-options.ts', 'supervisor/supervisor.ts'],
    });
    assert.deepEqual(layerViolations(good), []);
  });

  it('reject a module in no layer', () => {
    assert.equal(layerViolations(g({ 'newthing/a.ts': ['util/x.ts'] }))[0]?.reason, 'newthing is in no layer');
  });

  it('find file and module cycles, and only cycles', () => {
    assert.deepEqual(cycles(g({ 'a/x.ts': ['a/y.ts'], 'a/y.ts': ['a/z.ts'], 'a/z.ts': ['a/x.ts'] })), [
      ['a/x.ts', 'a/y.ts', 'a/z.ts'],
    ]);
    assert.deepEqual(cycles(g({ 'a/x.ts': ['a/x.ts'] })), [['a/x.ts']]);
    assert.deepEqual(cycles(g({ 'a/x.ts': ['a/y.ts'], 'a/y.ts': ['b/z.ts'] })), []);
    const folderCycle = g({ 'a/x.ts': ['b/y.ts'], 'b/y.ts': [], 'b/z.ts': ['a/w.ts'], 'a/w.ts': [] });
    assert.deepEqual(cycles(folderCycle), []);
    assert.deepEqual(cycles(moduleGraph(folderCycle)), [['a', 'b']]);
    const nested = g({ 'a/x.ts': ['a/b/y.ts'], 'a/b/y.ts': ['a/z.ts'], 'a/z.ts': [] });
    assert.deepEqual(cycles(moduleGraph(nested)), []);
    assert.deepEqual(cycles(folderGraph(nested)), [['a', 'a/b']]);
  });
});
