/** Library observability: `request`/`error` events and diagnostics_channel messages for connections and requests. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { DIAGNOSTICS_CHANNELS } from '../../src/observability/diagnostics.js';
import type { RequestSummary } from '../../src/observability/request-observer.js';
import { startOrigin, startTunnelEnv } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';

for (const protocol of ['quic', 'http2'] as const) {
  test(`${protocol}: request summaries, error events and diagnostics_channel messages`, async () => {
    const seen: Record<string, unknown[]> = {};
    const subscribers = Object.values(DIAGNOSTICS_CHANNELS).map((name) => {
      const fn = (message: unknown): void => void (seen[name] ??= []).push(message);
      diagnosticsChannel.subscribe(name, fn);
      return () => diagnosticsChannel.unsubscribe(name, fn);
    });
    const origin = await startOrigin((_req, res) => res.writeHead(201).end('made'));
    const env = await startTunnelEnv({ protocol, url: origin.url });
    try {
      const summaries: RequestSummary[] = [];
      const errors: Error[] = [];
      env.tunnel.on('request', (s) => summaries.push(s));
      env.tunnel.on('error', (err) => errors.push(err));
      const ended = new Promise<void>((resolve) => env.tunnel.on('request', () => summaries.length === 2 && resolve()));
      assert.equal(
        (await visit(env.edge.visitorUrl, { method: 'POST', path: '/things', host: 'api.test' })).status,
        201,
      );
      await env.edge.pushConfig(1, { ingress: [{ service: 'http://127.0.0.1:9' }] });
      assert.equal((await visit(env.edge.visitorUrl, { path: '/down' })).status, 502);
      await ended;
      assert.equal(summaries[0]!.method, 'POST');
      assert.equal(summaries[0]!.host, 'api.test');
      assert.equal(summaries[0]!.status, 201);
      assert.equal(summaries[0]!.protocol, protocol);
      assert.match(summaries[0]!.cfRay ?? '', /-TST$/);
      assert.equal(summaries[1]!.status, 502, 'what the visitor got');
      assert.equal(summaries[1]!.originStatus, undefined);
      assert.match(String(summaries[1]!.error?.message), /Unable to reach the origin service/);
      assert.equal(errors.length, 1);
      assert.equal((seen[DIAGNOSTICS_CHANNELS.connectionConnected] ?? []).length, 1);
      assert.equal((seen[DIAGNOSTICS_CHANNELS.requestStart] ?? []).length, 2);
      assert.equal((seen[DIAGNOSTICS_CHANNELS.requestEnd] ?? []).length, 2);
    } finally {
      await env.close();
      await origin.close();
      for (const unsubscribe of subscribers) unsubscribe();
    }
    assert.equal((seen[DIAGNOSTICS_CHANNELS.connectionDisconnected] ?? []).length, 1);
  });
}

test('a tunnel without error listeners survives failed requests (no unhandled error event)', async () => {
  const env = await startTunnelEnv({ protocol: 'http2', url: 'http://127.0.0.1:9' });
  try {
    assert.equal((await visit(env.edge.visitorUrl)).status, 502);
    assert.equal((await visit(env.edge.visitorUrl)).status, 502);
  } finally {
    await env.close();
  }
});
