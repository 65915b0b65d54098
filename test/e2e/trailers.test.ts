/** Origin trailers reach the edge on HTTP/2 (docs/protocol.md §8.5) and are dropped on QUIC (§7.4). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { startOrigin, startTunnelEnv } from '../helpers/tunnel-env.js';

for (const protocol of ['http2', 'quic'] as const) {
  test(`${protocol}: gRPC-style trailers from the origin ${protocol === 'http2' ? 'arrive as HTTP/2 trailers' : 'are dropped'}`, async () => {
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/grpc', trailer: 'grpc-status, grpc-message' });
      res.write('frame-1');
      res.addTrailers({ 'grpc-status': '0', 'grpc-message': 'all good' });
      res.end('frame-2');
    });
    const env = await startTunnelEnv({ protocol, url: origin.url });
    try {
      const conn = env.edge.route('grpc.test');
      assert.ok(conn);
      const res = await conn.send({
        type: 'http',
        method: 'POST',
        host: 'grpc.test',
        path: '/pkg.Service/Method',
        headers: [['Content-Type', 'application/grpc']],
        body: null,
        visitorAddress: '127.0.0.1:1',
      });
      assert.ok(res.ok);
      const stream = res.stream as Readable;
      const trailers = protocol === 'http2' ? once(stream, 'trailers') : undefined;
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'frame-1frame-2');
      if (trailers) {
        const [block] = (await trailers) as [Record<string, string>];
        assert.equal(block['grpc-status'], '0');
        assert.equal(block['grpc-message'], 'all good');
      }
    } finally {
      await env.close();
      await origin.close();
    }
  });
}
