/**
 * CFT_ERR_QUIC_UNAVAILABLE: what a user gets where the native QUIC binding (linux-x64 glibc only, an optional
 * dependency) cannot be loaded — a typed, non-retryable error naming the platform, and a connector that serves over
 * HTTP/2 instead. Child processes get a missing binding from a `--require` preload that fails its resolution the way
 * `npm install --omit=optional` does; src/ is not touched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QuicUnavailableError } from '../../src/transport/quic/index.js';
import { loadQuicheFor, type QuicheTarget } from '../../src/transport/quic/native.js';
import { eventsOf, spawnCli, startEdge, stopGracefully } from '../cli/child.js';
import { makeToken, startOrigin } from '../helpers/tunnel-env.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const noBinding = fileURLToPath(new URL('./fixtures/no-quic-binding.cjs', import.meta.url));
const libraryChild = fileURLToPath(new URL('./fixtures/quic-unavailable-child.ts', import.meta.url));
/** NODE_OPTIONS that make a child process lack the binding (quoted: NODE_OPTIONS splits on spaces). */
const withoutBinding = {
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(noBinding)}`.trim(),
};
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';

/** Asserts that loading for `target` throws a QuicUnavailableError; returns its message. */
function unavailableMessage(target: QuicheTarget): string {
  let caught: unknown;
  try {
    loadQuicheFor(target);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof QuicUnavailableError, `expected QuicUnavailableError, got ${String(caught)}`);
  assert.equal(caught.code, 'CFT_ERR_QUIC_UNAVAILABLE');
  assert.equal(caught.retryable, false);
  return caught.message;
}

test('a platform the binding is not built for is refused, naming the platform', () => {
  for (const [platform, arch] of [
    ['darwin', 'arm64'],
    ['linux', 'arm64'],
    ['win32', 'x64'],
  ] as const) {
    const message = unavailableMessage({ platform, arch });
    assert.ok(message.includes(`${platform}-${arch}`), message);
    assert.match(message, /built for linux-x64 only; use the http2 protocol/);
  }
});

test('a binding package that was not installed (--omit=optional) is reported with the missing module', () => {
  const message = unavailableMessage({
    platform: 'linux',
    arch: 'x64',
    modulePath: '@matrixai/quic-linux-arm64/node.napi.node',
  });
  assert.match(
    message,
    /^QUIC unavailable on linux-x64: the native binding cannot be loaded \(Cannot find module '@matrixai\/quic-linux-arm64\/node\.napi\.node'\)/,
  );
  assert.match(message, /install the optional dependency @matrixai\/quic-linux-x64/);
  assert.doesNotMatch(message, /Require stack/, 'only the first line of the loader error');
});

test('a binding that fails to load (not a shared object, as with the wrong libc) or has the wrong shape is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cftunnel-quic-binding-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const corrupt = join(dir, 'corrupt.node');
  await writeFile(corrupt, 'this is not an ELF file\n');
  assert.match(
    unavailableMessage({ platform: 'linux', arch: 'x64', modulePath: corrupt }),
    /^QUIC unavailable on linux-x64: the native binding cannot be loaded \(.*corrupt\.node.*\)/,
  );
  const wrongShape = join(dir, 'wrong-shape.cjs');
  await writeFile(wrongShape, 'module.exports = { Connection: {} };\n');
  assert.match(
    unavailableMessage({ platform: 'linux', arch: 'x64', modulePath: wrongShape }),
    /^QUIC unavailable on linux-x64: the native binding has an unexpected shape/,
  );
});

test('the installed binding loads on linux-x64', { skip: onLinuxX64 ? false : 'binding is linux-x64 only' }, () => {
  const quiche = loadQuicheFor({ platform: process.platform, arch: process.arch });
  assert.equal(typeof quiche.Connection.connect, 'function');
  assert.equal(quiche.versionIsSupported(quiche.PROTOCOL_VERSION), true);
});

test(
  'without the binding, every QUIC entry point of the library fails with CFT_ERR_QUIC_UNAVAILABLE',
  { timeout: 60_000 },
  async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--require', noBinding, '--import', 'tsx', libraryChild],
        { cwd: root, timeout: 40_000 },
        (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out)),
      );
    });
    const report = JSON.parse(stdout) as Record<
      string,
      { available?: boolean; reason?: string; name?: string; code?: string; message?: string; retryable?: boolean }
    >;
    const reason = report.availability!.reason!;
    assert.equal(report.availability!.available, false);
    assert.ok(reason.startsWith(`QUIC unavailable on ${process.platform}-${process.arch}: `), reason);
    if (onLinuxX64) assert.ok(reason.includes("Cannot find module '@matrixai/quic-linux-x64/node.napi.node'"), reason);
    for (const entry of ['connectQuic', 'listenQuic'] as const) {
      assert.deepEqual(
        report[entry],
        { name: 'QuicUnavailableError', code: 'CFT_ERR_QUIC_UNAVAILABLE', message: reason, retryable: false },
        entry,
      );
    }
    // Asking for QUIC explicitly is refused up front with the same reason, rather than retrying a dial forever.
    assert.deepEqual(report.tunnelWithQuic, {
      name: 'QuicUnavailableError',
      code: 'CFT_ERR_QUIC_UNAVAILABLE',
      message: reason,
      retryable: false,
    });
  },
);

test(
  'without the binding, `tunnel run` (default protocol auto) registers over HTTP/2 and serves visitors through the edge',
  { timeout: 60_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cftunnel-no-quic-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const origin = await startOrigin((req, res) => res.end(`origin saw ${req.url}`));
    t.after(() => origin.close());
    const { token } = makeToken();
    // The edge is a normal process serving QUIC and HTTP/2; only the connector lacks the binding.
    const { child: edge, info } = await startEdge(token, join(dir, 'certs'), t);
    const connector = spawnCli(
      [
        'tunnel',
        'run',
        '--token',
        token,
        '--edge',
        info.edge,
        '--cacert',
        info.ca,
        '--url',
        origin.url,
        '--ha-connections',
        '1',
        '--metrics',
        '127.0.0.1:0',
        '--output',
        'default',
      ],
      withoutBinding,
    );
    t.after(() => connector.kill());

    assert.match(
      await connector.waitForLine(/ INF Registered tunnel connection connIndex=0 /, 'stderr'),
      / protocol=http2$/,
    );
    assert.ok(
      connector.stderrLines.some((l) => / INF Initial protocol http2$/.test(l)),
      connector.allOutput(),
    );
    assert.ok(
      connector.stderrLines.some((l) => / INF QUIC unavailable on \S+: .*; using http2$/.test(l)),
      connector.allOutput(),
    );
    assert.deepEqual(
      eventsOf(edge, 'register').map((r) => r.protocol),
      ['http2'],
    );
    const res = await fetch(`${info.http}/over/http2?q=1`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'origin saw /over/http2?q=1');

    await stopGracefully(connector);
    await stopGracefully(edge);
  },
);

test(
  'without the binding, `tunnel run --protocol quic` and `edge --quic=true` exit at once with the reason; `edge` serves HTTP/2 alone by default',
  { timeout: 60_000 },
  async (t) => {
    const { token } = makeToken();
    const quicOnly = spawnCli(
      [
        'tunnel',
        'run',
        '--token',
        token,
        '--edge',
        '127.0.0.1:9',
        '--protocol',
        'quic',
        '--url',
        'http://127.0.0.1:9',
        '--metrics',
        '127.0.0.1:0',
      ],
      withoutBinding,
    );
    t.after(() => quicOnly.kill());
    const edgeQuic = spawnCli(
      ['edge', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--token', token, '--quic=true'],
      withoutBinding,
    );
    t.after(() => edgeQuic.kill());

    assert.equal((await quicOnly.exited).code, 1, quicOnly.allOutput());
    assert.ok(
      quicOnly.stderrLines.some((l) => /^cftunnel: error: QUIC unavailable on \S+: /.test(l)),
      quicOnly.allOutput(),
    );

    assert.equal((await edgeQuic.exited).code, 1, edgeQuic.allOutput());
    assert.ok(
      edgeQuic.stderrLines.some((l) => /^cftunnel: error: QUIC unavailable on \S+: /.test(l)),
      edgeQuic.allOutput(),
    );

    // Without --quic the edge says why and serves HTTP/2 alone (so `cftunnel demo` works where QUIC cannot).
    const dir = await mkdtemp(join(tmpdir(), 'cftunnel-no-quic-edge-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const http2Edge = spawnCli(
      ['edge', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--token', token, '--certs', join(dir, 'certs')],
      withoutBinding,
    );
    t.after(() => http2Edge.kill());
    assert.match(await http2Edge.waitForLine(/"event":"quic_unavailable"/), /QUIC unavailable on \S+: /);
    await http2Edge.waitForLine(/"event":"listening"/);
    await stopGracefully(http2Edge);
  },
);

test(
  "without the binding, `cftunnel demo` (the README's first command) still serves its URL, over HTTP/2",
  { timeout: 90_000 },
  async (t) => {
    const demo = spawnCli(['demo'], withoutBinding);
    t.after(() => demo.kill());
    const up = await demo.waitForLine(/^cftunnel demo is up: curl http:\/\/127\.0\.0\.1:\d+\/$/);
    await demo.waitForLine(/^ {2}connection 0: protocol=http2 /);
    const res = await fetch(up.slice(up.indexOf('http://')));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^Hello from the cftunnel demo origin!/);
    demo.process.kill('SIGINT');
    assert.deepEqual(await demo.exited, { code: 0, signal: null }, demo.allOutput());
  },
);
