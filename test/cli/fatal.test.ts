/**
 * The CLI's last-resort fatal handler (issue 14): an uncaught exception or an unhandled rejection during a run is
 * logged once, in the run's log format, and the process exits non-zero so a service manager restarts it. The library
 * itself adds no process listeners.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LocalEdge } from '../../src/local-edge/index.js';
import { DIAGNOSTICS_CHANNELS } from '../../src/observability/diagnostics.js';
import { startTunnel } from '../../src/index.js';
import { makeToken, startOrigin } from '../helpers/tunnel-env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `cftunnel run` with a preload that fails the way `failure` says once the first connection registered. */
async function crashAfterConnect(
  failure: 'throw' | 'reject',
  output: 'json' | 'default',
): Promise<{ code: number | null; stderr: string[] }> {
  const { token } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token] });
  const dir = mkdtempSync(join(tmpdir(), 'cftunnel-fatal-'));
  try {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, edge.caPem);
    const preload = join(dir, 'fail-after-connect.mjs');
    const act =
      failure === 'throw' ? `throw new Error('injected bug')` : `void Promise.reject(new Error('injected rejection'))`;
    writeFileSync(
      preload,
      `import diagnostics from 'node:diagnostics_channel';
diagnostics.subscribe(${JSON.stringify(DIAGNOSTICS_CHANNELS.connectionConnected)}, () => setImmediate(() => { ${act}; }));
`,
    );
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        pathToFileURL(preload).href,
        'test/helpers/run-cli.ts',
        'run',
        '--token',
        token,
        '--edge',
        `127.0.0.1:${edge.address.port}`,
        '--cacert',
        ca,
        '--url',
        'http://127.0.0.1:1',
        '--protocol',
        'http2',
        '--ha-connections',
        '1',
        '--output',
        output,
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stderr: stderr.split('\n').filter((l) => l !== '') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await edge.close();
  }
}

test(
  'an uncaught exception during a run is logged as a fatal JSON log line and exits 1',
  { timeout: 120_000 },
  async () => {
    const { code, stderr } = await crashAfterConnect('throw', 'json');
    assert.equal(code, 1, stderr.join('\n'));
    assert.doesNotThrow(() => JSON.parse(stderr.at(-1)!), stderr.join('\n'));
    const last = JSON.parse(stderr.at(-1)!) as {
      level: string;
      message: string;
      time: string;
      err: { message: string };
    };
    assert.equal(last.level, 'fatal');
    assert.equal(last.message, 'cftunnel stopped after an uncaught exception');
    assert.equal(last.err.message, 'injected bug');
    assert.ok(
      stderr.some((l) => l.includes('Registered tunnel connection')),
      'it had connected first',
    );
  },
);

test(
  'an unhandled rejection during a run is logged as a console FTL line and exits 1',
  { timeout: 120_000 },
  async () => {
    const { code, stderr } = await crashAfterConnect('reject', 'default');
    assert.equal(code, 1, stderr.join('\n'));
    assert.match(
      stderr.at(-1)!,
      /^\S+Z FTL cftunnel stopped after an unhandled promise rejection error="?injected rejection"?/,
      stderr.join('\n'),
    );
  },
);

test('the library adds no process listeners (running and closing a tunnel)', async () => {
  const events = [
    'uncaughtException',
    'unhandledRejection',
    'SIGINT',
    'SIGTERM',
    'exit',
    'beforeExit',
    'warning',
  ] as const;
  const counts = (): number[] => events.map((e) => process.listenerCount(e));
  const before = counts();
  const { token } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token] });
  const origin = await startOrigin((_req, res) => res.end('ok'));
  const tunnel = await startTunnel({
    token,
    url: origin.url,
    edge: [`127.0.0.1:${edge.address.port}`],
    caCert: edge.caPem,
    protocol: 'http2',
  });
  assert.deepEqual(counts(), before);
  await tunnel.close({ graceMs: 0 });
  await origin.close();
  await edge.close();
  assert.deepEqual(counts(), before);
});
