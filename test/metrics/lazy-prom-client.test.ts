import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { Registry, Counter } from 'prom-client';
import { TunnelMetrics } from '../../src/metrics/index.js';

const run = promisify(execFile);
const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));
const METRICS = new URL('../../src/metrics/index.ts', import.meta.url).href;

/** A TunnelMetrics with every kind of series updated. */
async function populated(): Promise<TunnelMetrics> {
  const m = new TunnelMetrics({ buildInfo: { version: '0.1.0', type: 'cftunnel', revision: 'a"b\\c\nd' } });
  m.haConnectionStarted();
  m.haConnectionStarted();
  m.haConnectionEnded();
  m.requestStarted();
  m.requestStarted();
  m.requestFinished();
  m.originResponse(200);
  m.originResponse(404);
  m.originResponse(200);
  m.requestError();
  m.registered(0, 'lhr01');
  m.registered(1, 'ams01');
  m.registered(0, 'cdg01');
  m.registrationFailed('server_error');
  m.localConfigPushed(false);
  m.configVersion(12);
  await m.observeRpcClient('registration', 'register_connection', async () => undefined);
  await m
    .observeRpcClient('registration', 'register_connection', () => Promise.reject(new Error('x')))
    .catch(() => undefined);
  await m.observeRpcServer('config', 'update_configuration', async () => undefined);
  return m;
}

describe('TunnelMetrics without prom-client (§13.2)', () => {
  it("prints exactly what prom-client's Registry prints for the same metrics", async () => {
    const m = await populated();
    const own = await m.exposition();
    // Reading the registry builds it from the same metrics; from then on the exposition is the Registry's.
    const viaRegistry = await m.registry.metrics();
    assert.equal(own, viaRegistry);
    assert.equal(await m.exposition(), viaRegistry);
    assert.equal(m.contentType, m.registry.contentType);
  });

  it('serves metrics added to its registry, and merges into another registry', async () => {
    const m = await populated();
    new Counter({ name: 'app_hits', help: 'hits', registers: [m.registry] }).inc(3);
    assert.match(await m.exposition(), /^app_hits 3$/m);
    const merged = Registry.merge([m.registry, new Registry()]);
    assert.match(await merged.metrics(), /^cloudflared_tunnel_total_requests 2$/m);
  });

  it('does not load prom-client until its registry is asked for', async () => {
    const script = `
      import { createRequire } from 'node:module';
      const { TunnelMetrics } = await import(${JSON.stringify(METRICS)});
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/prom-client/'));
      const m = new TunnelMetrics({ buildInfo: { version: '1' } });
      m.requestStarted();
      m.originResponse(200);
      await m.observeRpcClient('registration', 'register_connection', async () => undefined);
      const text = await m.exposition();
      const before = loaded();
      m.registry;
      console.log(JSON.stringify({ before, after: loaded(), total: /^cloudflared_tunnel_total_requests 1$/m.test(text) }));
    `;
    const { stdout } = await run(process.execPath, ['--import', TSX, '--input-type=module', '-e', script]);
    assert.deepEqual(JSON.parse(stdout), { before: false, after: true, total: true });
  });
});
