/** The local edge holds tunnel tokens in its options: inspecting it (console.log, util.inspect) must not show them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { LocalEdge } from '../../src/local-edge/index.js';
import { makeToken } from '../helpers/tunnel-env.js';

test('util.inspect(edge) shows addresses and tunnel ids, never a token or secret', async (t) => {
  const tunnel = makeToken();
  const edge = await LocalEdge.start({ tunnels: [tunnel.token], transports: { quic: false, http2: true } });
  t.after(() => edge.close());
  const text = inspect(edge, { depth: 10, showHidden: true });
  assert.match(text, /LocalEdge/);
  assert.ok(text.includes(tunnel.tunnelId), 'the tunnel id is shown');
  assert.ok(text.includes(String(edge.address.port)), 'the edge port is shown');
  assert.ok(!text.includes(tunnel.token), 'no token');
  assert.ok(!text.includes(tunnel.secret.toString('base64')), 'no secret');
});
