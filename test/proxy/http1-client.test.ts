/**
 * The lean HTTP/1.1 origin client (src/proxy/http1-client.ts, docs/protocol.md §10.5) against raw loopback origins
 * that write exact bytes: framing (Content-Length, chunked with extensions and trailers, end of file), responses split
 * at every byte, interim 1xx, HEAD/204/304 on a kept-alive connection, reuse and the idle cap, a kept-alive connection
 * the origin closed (an idempotent request is sent again, others fail), and malformed responses with Go's texts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { ORIGIN_REQUEST_DEFAULTS, type OriginRequestConfig } from '../../src/ingress/origin-request.js';
import { parseIngressService } from '../../src/ingress/service.js';
import {
  createOriginService,
  OriginError,
  type OriginRequest,
  type OriginResponse,
  type OriginService,
} from '../../src/proxy/index.js';
import { OriginRequestCancelledError } from '../../src/proxy/errors.js';
import { Http1Client } from '../../src/proxy/http1-client.js';

/** A request as the origin saw it, and the connection it came on. */
interface Seen {
  head: string;
  conn: number;
  /** Requests seen on that connection before this one. */
  index: number;
}

type Answer = (seen: Seen, socket: net.Socket) => void;

/** Raw origin: parses request heads (no bodies beyond Content-Length) and lets each test answer with exact bytes. */
class RawOrigin {
  readonly server: net.Server;
  readonly seen: Seen[] = [];
  answer: Answer = (_seen, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  private conns = 0;
  readonly sockets = new Set<net.Socket>();

  constructor() {
    this.server = net.createServer((socket) => {
      const conn = ++this.conns;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let buf = Buffer.alloc(0);
      let index = 0;
      socket.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < end + 4 + length) return;
          buf = buf.subarray(end + 4 + length);
          const seen = { head, conn, index: index++ };
          this.seen.push(seen);
          this.answer(seen, socket);
        }
      });
    });
  }

  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.close();
    await once(this.server, 'close');
  }
}

/** Writes `bytes` one byte per write, each after the previous one was handed to the kernel. */
async function dribble(socket: net.Socket, bytes: string | Buffer): Promise<void> {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  for (let i = 0; i < b.length; i++) {
    await new Promise<void>((resolve, reject) =>
      socket.write(b.subarray(i, i + 1), (err) => (err ? reject(err) : resolve())),
    );
  }
}

let origin: RawOrigin;
let port: number;
let svc: OriginService;

function service(options: Partial<OriginRequestConfig> = {}): OriginService {
  const resolved = { ...ORIGIN_REQUEST_DEFAULTS, ...options };
  return createOriginService(parseIngressService(`http://127.0.0.1:${port}`, resolved), resolved);
}

before(async () => {
  origin = new RawOrigin();
  port = await origin.listen();
  svc = service();
});

after(async () => {
  await svc.close();
  await origin.close();
});

function request(over: Partial<OriginRequest> = {}): OriginRequest {
  return {
    method: 'GET',
    url: 'http://raw.test/',
    host: 'raw.test',
    headers: [['Accept', '*/*']],
    body: null,
    isWebsocket: false,
    connectorId: 'c0ffee00-0000-4000-8000-000000000000',
    ...over,
  };
}

const signal = (): AbortSignal => new AbortController().signal;

async function read(res: OriginResponse): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of res.body!) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('latin1');
}

async function get(s: OriginService = svc, over: Partial<OriginRequest> = {}): Promise<[OriginResponse, string]> {
  const res = await s.roundTrip(request(over), signal());
  return [res, await read(res)];
}

