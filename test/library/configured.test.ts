/**
 * `tunnel.configured()` and the `configuration` event: `ready()` resolves when connection 0 registered, before the
 * remote configuration (docs/protocol.md §9.3) arrives; `configured()` waits for it and reports its hostnames.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalEdge } from '../../src/local-edge/index.js';
import { Tunnel, hasErrorCode, type ConfigurationEvent } from '../../src/index.js';
import { makeToken, startOrigin, startTunnelEnv } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';

/** 'settled' when `p` has already settled, else 'pending' (no timing: one microtask race). */
async function state(p: Promise<unknown>): Promise<'settled' | 'pending'> {
  return Promise.race([
    p.then(
      () => 'settled' as const,
      () => 'settled' as const,
    ),
    Promise.resolve('pending' as const),
  ]);
}

for (const protocol of ['quic', 'http2'] as const) {
  test(`${protocol}: configured() waits past ready() for the pushed configuration; one configuration event per version`, async () => {
    const origin = await startOrigin((_req, res) => res.end('routed'));
    const env = await startTunnelEnv({ protocol, haConnections: 2 });
    try {
      const events: ConfigurationEvent[] = [];
      env.tunnel.on('configuration', (e) => events.push(e));
      const configured = env.tunnel.configured();
      assert.equal(await state(configured), 'pending', 'registered, but no configuration yet');
      assert.equal((await visit(env.edge.visitorUrl, { host: 'app.example.com' })).status, 503);

      const v1 = {
        ingress: [
          { hostname: 'app.example.com', service: origin.url },
          { hostname: '*.dev.example.com', service: origin.url },
          { service: 'http_status:404' },
        ],
      };
      await env.edge.pushConfig(1, v1);
      const first = await configured;
      assert.equal(first.source, 'remote');
      assert.equal(first.version, 1);
      assert.deepEqual(first.hostnames, ['app.example.com', '*.dev.example.com']);
      assert.equal((await visit(env.edge.visitorUrl, { host: 'app.example.com' })).body.toString(), 'routed');

      await env.edge.pushConfig(2, {
        ingress: [
          { hostname: 'api.example.com', service: origin.url },
          { hostname: 'api.example.com', path: '^/v2', service: origin.url },
          { service: 'http_status:404' },
        ],
      });
      // Both connections carried each push; the event fires once per applied version.
      assert.deepEqual(
        events.map((e) => [e.version, e.hostnames]),
        [
          [1, ['app.example.com', '*.dev.example.com']],
          [2, ['api.example.com']],
        ],
      );
      assert.equal(await env.tunnel.configured(), first, 'configured() keeps answering the first configuration');
    } finally {
      await env.close();
      await origin.close();
    }
  });
}

test('a configuration the edge pushes right after registration: await configured() and route at once', async () => {
  const origin = await startOrigin((_req, res) => res.end('from-dashboard-rule'));
  const { token } = makeToken();
  const edge = await LocalEdge.start({
    tunnels: [token],
    config: {
      version: 7,
      config: { ingress: [{ hostname: 'shop.example.com', service: origin.url }, { service: 'http_status:404' }] },
    },
  });
  const tunnel = new Tunnel({
    token,
    edge: [`127.0.0.1:${edge.address.port}`],
    caCert: edge.caPem,
    protocol: 'http2',
    haConnections: 1,
  });
  try {
    const { version, hostnames } = await tunnel.configured();
    assert.deepEqual([version, hostnames], [7, ['shop.example.com']]);
    assert.equal((await visit(edge.visitorUrl, { host: 'shop.example.com' })).body.toString(), 'from-dashboard-rule');
  } finally {
    await tunnel.close({ graceMs: 0 });
    await edge.close();
    await origin.close();
  }
});

test('a locally managed tunnel is configured by its own rules once registered (source local, version -1)', async () => {
  const origin = await startOrigin((_req, res) => res.end('local'));
  const env = await startTunnelEnv({
    protocol: 'http2',
    edge: { remotelyManaged: false },
    tunnel: { ingress: [{ hostname: 'local.example.com', service: origin.url }, { service: 'http_status:404' }] },
  });
  try {
    const event = await env.tunnel.configured();
    assert.deepEqual([event.source, event.version, event.hostnames], ['local', -1, ['local.example.com']]);
    assert.equal((await visit(env.edge.visitorUrl, { host: 'local.example.com' })).body.toString(), 'local');
  } finally {
    await env.close();
    await origin.close();
  }
});

test('configured() rejects with CFT_ERR_ABORTED when the tunnel closes before any configuration', async () => {
  const env = await startTunnelEnv({ protocol: 'http2' });
  const configured = env.tunnel.configured();
  await env.close();
  await assert.rejects(configured, (err) => hasErrorCode(err, 'CFT_ERR_ABORTED'));
});

test('configured() rejects like ready() when startup fails for good', async () => {
  const { token } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token] });
  edge.registrationDecider = () => ({ accept: false, cause: 'tunnel deleted', shouldRetry: false });
  const tunnel = new Tunnel({
    token,
    edge: [`127.0.0.1:${edge.address.port}`],
    caCert: edge.caPem,
    protocol: 'http2',
    haConnections: 1,
  });
  try {
    await assert.rejects(tunnel.ready(), (err) => hasErrorCode(err, 'CFT_ERR_INITIAL_CONNECTION'));
    await assert.rejects(tunnel.configured(), (err) => hasErrorCode(err, 'CFT_ERR_INITIAL_CONNECTION'));
  } finally {
    await tunnel.close({ graceMs: 0 });
    await edge.close();
  }
});
