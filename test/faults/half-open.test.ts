/**
 * HTTP/2 over a path that goes silent without FIN or RST (half-open TCP). The connector must notice and reconnect.
 * cloudflared relies on TCP keepalive for this, which a kernel that keeps acknowledging never trips; cftunnel's
 * HTTP/2 liveness PINGs notice the silence. A reset path is noticed at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalEdge } from '../../src/local-edge/index.js';
import { Tunnel } from '../../src/tunnel.js';
import { makeToken } from '../helpers/tunnel-env.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { nextEvents } from './events.js';
import { withTestHooks } from '../../src/internal/test-hooks.js';
import { CftunnelError } from '../../src/errors.js';

async function throughProxy() {
  const { token } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token], transports: { http2: true, quic: false } });
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: edge.address.port });
  const tunnel = new Tunnel(
    withTestHooks(
      { token, edge: [`127.0.0.1:${proxy.port}`], caCert: edge.caPem, protocol: 'http2', haConnections: 1 },
      { http2PingIntervalMs: 500 },
    ),
  );
  await tunnel.ready();
  return {
    tunnel,
    proxy,
    async close() {
      await tunnel.close({ graceMs: 0 });
      await proxy.close();
      await edge.close();
    },
  };
}

test('http2: a reset path is noticed and the connection re-registers', { timeout: 30_000 }, async () => {
  const env = await throughProxy();
  try {
    const lost = nextEvents<[{ error: Error | undefined }]>(env.tunnel, 'disconnected', 1);
    const retry = nextEvents<[{ error: Error }]>(env.tunnel, 'reconnecting', 1);
    const back = nextEvents(env.tunnel, 'connected', 1);
    env.proxy.resetAll();
    // The edge's end gave no cause of its own: users still get a typed error (docs/errors.md).
    const gone = (await lost)[0]?.[0].error;
    assert.ok(gone instanceof CftunnelError && gone.code === 'CFT_ERR_CONNECTION_CLOSED', String(gone));
    const again = (await retry)[0]?.[0].error;
    assert.ok(again instanceof CftunnelError && again.code === 'CFT_ERR_CONNECTION_CLOSED', String(again));
    await back;
    assert.equal(env.tunnel.connections.length, 1);
  } finally {
    await env.close();
  }
});

test('http2: a silent half-open path is noticed and the connection re-registers', { timeout: 30_000 }, async () => {
  const env = await throughProxy();
  try {
    const lost = nextEvents(env.tunnel, 'disconnected', 1);
    env.proxy.stall();
    await lost;
  } finally {
    env.proxy.resume();
    await env.close();
  }
});
