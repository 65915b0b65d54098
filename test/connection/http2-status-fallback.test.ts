/**
 * The HTTP/2 connector on a Node whose http2 internals are not the ones `http2-any-status.ts` expects
 * (docs/protocol.md §8.5): a status node:http2 refuses is answered as an origin failure (§8.7: 502, `cloudflared`
 * meta) with the reason logged. Its own file: the first use in a process decides whether the internals are usable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type http2 from 'node:http2';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import {
  connectHttp2Connector,
  hostileContext,
  http2GetHeaders,
  startHostileHttp2Edge,
} from '../helpers/hostile-edge.js';

test(
  'HTTP/2 on a Node without the expected internals: status 999 is a 502 with the reason logged',
  { timeout: 30_000 },
  async () => {
    const logs: string[] = [];
    const logger = pino(
      { level: 'error' },
      new Writable({ write: (chunk: Buffer, _enc, done) => void (logs.push(chunk.toString()), done()) }),
    );
    const edge = await startHostileHttp2Edge();
    const ctx = hostileContext('http_status:999', { logger });
    const { conn, peer } = await connectHttp2Connector(edge, ctx);
    try {
      // Stands in for another Node release: a second handle-like symbol on each stream, so the handle is not identified.
      const session = Reflect.get(conn, 'session') as http2.ServerHttp2Session;
      session.on('stream', (stream) => Object.defineProperty(stream, Symbol('kHandle'), { value: {} }));
      const stream = peer.session.request(http2GetHeaders('/'), { endStream: true });
      const response = once(stream, 'response') as Promise<[http2.IncomingHttpHeaders]>;
      stream.resume();
      await once(stream, 'close');
      const [headers] = await response;
      assert.equal(headers[':status'], 502);
      assert.equal(headers['cf-cloudflared-response-meta'], '{"src":"cloudflared"}');
      assert.ok(
        logs.some(
          (line) =>
            line.includes('failed to serve incoming request') &&
            line.includes(
              'origin status 999 cannot be sent over HTTP/2: node:http2 only carries 200-599 (the QUIC transport relays it)',
            ),
        ),
        logs.join(''),
      );
    } finally {
      conn.close();
      await edge.close();
      await ctx.tunnel.orchestrator.origins.close();
    }
  },
);
