/**
 * The `request` summary reports what the visitor got: the origin's status, 502 when the origin failed before
 * answering (the edge's answer to the connector's error response), and no status when the visitor left first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { RequestSummary } from '../../src/index.js';
import { visitorStatus } from '../../src/observability/request-observer.js';
import { OriginError, OriginRequestCancelledError } from '../../src/proxy/errors.js';
import { startOrigin, startTunnelEnv } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';

function nextSummary(env: Awaited<ReturnType<typeof startTunnelEnv>>): Promise<RequestSummary> {
  return once(env.tunnel, 'request').then(([s]) => s as RequestSummary);
}

for (const protocol of ['quic', 'http2'] as const) {
  test(`${protocol}: a failed origin's summary says 502, like the visitor's response; a served one the origin's status`, async () => {
    const origin = await startOrigin((_req, res) => res.writeHead(418).end());
    const env = await startTunnelEnv({ protocol, url: origin.url });
    try {
      let summary = nextSummary(env);
      assert.equal((await visit(env.edge.visitorUrl)).status, 418);
      assert.deepEqual([(await summary).status, (await summary).originStatus], [418, 418]);

      // Port 9 on loopback: nothing listens, the connection is refused.
      await env.edge.pushConfig(1, { ingress: [{ service: 'http://127.0.0.1:9' }] });
      summary = nextSummary(env);
      const visitor = await visit(env.edge.visitorUrl);
      const failed = await summary;
      assert.equal(visitor.status, 502);
      assert.equal(failed.status, visitor.status);
      assert.equal(failed.originStatus, undefined);
      assert.match(String(failed.error?.message), /Unable to reach the origin service/);
    } finally {
      await env.close();
      await origin.close();
    }
  });
}

test('visitorStatus: the origin status when it answered, 502 for an origin failure, none for a cancelled request', () => {
  assert.equal(visitorStatus(200, undefined), 200);
  assert.equal(visitorStatus(200, new Error('body reset after the headers')), 200);
  assert.equal(visitorStatus(undefined, new OriginError('dial tcp 127.0.0.1:9: connect: connection refused')), 502);
  assert.equal(visitorStatus(undefined, new OriginRequestCancelledError()), undefined);
});
