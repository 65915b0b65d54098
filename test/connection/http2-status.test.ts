/**
 * Origin statuses node:http2's `respond()` refuses, on the wire of a real HTTP/2 tunnel connection to an edge on
 * loopback (docs/protocol.md §8.5): cloudflared's Go server writes 600-999 as the final `:status`, and a final 1xx
 * as an interim HEADERS followed by a 200.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import {
  connectHttp2Connector,
  hostileContext,
  http2GetHeaders,
  startHostileHttp2Edge,
  type HostileHttp2Peer,
} from '../helpers/hostile-edge.js';
import { decodeSerializedHeaders } from '../../src/wire/serialized-headers.js';
import { startOrigin } from '../helpers/tunnel-env.js';
import { respondWithAnyStatus } from '../../src/connection/http2-any-status.js';

const T = { timeout: 30_000 };
const META_ORIGIN = '{"src":"origin"}';

/** Registers the real connector with ingress `service` and runs `body` against the edge's side. */
async function withConnector(service: string, body: (peer: HostileHttp2Peer) => Promise<void>): Promise<void> {
  const edge = await startHostileHttp2Edge();
  const ctx = hostileContext(service);
  const { conn, peer } = await connectHttp2Connector(edge, ctx);
  try {
    await body(peer);
  } finally {
    conn.close();
    await edge.close();
    await ctx.tunnel.orchestrator.origins.close();
  }
}

/** The answer to a GET, with every HEADERS block the connector sent. */
async function get(
  peer: HostileHttp2Peer,
  method = 'GET',
): Promise<{
  interim: http2.IncomingHttpHeaders[];
  final: http2.IncomingHttpHeaders;
  body: string;
  trailers: http2.IncomingHttpHeaders | undefined;
}> {
  const stream = peer.session.request({ ...http2GetHeaders('/'), ':method': method }, { endStream: true });
  const interim: http2.IncomingHttpHeaders[] = [];
  let trailers: http2.IncomingHttpHeaders | undefined;
  const chunks: Buffer[] = [];
  stream.on('headers', (h: http2.IncomingHttpHeaders) => interim.push(h));
  stream.once('trailers', (h: http2.IncomingHttpHeaders) => (trailers = h));
  stream.on('data', (c: Buffer) => chunks.push(c));
  const response = once(stream, 'response') as Promise<[http2.IncomingHttpHeaders]>;
  await once(stream, 'close');
  const [final] = await response;
  return { interim, final, body: Buffer.concat(chunks).toString(), trailers };
}

test('HTTP/2: a final 999 with a body and trailers goes out as :status 999 like any status', T, async () => {
  const origin = await startOrigin((req, res) => {
    // node:http refuses trailers on a HEAD answer (it has no chunked body to carry them).
    const head = req.method === 'HEAD';
    res.writeHead(999, head ? { 'x-origin': 'yes' } : { 'x-origin': 'yes', trailer: 'x-checksum' });
    res.write('part1-');
    if (!head) res.addTrailers({ 'x-checksum': 'abc' });
    res.end('part2');
  });
  try {
    await withConnector(origin.url, async (peer) => {
      const answer = await get(peer);
      assert.equal(answer.final[':status'], 999);
      assert.equal(answer.final['cf-cloudflared-response-meta'], META_ORIGIN);
      assert.equal(typeof answer.final.date, 'string');
      const relayed = decodeSerializedHeaders(String(answer.final['cf-cloudflared-response-headers']));
      assert.deepEqual(
        relayed.filter(([name]) => name === 'X-Origin'),
        [['X-Origin', 'yes']],
      );
      assert.equal(answer.body, 'part1-part2');
      assert.equal(answer.trailers?.['x-checksum'], 'abc');
      assert.deepEqual(answer.interim, []);
      // A HEAD answer ends with its HEADERS, as respond() ends it; the connection serves on.
      const head = await get(peer, 'HEAD');
      assert.equal(head.final[':status'], 999);
      assert.equal(head.body, '');
      assert.equal((await get(peer)).body, 'part1-part2');
    });
  } finally {
    await origin.close();
  }
});

test('HTTP/2: an http_status:600 answer without a body ends on its HEADERS', T, async () => {
  await withConnector('http_status:600', async (peer) => {
    const answer = await get(peer);
    assert.equal(answer.final[':status'], 600);
    assert.equal(answer.final['content-length'], '0');
    assert.equal(answer.body, '');
  });
});

test(
  'HTTP/2: a final 1xx (http_status:102) is an interim HEADERS with the headers but the length, then a 200',
  T,
  async () => {
    await withConnector('http_status:102', async (peer) => {
      const answer = await get(peer);
      assert.equal(answer.interim.length, 1);
      const interim = answer.interim[0]!;
      assert.equal(interim[':status'], 102);
      assert.equal(interim['cf-cloudflared-response-meta'], META_ORIGIN);
      assert.equal(interim['content-length'], undefined);
      assert.equal(answer.final[':status'], 200);
      assert.equal(answer.final['cf-cloudflared-response-meta'], META_ORIGIN);
      assert.equal(answer.final['content-length'], '0');
      assert.equal(answer.body, '');
    });
  },
);

test(
  'where node:http2 internals are not the expected ones, nothing is sent and the stream can still respond',
  T,
  async () => {
    // A fresh module instance: its first use decides, once, whether this Node's internals are usable.
    const fresh = (await import(
      `../../src/connection/http2-any-status.js?unexpected=${Date.now()}`
    )) as typeof import('../../src/connection/http2-any-status.js');
    const server = http2.createServer();
    const answers: boolean[] = [];
    server.on('stream', (stream) => {
      // Another Node could keep a second handle-like symbol: the handle is then not identified, and nothing is sent.
      if (answers.length === 0) Object.defineProperty(stream, Symbol('kHandle'), { value: {} });
      answers.push(fresh.respondWithAnyStatus(stream, { ':status': 999 }, { endStream: true, waitForTrailers: false }));
      assert.equal(stream.headersSent, false);
      stream.respond({ ':status': 502 }, { endStream: true });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      for (let i = 0; i < 2; i++) {
        const req = client.request({ ':path': '/' }, { endStream: true });
        const [headers] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
        assert.equal(headers[':status'], 502);
        req.resume();
        await once(req, 'close');
      }
      // The decision is kept: the second (untouched) stream is not tried either.
      assert.deepEqual(answers, [false, false]);
    } finally {
      client.close();
      server.close();
    }
  },
);

test('a header value carrying CR, LF or NUL is never sent past node:http2 checks: nothing is sent', T, async () => {
  const server = http2.createServer();
  const values = ['trace\r1', 'trace\n1', 'trace\x001'];
  const answers: boolean[] = [];
  server.on('stream', (stream) => {
    const value = values[answers.length]!;
    const sent = respondWithAnyStatus(
      stream,
      { ':status': 999, 'x-trace': value },
      { endStream: true, waitForTrailers: false },
    );
    answers.push(sent);
    if (!sent) stream.respond({ ':status': 502 }, { endStream: true });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  client.on('error', () => undefined);
  try {
    for (let i = 0; i < values.length; i++) {
      const req = client.request({ ':path': '/' }, { endStream: true });
      req.on('error', () => undefined);
      req.resume();
      await once(req, 'close');
    }
    assert.deepEqual(answers, [false, false, false]);
  } finally {
    client.close();
    server.close();
  }
});
