/** /ready follows connection state; /metrics exposes cloudflared's series (docs/protocol.md §13). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { LocalEdge } from '../../src/local-edge/index.js';
import { Tunnel } from '../../src/tunnel.js';
import { makeToken, startOrigin } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';

test('/ready is 200 while connections are registered and 503 when none is; /metrics counts requests', async () => {
  const { token, secret } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token] });
  const origin = await startOrigin((_req, res) => res.end('ok'));
  const tunnel = new Tunnel({
    token,
    url: origin.url,
    edge: [`127.0.0.1:${edge.address.port}`],
    caCert: edge.caPem,
    protocol: 'http2',
    metrics: '127.0.0.1:0',
  });
  try {
    await tunnel.ready();
    const base = `http://${tunnel.metricsAddress}`;
    const ready = await fetch(`${base}/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), {
      status: 200,
      readyConnections: 1,
      connectorId: tunnel.identity.connectorId,
    });
    assert.equal(await (await fetch(`${base}/healthcheck`)).text(), 'OK\n');

    assert.equal((await visit(edge.visitorUrl)).status, 200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^cloudflared_tunnel_total_requests 1$/m);
    assert.match(metrics, /^cloudflared_tunnel_ha_connections 1$/m);
    assert.match(metrics, /^cloudflared_tunnel_response_by_code\{status_code="200"\} 1$/m);
    assert.match(metrics, /^cloudflared_tunnel_tunnel_register_success\{rpcName="registerConnection"\} 1$/m);
    // The registration RPC is counted where it is called (§13.2).
    assert.match(
      metrics,
      /^cloudflared_rpc_client_operations\{handler="registration",method="register_connection"\} 1$/m,
    );
    assert.match(
      metrics,
      /^cloudflared_rpc_client_latency_secs_count\{handler="registration",method="register_connection"\} 1$/m,
    );
    assert.match(metrics, /^cloudflared_tunnel_server_locations\{connection_id="0",edge_location="TST"\} 1$/m);
    for (const needle of [token, secret.toString('base64'), secret.toString('hex')])
      assert.ok(!metrics.includes(needle));

    // Keep the edge refusing so the connection stays down, then drop it.
    edge.registrationDecider = () => ({ accept: false, cause: 'server busy', shouldRetry: true });
    const disconnected = once(tunnel, 'disconnected');
    edge.dropAll();
    await disconnected;
    const notReady = await fetch(`${base}/ready`);
    assert.equal(notReady.status, 503);
    assert.deepEqual(await notReady.json(), {
      status: 503,
      readyConnections: 0,
      connectorId: tunnel.identity.connectorId,
    });
  } finally {
    await tunnel.close({ graceMs: 0 });
    await edge.close();
    await origin.close();
  }
});