test('request: request line, Host first, headers in order, Connection: keep-alive; Content-Length only when due', async () => {
  await get(svc, { url: 'http://raw.test/a?b=1' });
  const head = origin.seen.at(-1)!.head;
  const lines = head.split('\r\n');
  assert.equal(lines[0], 'GET /a?b=1 HTTP/1.1');
  assert.equal(lines[1], 'Host: raw.test');
  assert.equal(lines[2], 'Accept: */*');
  assert.equal(lines[3], 'Cf-Warp-Tag-Id: c0ffee00-0000-4000-8000-000000000000');
  assert.equal(lines[4], 'Connection: keep-alive');
  assert.equal(lines.length, 5);
  // Go sends Content-Length: 0 for a POST without a body.
  await get(svc, { method: 'POST' });
  assert.match(origin.seen.at(-1)!.head, /\r\nContent-Length: 0$/);
  await get(svc, { method: 'DELETE' });
  assert.doesNotMatch(origin.seen.at(-1)!.head, /Content-Length/i);
});

test('Content-Length and chunked responses (extensions, trailers) split at every byte; the connection is reused', async () => {
  const chunked =
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n' +
    '5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Sum: abc\r\nX-Other:  two words \r\n\r\n';
  origin.answer = (seen, s) => {
    void dribble(
      s,
      seen.head.startsWith('GET /chunked')
        ? chunked
        : 'HTTP/1.1 201 Created\r\nContent-Length: 6\r\nX-A: 1\r\n\r\nabcdef',
    );
  };
  const before = origin.seen.length;
  const [res, body] = await get(svc, { url: 'http://raw.test/chunked' });
  assert.equal(res.status, 200);
  assert.equal(body, 'hello 0123456789');
  assert.deepEqual(await res.trailers, [
    ['X-Sum', 'abc'],
    ['X-Other', 'two words'],
  ]);
  assert.deepEqual(
    res.headers.map(([n]) => n),
    ['Trailer'],
    'Transfer-Encoding removed',
  );
  const [res2, body2] = await get(svc, { url: 'http://raw.test/length' });
  assert.equal(res2.status, 201);
  assert.equal(body2, 'abcdef');
  assert.deepEqual(await res2.trailers, []);
  const [a, b] = origin.seen.slice(before);
  assert.equal(b!.conn, a!.conn, 'second request on the same connection');
});

test('100 Continue and 103 Early Hints before the final response are skipped', async () => {
  origin.answer = (_seen, s) =>
    s.write(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nend',
    );
  const [res, body] = await get();
  assert.equal(res.status, 200);
  assert.equal(body, 'end');
  assert.deepEqual(res.headers, [['Content-Length', '3']]);
});

