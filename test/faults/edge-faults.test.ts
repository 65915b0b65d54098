/**
 * Edge-side faults (issue 9): the edge drops one or all HA connections, restarts on the same port, or goes silent
 * on QUIC. The connector must reconnect every index (asserted by events, never by elapsed time) and keep serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalEdge } from '../../src/local-edge/index.js';
import { Tunnel } from '../../src/tunnel.js';
import { makeToken, startTunnelEnv } from '../helpers/tunnel-env.js';
import { startTestOrigin } from '../helpers/test-origin.js';
import { startUdpRelay } from '../helpers/udp-relay.js';
import { visit } from '../helpers/visitor.js';
import { nextEvents } from './events.js';
import { withTestHooks } from '../../src/internal/test-hooks.js';

type ConnEvent = [{ connIndex: number; error?: Error }];
/** Reconnection takes one backoff wait (< 2 s) plus a handshake; far beyond this is a hang. */
const T = { timeout: 30_000 };

for (const protocol of ['quic', 'http2'] as const) {
  test(
    `${protocol}: the edge drops one of four connections; that index reconnects and requests keep flowing`,
    T,
    async () => {
      const origin = await startTestOrigin();
      const env = await startTunnelEnv({ protocol, url: origin.url, haConnections: 4 });
      try {
        const reconnected = nextEvents<ConnEvent>(env.tunnel, 'connected', 1, (e) => e.connIndex === 2);
        const lost = nextEvents<ConnEvent>(env.tunnel, 'disconnected', 1);
        env.edge.dropConnection(2);
        const [gone] = (await lost)[0]!;
        assert.equal(gone.connIndex, 2);
        // The three other connections carry traffic while index 2 is away.
        for (let i = 0; i < 6; i++)
          assert.equal((await visit(env.edge.visitorUrl, { path: `/during/${i}` })).status, 200);
        await reconnected;
        assert.deepEqual(
          env.tunnel.connections.map((c) => c.connIndex),
          [0, 1, 2, 3],
        );
        assert.equal((await visit(env.edge.visitorUrl, { path: '/after' })).status, 200);
      } finally {
        await env.close();
        await origin.close();
      }
    },
  );

  test(`${protocol}: the edge drops all four connections; every index reconnects`, T, async () => {
    const origin = await startTestOrigin();
    const env = await startTunnelEnv({ protocol, url: origin.url, haConnections: 4 });
    try {
      const reconnected = nextEvents<ConnEvent>(env.tunnel, 'connected', 4);
      env.edge.dropAll();
      const indexes = (await reconnected).map(([e]) => e.connIndex).sort();
      assert.deepEqual(indexes, [0, 1, 2, 3]);
      assert.equal((await visit(env.edge.visitorUrl, { path: '/after' })).status, 200);
    } finally {
      await env.close();
      await origin.close();
    }
  });

  test(
    `${protocol}: the edge restarts on the same port with the same certificates; the connector comes back`,
    T,
    async () => {
      const origin = await startTestOrigin();
      const { token } = makeToken();
      let edge = await LocalEdge.start({ tunnels: [token] });
      const { port } = edge.address;
      const certs = edge.certs;
      const tunnel = new Tunnel(
        withTestHooks(
          {
            token,
            url: origin.url,
            edge: [`127.0.0.1:${port}`, `127.0.0.1:${port}`],
            caCert: edge.caPem,
            protocol,
            haConnections: 2,
          },
          { haSpacingMs: 0 },
        ),
      );
      try {
        await nextEvents(tunnel, 'connected', 2);
        const lost = nextEvents<ConnEvent>(tunnel, 'disconnected', 2);
        const back = nextEvents<ConnEvent>(tunnel, 'connected', 2);
        await edge.close();
        await lost;
        edge = await LocalEdge.start({ tunnels: [token], port, certs });
        const indexes = (await back).map(([e]) => e.connIndex).sort();
        assert.deepEqual(indexes, [0, 1]);
        assert.equal((await visit(edge.visitorUrl, { path: '/after-restart' })).status, 200);
      } finally {
        await tunnel.close({ graceMs: 0 });
        await edge.close();
        await origin.close();
      }
    },
  );
}

test(
  'quic: a silent edge (every datagram dropped) ends the connection by idle timeout, then it reconnects',
  T,
  async () => {
    const origin = await startTestOrigin();
    const { token } = makeToken();
    const edge = await LocalEdge.start({ tunnels: [token] });
    const relay = await startUdpRelay({ target: { host: '127.0.0.1', port: edge.address.port } });
    const tunnel = new Tunnel({
      token,
      url: origin.url,
      edge: [`127.0.0.1:${relay.address().port}`],
      caCert: edge.caPem,
      protocol: 'quic',
      haConnections: 1,
    });
    try {
      await tunnel.ready();
      const lost = nextEvents<ConnEvent>(tunnel, 'disconnected', 1);
      const back = nextEvents<ConnEvent>(tunnel, 'connected', 1);
      relay.setRates({ dropRate: 1 });
      const [gone] = (await lost)[0]!;
      assert.ok(gone.error, 'the connection ends with an error');
      assert.match(
        `${gone.error.name} ${gone.error.message} ${(gone.error as { code?: string }).code}`,
        /idle|timeout/i,
      );
      relay.setRates({ dropRate: 0 });
      await back;
      assert.equal((await visit(edge.visitorUrl, { path: '/after-silence' })).status, 200);
    } finally {
      await tunnel.close({ graceMs: 0 });
      await relay.close();
      await edge.close();
      await origin.close();
    }
  },
);
