import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOrigin, startTunnelEnv } from '../helpers/tunnel-env.js';

for (const protocol of ['http2', 'quic'] as const) {
  test(`${protocol}: a GET reaches the origin through the local edge`, async () => {
    const origin = await startOrigin((req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(`hello ${req.method} ${req.url}`);
    });
    const env = await startTunnelEnv({ protocol, url: origin.url });
    try {
      const res = await fetch(`${env.edge.visitorUrl}/path?q=1`, { headers: { host: 'app.test' } });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'hello GET /path?q=1');
    } finally {
      await env.close();
      await origin.close();
    }
  });
}