test('HEAD, 204 and 304 have no body whatever their Content-Length; the next response on the connection parses', async () => {
  origin.answer = (seen, s) => {
    if (seen.head.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
    else if (seen.head.includes('/204')) s.write('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n');
    else if (seen.head.includes('/304')) s.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n');
    else s.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext');
  };
  const before = origin.seen.length;
  const [head, headBody] = await get(svc, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(headBody, '');
  assert.deepEqual(head.headers, [['Content-Length', '1000']]);
  assert.equal((await get(svc, { url: 'http://raw.test/204' }))[1], '');
  assert.equal((await get(svc, { url: 'http://raw.test/304' }))[0].status, 304);
  assert.equal((await get(svc, { url: 'http://raw.test/next' }))[1], 'next');
  const conns = new Set(origin.seen.slice(before).map((s) => s.conn));
  assert.equal(conns.size, 1, 'all four on one connection');
});

test('an HTTP/1.0 body without Content-Length runs to end of file; that connection is not reused', async () => {
  origin.answer = (seen, s) => {
    if (seen.head.includes('/eof')) s.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end');
    else s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  };
  const before = origin.seen.length;
  assert.equal((await get(svc, { url: 'http://raw.test/eof' }))[1], 'until the end');
  assert.equal((await get(svc, { url: 'http://raw.test/after' }))[1], 'ok');
  const [a, b] = origin.seen.slice(before);
  assert.notEqual(b!.conn, a!.conn);
});

test('Connection: close and HTTP/1.0 without keep-alive close the connection; HTTP/1.0 keep-alive keeps it', async () => {
  const answers = [
    'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na',
    'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb',
    'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nc',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nd',
  ];
  let i = 0;
  origin.answer = (_seen, s) => s.write(answers[i++]!);
  const before = origin.seen.length;
  for (const expected of ['a', 'b', 'c', 'd']) assert.equal((await get())[1], expected);
  const conns = origin.seen.slice(before).map((s) => s.conn);
  assert.notEqual(conns[1], conns[0]);
  assert.notEqual(conns[2], conns[1]);
  assert.equal(conns[3], conns[2]);
});

test('a body cut short by FIN (Content-Length or chunked) fails, never a short success', async () => {
  for (const bytes of [
    'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
  ]) {
    origin.answer = (_seen, s) => s.end(bytes);
    const res = await svc.roundTrip(request(), signal());
    await assert.rejects(read(res), /unexpected EOF/);
    assert.deepEqual(await res.trailers, []);
  }
});

test('a kept-alive connection the origin closed: GET (or an Idempotency-Key POST) is sent again on a new one, POST fails with EOF', async () => {
  // The origin answers the first request of each connection and drops the connection on the second.
  origin.answer = (seen, s) => {
    if (seen.index === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst');
    else s.destroy();
  };
  const s = service();
  try {
    assert.equal((await get(s))[1], 'first');
    assert.equal((await get(s))[1], 'first', 'retried on a new connection');
    const keyed = await get(s, { method: 'POST', headers: [['Idempotency-Key', 'k1']] });
    assert.equal(keyed[1], 'first', 'a POST with Idempotency-Key is replayable too');
    await assert.rejects(s.roundTrip(request({ method: 'POST' }), signal()), (e) => {
      assert.ok(e instanceof OriginError);
      assert.match(e.message, /: EOF$/);
      return true;
    });
  } finally {
    await s.close();
  }
});

/** Each response (bytes the origin writes, then FIN) fails the request with an OriginError whose text matches. */
async function expectGoTexts(cases: Array<[string, RegExp]>): Promise<void> {
  for (const [bytes, text] of cases) {
    origin.answer = (_seen, s) => s.end(bytes);
    await assert.rejects(svc.roundTrip(request(), signal()), (e) => {
      assert.ok(e instanceof OriginError, String(e));
      assert.match(e.message, text);
      return true;
    });
  }
}

test('malformed responses fail with Go texts', async () => {
  const cases: Array<[string, RegExp]> = [
    ['garbage\r\n\r\n', /: malformed HTTP response "garbage"$/],
    ['HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n', /: malformed MIME header line: Bad Header: x$/],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', /multiple Content-Length/],
    ['HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n', /: bad Content-Length "x"$/],
    ['HTTP/1.1 099 Low\r\n\r\n', /: malformed HTTP status code "099"$/],
  ];
  await expectGoTexts(cases);
  origin.answer = (_seen, s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab\r\n0\r\nzz');
  const res = await svc.roundTrip(request(), signal());
  assert.equal(await read(res), 'ab\r\n0');
  origin.answer = (_seen, s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
  const bad = await svc.roundTrip(request(), signal());
  await assert.rejects(read(bad), /invalid byte in chunk length/);
});

test('a response head larger than the limit fails; 24 KiB passes', async () => {
  origin.answer = (seen, s) => {
    const size = seen.head.includes('/big') ? 2 << 20 : 24 << 10;
    s.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(size)}\r\nContent-Length: 2\r\n\r\nok`);
  };
  const [res, body] = await get(svc, { url: 'http://raw.test/ok' });
  assert.equal(body, 'ok');
  assert.equal(res.headers[0]![1].length, 24 << 10);
  await assert.rejects(svc.roundTrip(request({ url: 'http://raw.test/big' }), signal()), /headers exceeded \d+ bytes/);
});

test('bytes after a response: that connection is closed, the next request gets a new one', async () => {
  origin.answer = (seen, s) =>
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok${seen.index === 0 ? 'junk' : ''}`);
  const s = service();
  try {
    await get(s);
    await get(s);
    const [a, b] = origin.seen.slice(-2);
    assert.notEqual(b!.conn, a!.conn);
  } finally {
    await s.close();
  }
});

test('keepAliveConnections caps idle connections across concurrent requests', async () => {
  const held: Array<() => void> = [];
  let allHeld!: () => void;
  const three = new Promise<void>((resolve) => (allHeld = resolve));
  origin.answer = (_seen, s) => {
    held.push(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    if (held.length === 3) allHeld();
  };
  const s = service({ keepAliveConnections: 1 }) as OriginService & { idleConnections: number };
  try {
    const pending = [get(s), get(s), get(s)];
    await three;
    assert.equal(new Set(origin.seen.slice(-3).map((x) => x.conn)).size, 3, 'three connections at once');
    for (const release of held.splice(0)) release();
    await Promise.all(pending);
    assert.equal(s.idleConnections, 1);
  } finally {
    await s.close();
  }
});

test('a large body read slowly arrives whole (the origin socket pauses and resumes)', async () => {
  const size = 8 << 20;
  const payload = Buffer.alloc(size, 7);
  for (let i = 0; i < size; i += 4096) payload[i] = i & 0xff;
  origin.answer = (_seen, s) => {
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
    s.write(payload);
  };
  const res = await svc.roundTrip(request(), signal());
  const hash = createHash('sha256');
  let n = 0;
  for await (const chunk of res.body!) {
    hash.update(chunk as Buffer);
    n += (chunk as Buffer).length;
    // Let the body buffer fill between reads.
    await new Promise(setImmediate);
  }
  assert.equal(n, size);
  assert.equal(hash.digest('hex'), createHash('sha256').update(payload).digest('hex'));
  const conn = origin.seen.at(-1)!.conn;
  origin.answer = (_seen, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  assert.equal((await get())[1], 'ok', 'the connection paused by the slow reader serves the next request');
  assert.equal(origin.seen.at(-1)!.conn, conn);
});

test(
  'bytes an origin sends on an idle connection are never the next request’s answer (a paused socket is resumed at the end of the response)',
  { timeout: 30_000 },
  async () => {
    // A 40 KB response in one write arrives in one socket read: the body's buffer is over its mark when the last bytes
    // arrive, so the socket was paused in the read that completed the response.
    const size = 40_000;
    let first: net.Socket | undefined;
    origin.answer = (seen, s) => {
      if (seen.index === 0 && first === undefined) {
        first = s;
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n${'x'.repeat(size)}`);
      } else s.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nmine');
    };
    // An idle timeout far beyond the test's: only reading the origin's bytes can close the connection.
    const s = service({ keepAliveTimeout: 3600 });
    try {
      const [res, body] = await get(s);
      assert.equal(res.status, 200);
      assert.equal(body.length, size);
      // The origin times the idle connection out (as nginx does) with an unsolicited 408, and closes.
      const closed = once(first!, 'close');
      first!.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      // The client drops the connection that spoke out of turn (Go: "Unsolicited response received on idle HTTP
      // channel"); a paused socket would never read the bytes nor the FIN.
      await closed;
      const before = origin.seen.length;
      const [post, text] = await get(s, { method: 'POST' });
      assert.equal(post.status, 200);
      assert.equal(text, 'mine');
      assert.equal(origin.seen.length, before + 1, 'the origin saw the POST');
    } finally {
      await s.close();
    }
  },
);

test('header values are trimmed of spaces and tabs only: UTF-8 bytes such as 0xA0 stay', async () => {
  const city = Buffer.from('Bogotà', 'utf8').toString('latin1');
  origin.answer = (_seen, s) =>
    s.write(
      Buffer.from(
        `HTTP/1.1 200 OK\r\nX-City: \t${city}\r\nX-Fold: a\r\n \t${city}\r\nContent-Length: 2\r\n\r\nok`,
        'latin1',
      ),
    );
  const [res] = await get();
  assert.deepEqual(res.headers.slice(0, 2), [
    ['X-City', city],
    ['X-Fold', `a ${city}`],
  ]);
  origin.answer = (_seen, s) =>
    s.write(
      Buffer.from(
        `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Trail: ${city}\r\n\r\n`,
        'latin1',
      ),
    );
  const [chunked] = await get();
  assert.deepEqual(await chunked.trailers, [['X-Trail', city]]);
});

test('Content-Length beside Transfer-Encoding: chunked is dropped (Go fixLength), the body is the de-chunked one', async () => {
  origin.answer = (_seen, s) =>
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
  const [res, body] = await get();
  assert.equal(body, 'hello');
  assert.deepEqual(res.headers, []);
});

/** The lean client on its own, dialling the raw origin over TCP. */
function leanClient(dialled: net.Socket[] = []): Http1Client {
  return new Http1Client({
    target: { network: 'tcp', host: '127.0.0.1', port },
    dial: () => {
      const socket = net.connect(port, '127.0.0.1');
      dialled.push(socket);
      return socket;
    },
    idleCount: () => 0,
    maxIdle: 100,
    keepAliveTimeoutMs: 3_600_000,
    maxHeaderBytes: 1 << 20,
  });
}

const leanGet = { method: 'GET', path: '/', headers: ['Host', 'raw.test'], body: null, servername: 'raw.test' };

test('a signal already aborted: the lean client sends nothing and rejects with the cancellation', async () => {
  origin.answer = (_seen, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  const client = leanClient();
  try {
    const ac = new AbortController();
    ac.abort(new Error('visitor left'));
    const before = origin.seen.length;
    await assert.rejects(client.roundTrip(leanGet, ac.signal), OriginRequestCancelledError);
    // A request sent after it on a fresh connection is the only one the origin sees.
    const res = await client.roundTrip(leanGet, signal());
    assert.equal(await read(res), 'ok');
    assert.equal(origin.seen.length, before + 1);
  } finally {
    client.close();
  }
});

test('the lean client closed with idle connections: its idle count stays at zero as they close', async () => {
  origin.answer = (_seen, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  const dialled: net.Socket[] = [];
  const client = leanClient(dialled);
  const res = await client.roundTrip(leanGet, signal());
  assert.equal(await read(res), 'ok');
  assert.equal(client.idleConnections, 1);
  const closed = once(dialled[0]!, 'close');
  client.close();
  await closed;
  assert.equal(client.idleConnections, 0);
});

test('Transfer-Encoding other than chunked, a Content-Length beyond 63 bits, differing Content-Lengths and a sixth 1xx fail with Go texts', async () => {
  const cases: Array<[string, RegExp]> = [
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nbody', /: unsupported transfer encoding: "gzip"$/],
    [
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
      /: unsupported transfer encoding: "gzip, chunked"$/,
    ],
    [
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      /: too many transfer encodings: \["chunked" "chunked"\]$/,
    ],
    ['HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n', /: bad Content-Length "99999999999999999999"$/],
    [
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      /: http: message cannot contain multiple Content-Length headers; got \["1" "2"\]$/,
    ],
    [
      `${'HTTP/1.1 100 Continue\r\n\r\n'.repeat(6)}HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`,
      /: net\/http: too many 1xx informational responses$/,
    ],
  ];
  await expectGoTexts(cases);
  // Five 1xx pass; Transfer-Encoding on an HTTP/1.0 response is ignored (the body runs to end of file).
  origin.answer = (_seen, s) =>
    s.end(`${'HTTP/1.1 100 Continue\r\n\r\n'.repeat(5)}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok`);
  assert.equal((await get())[1], 'ok');
  origin.answer = (_seen, s) => s.end('HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n');
  assert.equal((await get())[1], '2\r\nok\r\n0\r\n\r\n');
});
