/**
 * Shutdown under load (docs/protocol.md §12.5): `tunnel.close({ graceMs })` lets in-flight requests finish; closing while
 * a connection waits in reconnect backoff returns without waiting for the backoff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalEdge } from '../../src/local-edge/index.js';
import { Tunnel } from '../../src/tunnel.js';
import { makeToken, startOrigin, startTunnelEnv } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';
import { nextEvents } from './events.js';

const IN_FLIGHT = 200;

for (const protocol of ['quic', 'http2'] as const) {
  test(
    `${protocol}: close({ graceMs }) with ${IN_FLIGHT} slow requests in flight completes every one of them`,
    { timeout: 60_000 },
    async () => {
      let arrived = 0;
      let releaseAll!: () => void;
      const allArrived = new Promise<void>((r) => (releaseAll = r));
      const held: Array<() => void> = [];
      const origin = await startOrigin((req, res) => {
        held.push(() => res.end(`done ${req.url}`));
        if (++arrived === IN_FLIGHT) releaseAll();
      });
      const env = await startTunnelEnv({ protocol, url: origin.url, haConnections: 2 });
      try {
        const requests = Array.from({ length: IN_FLIGHT }, (_, i) =>
          visit(env.edge.visitorUrl, { path: `/slow/${i}` }),
        );
        await allArrived;
        const closing = env.tunnel.close({ graceMs: 20_000 });
        // The origin answers only once shutdown has begun: these responses must still reach the visitors.
        for (const answer of held) answer();
        const results = await Promise.all(requests);
        await closing;
        const failed = results.filter((r, i) => r.status !== 200 || r.body.toString() !== `done /slow/${i}`);
        assert.equal(
          failed.length,
          0,
          `${failed.length} requests failed, e.g. ${failed
            .slice(0, 3)
            .map((r) => `${r.status} ${r.body.toString().slice(0, 80)}`)
            .join(' | ')}`,
        );
      } finally {
        await env.close();
        await origin.close();
      }
    },
  );

  test(
    `${protocol}: close() during reconnect backoff returns without waiting for the backoff`,
    { timeout: 30_000 },
    async () => {
      const { token } = makeToken();
      const edge = await LocalEdge.start({ tunnels: [token] });
      const tunnel = new Tunnel({
        token,
        edge: [`127.0.0.1:${edge.address.port}`],
        caCert: edge.caPem,
        protocol,
        haConnections: 1,
        retries: 10,
      });
      try {
        await tunnel.ready();
        // Refuse every re-registration so the index sits in ever longer backoff waits.
        edge.registrationDecider = () => ({ accept: false, cause: 'server overloaded', shouldRetry: true });
        const waiting = nextEvents<[{ delayMaxMs: number }]>(tunnel, 'reconnecting', 3);
        edge.dropConnection(0);
        const events = await waiting;
        assert.ok(events.at(-1)![0].delayMaxMs >= 8000, 'the last wait may last several seconds');
        // Resolves only if the backoff sleep is aborted; otherwise it would outlast the test timeout in the worst case.
        await tunnel.close({ graceMs: 0 });
        assert.equal(tunnel.connections.length, 0);
      } finally {
        await tunnel.close({ graceMs: 0 });
        await edge.close();
      }
    },
  );
}
