/** Graceful shutdown (docs/protocol.md §12.5): unregister, let in-flight requests finish, then close. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { startOrigin, startTunnelEnv } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';

for (const protocol of ['quic', 'http2'] as const) {
  test(`${protocol}: close() with 50 slow requests in flight: all complete, every connection unregisters`, async () => {
    const held: ServerResponse[] = [];
    let onHeld: (() => void) | undefined;
    const origin = await startOrigin((req, res) => {
      held.push(res);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(`start ${req.url}\n`);
      onHeld?.();
    });
    const env = await startTunnelEnv({ protocol, url: origin.url, haConnections: 4 });
    try {
      const allHeld = new Promise<void>((resolve) => (onHeld = () => held.length === 50 && resolve()));
      const requests = Array.from({ length: 50 }, (_, i) => visit(env.edge.visitorUrl, { path: `/slow/${i}` }));
      await allHeld;
      const unregistered = new Promise<void>((resolve) => {
        let n = 0;
        env.edge.on('unregister', () => ++n === 4 && resolve());
      });
      const closing = env.tunnel.close({ graceMs: 30_000 });
      await unregistered;
      for (const res of held) res.end('done\n');
      const results = await Promise.all(requests);
      for (const [i, r] of results.entries()) {
        assert.equal(r.status, 200);
        assert.equal(r.body.toString(), `start /slow/${i}\ndone\n`);
      }
      await closing;
      assert.equal(env.tunnel.connections.length, 0);
    } finally {
      await env.close();
      await origin.close();
    }
  });
}
