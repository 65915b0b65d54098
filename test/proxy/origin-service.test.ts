import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Duplex } from 'node:stream';
import { TestOrigin, patternStream, sha256Of } from './origin-fixture.js';
import { IngressConfigError } from '../../src/ingress/errors.js';
import { ORIGIN_REQUEST_DEFAULTS, type OriginRequestConfig } from '../../src/ingress/origin-request.js';
import { parseIngressService } from '../../src/ingress/service.js';
import type { OriginServiceContext } from '../../src/proxy/types.js';
import {
  createOriginService as createFromParsed,
  OriginError,
  OriginRequestCancelledError,
  requestHasBody,
  type OriginRequest,
  type OriginService,
} from '../../src/proxy/index.js';

/** Parses a service string with the one ingress parser, then builds its origin. */
function createOriginService(
  service: string,
  options: Partial<OriginRequestConfig> = {},
  context: OriginServiceContext = {},
): OriginService {
  const resolved = { ...ORIGIN_REQUEST_DEFAULTS, ...options };
  return createFromParsed(parseIngressService(service, resolved), resolved, context);
}

const CONNECTOR_ID = '097e1f4d-d610-4857-bb9d-a26c10c439a6';
const EDGE_HEADERS: Array<[string, string]> = [
  ['Cf-Connecting-Ip', '127.0.0.1'],
  ['Cf-Ray', '0000000000000002-TST'],
  ['X-Forwarded-For', '127.0.0.1'],
  ['X-Forwarded-Proto', 'http'],
];

let origin: TestOrigin;
let svc: OriginService;
let dir: string;

before(async () => {
  origin = await new TestOrigin().listen();
  svc = createOriginService(`http://127.0.0.1:${origin.port}`);
  dir = await mkdtemp(join(tmpdir(), 'cft-proxy-'));
});

after(async () => {
  await svc.close();
  await origin.close();
  await rm(dir, { recursive: true, force: true });
});

function request(over: Partial<OriginRequest> = {}): OriginRequest {
  return {
    method: 'GET',
    url: 'http://echo.test/',
    host: 'echo.test',
    headers: [...EDGE_HEADERS],
    body: null,
    isWebsocket: false,
    connectorId: CONNECTOR_ID,
    ...over,
  };
}

const signal = (): AbortSignal => new AbortController().signal;

function headerValues(h: Array<[string, string]>, name: string): string[] {
  return h.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

async function text(body: Readable | null): Promise<string> {
  assert.ok(body);
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts).toString();
}

test('GET: origin sees path, query, Host, edge headers in order, Cf-Warp-Tag-Id, keep-alive; internal headers gone', async () => {
  const res = await svc.roundTrip(
    request({
      url: 'http://echo.test/dup?x=1',
      headers: [
        ...EDGE_HEADERS,
        ['X-Dup', 'a'],
        ['Cf-Cloudflared-Proxy-Connection-Upgrade', 'x'],
        ['Cf-Trace-Id', 'abc:def:0:1'],
        ['x-dup', 'b'],
      ],
    }),
    signal(),
  );
  assert.equal(res.status, 200);
  await text(res.body);
  const seen = origin.seen.at(-1)!;
  assert.equal(seen.method, 'GET');
  assert.equal(seen.url, '/dup?x=1');
  const h = seen.rawHeaders;
  assert.deepEqual(headerValues(h, 'host'), ['echo.test']);
  assert.deepEqual(headerValues(h, 'x-dup'), ['a', 'b']);
  assert.deepEqual(headerValues(h, 'cf-warp-tag-id'), [CONNECTOR_ID]);
  assert.ok(
    h.some(([n]) => n === 'Cf-Warp-Tag-Id'),
    'Go-canonical name',
  );
  assert.deepEqual(headerValues(h, 'connection'), ['keep-alive']);
  assert.deepEqual(headerValues(h, 'x-forwarded-for'), ['127.0.0.1']);
  assert.deepEqual(headerValues(h, 'x-forwarded-proto'), ['http']);
  assert.deepEqual(headerValues(h, 'cf-ray'), ['0000000000000002-TST']);
  assert.deepEqual(headerValues(h, 'cf-cloudflared-proxy-connection-upgrade'), []);
  assert.deepEqual(headerValues(h, 'cf-trace-id'), []);
  assert.deepEqual(headerValues(h, 'user-agent'), [], 'no default User-Agent');
  assert.deepEqual(headerValues(h, 'x-forwarded-host'), []);
  assert.equal(seen.bodyBytes, 0);
});

test('httpHostHeader replaces Host and moves the original to X-Forwarded-Host; tags are appended', async () => {
  const s = createOriginService(
    `http://127.0.0.1:${origin.port}`,
    { httpHostHeader: 'internal.example' },
    { tags: [['env', 'prod']] },
  );
  try {
    const res = await s.roundTrip(request(), signal());
    await text(res.body);
    const h = origin.seen.at(-1)!.rawHeaders;
    assert.deepEqual(headerValues(h, 'host'), ['internal.example']);
    assert.deepEqual(headerValues(h, 'x-forwarded-host'), ['echo.test']);
    assert.deepEqual(headerValues(h, 'cf-warp-tag-env'), ['prod']);
    assert.ok(h.some(([n]) => n === 'Cf-Warp-Tag-Env'));
  } finally {
    await s.close();
  }
});

test('HEAD gets the status and no body bytes', async () => {
  const res = await svc.roundTrip(request({ method: 'HEAD' }), signal());
  assert.equal(res.status, 200);
  assert.equal(await text(res.body), '');
  assert.equal(origin.seen.at(-1)!.method, 'HEAD');
});

test('POST with Content-Length and chunked PUT deliver their bodies', async () => {
  const body = Buffer.from('hello origin');
  const post = await svc.roundTrip(
    request({
      method: 'POST',
      headers: [...EDGE_HEADERS, ['Content-Length', String(body.length)]],
      body: Readable.from([body]),
    }),
    signal(),
  );
  assert.equal(post.status, 200);
  await text(post.body);
  let seen = origin.seen.at(-1)!;
  assert.equal(seen.bodyBytes, body.length);
  assert.deepEqual(headerValues(seen.rawHeaders, 'content-length'), [String(body.length)]);
  const put = await svc.roundTrip(
    request({
      method: 'PUT',
      headers: [...EDGE_HEADERS, ['Transfer-Encoding', 'chunked']],
      body: Readable.from([Buffer.from('a'), Buffer.from('bc')]),
    }),
    signal(),
  );
  await text(put.body);
  seen = origin.seen.at(-1)!;
  assert.equal(seen.method, 'PUT');
  assert.equal(seen.bodyBytes, 3);
  assert.deepEqual(headerValues(seen.rawHeaders, 'transfer-encoding'), ['chunked']);
  assert.deepEqual(headerValues(seen.rawHeaders, 'content-length'), []);
});

test('20 MB streams both ways with equal SHA-256', async () => {
  const size = 20 * 1024 * 1024;
  const expected = await sha256Of(patternStream(size));
  const up = await svc.roundTrip(
    request({
      method: 'POST',
      headers: [...EDGE_HEADERS, ['Transfer-Encoding', 'chunked']],
      body: patternStream(size),
    }),
    signal(),
  );
  assert.deepEqual(JSON.parse(await text(up.body)), { bytes: size, hex: expected.hex });
  const down = await svc.roundTrip(request({ url: `http://echo.test/download?n=${size}` }), signal());
  assert.equal(down.status, 200);
  assert.deepEqual(await sha256Of(down.body!), expected);
  assert.deepEqual(headerValues(down.headers, 'transfer-encoding'), [], 'Transfer-Encoding removed');
});

test('response headers: order, two Set-Cookie, Go-canonical names', async () => {
  const res = await svc.roundTrip(request({ url: 'http://echo.test/cookies' }), signal());
  assert.equal(await text(res.body), 'ok');
  const names = res.headers.map(([n]) => n);
  assert.deepEqual(headerValues(res.headers, 'Set-Cookie'), ['a=1', 'b=2']);
  assert.deepEqual(names.slice(0, 4), ['Set-Cookie', 'X-Lower-Name', 'Set-Cookie', 'Content-Length']);
  const chunked = await svc.roundTrip(request({ url: 'http://echo.test/chunked' }), signal());
  assert.equal(await text(chunked.body), 'part1-part2');
  assert.deepEqual(headerValues(chunked.headers, 'Transfer-Encoding'), []);
});

test('404 and 418 pass through with their bodies', async () => {
  for (const status of [404, 418]) {
    const res = await svc.roundTrip(request({ url: `http://echo.test/status/${status}` }), signal());
    assert.equal(res.status, status);
    assert.equal(await text(res.body), `status ${status}\n`);
  }
});

test('http_status service answers with the fixed status, no headers, no body', async () => {
  const s = createOriginService('http_status:418');
  const res = await s.roundTrip(request(), signal());
  assert.deepEqual(res, { status: 418, headers: [], body: null });
  await s.close();
  for (const bad of [
    'http_status:99',
    'http_status:1000',
    'http_status:abc',
    'http://h/path',
    'http://h/',
    'nonsense',
  ]) {
    assert.throws(() => createOriginService(bad), IngressConfigError, bad);
  }
});

async function closedPort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

test('refused origin gives OriginError with cloudflared text', async () => {
  const port = await closedPort();
  const s = createOriginService(`http://127.0.0.1:${port}`);
  try {
    await assert.rejects(s.roundTrip(request(), signal()), (e) => {
      assert.ok(e instanceof OriginError);
      assert.equal(e.code, 'CFT_ERR_ORIGIN_UNREACHABLE');
      assert.equal(
        e.message,
        `Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared: dial tcp 127.0.0.1:${port}: connect: connection refused`,
      );
      return true;
    });
  } finally {
    await s.close();
  }
});

test('origin closing the connection before answering gives OriginError ending in EOF', async () => {
  await assert.rejects(svc.roundTrip(request({ url: 'http://echo.test/drop' }), signal()), (e) => {
    assert.ok(e instanceof OriginError);
    assert.match(e.message, /^Unable to reach the origin service\. .*: EOF$/);
    return true;
  });
});

test('unix socket origin works; a missing socket gives the Go dial text', async () => {
  const sockPath = join(dir, 'origin.sock');
  const unixOrigin = await new TestOrigin().listen(sockPath);
  const s = createOriginService(`unix:${sockPath}`);
  const missing = createOriginService(`unix:${join(dir, 'missing.sock')}`);
  try {
    const res = await s.roundTrip(request({ url: 'http://echo.test/status/418' }), signal());
    assert.equal(res.status, 418);
    await text(res.body);
    assert.deepEqual(headerValues(unixOrigin.seen.at(-1)!.rawHeaders, 'host'), ['echo.test']);
    await assert.rejects(missing.roundTrip(request(), signal()), (e) => {
      assert.ok(e instanceof OriginError);
      assert.match(e.message, /: dial unix .*missing\.sock: connect: no such file or directory$/);
      return true;
    });
  } finally {
    await s.close();
    await missing.close();
    await unixOrigin.close();
  }
});

test('keep-alive: sequential requests reuse one origin connection', async () => {
  const s = createOriginService(`http://127.0.0.1:${origin.port}`);
  try {
    for (const path of ['/a', '/b', '/c']) {
      const res = await s.roundTrip(request({ url: `http://echo.test${path}` }), signal());
      await text(res.body);
      // undici frees the connection in a setImmediate after the response completes (not a timed wait).
      await new Promise(setImmediate);
    }
    const [sa, sb, sc] = origin.seen.slice(-3);
    assert.equal(sa!.url, '/a');
    assert.equal(sb!.remotePort, sa!.remotePort);
    assert.equal(sc!.remotePort, sa!.remotePort);
  } finally {
    await s.close();
  }
});

test('abort before the origin answers rejects with OriginRequestCancelledError and closes the origin request', async () => {
  const ac = new AbortController();
  const reached = origin.hangReached;
  const pending = svc.roundTrip(request({ url: 'http://echo.test/hang' }), ac.signal);
  const originReq = await reached;
  const closed = once(originReq.socket, 'close');
  ac.abort();
  await assert.rejects(
    pending,
    (e) => e instanceof OriginRequestCancelledError && /^Incoming request ended abruptly/.test(e.message),
  );
  await closed;
});

function readBytes(socket: Duplex, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= n) {
        socket.off('data', onData);
        socket.off('error', reject);
        resolve(buf);
      }
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

test('websocket: 101 with upgrade headers, the socket echoes frames', async () => {
  const res = await svc.roundTrip(
    request({
      url: 'http://ws.test/ws',
      host: 'ws.test',
      isWebsocket: true,
      headers: [
        ...EDGE_HEADERS,
        ['Sec-Websocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
        ['Sec-Websocket-Version', '13'],
        ['Cf-Cloudflared-Proxy-Connection-Upgrade', 'websocket'],
      ],
    }),
    signal(),
  );
  assert.equal(res.status, 101);
  assert.equal(res.body, null);
  assert.deepEqual(headerValues(res.headers, 'Sec-Websocket-Accept'), ['s3pPLMBiTxaQ9kYGzzhZRbK+xOo=']);
  assert.ok(
    res.headers.some(([n]) => n === 'Sec-Websocket-Accept'),
    'Go-canonical name',
  );
  assert.deepEqual(
    headerValues(res.headers, 'Upgrade').map((v) => v.toLowerCase()),
    ['websocket'],
  );
  const seen = origin.seen.at(-1)!;
  assert.equal(seen.url, '/ws');
  assert.deepEqual(headerValues(seen.rawHeaders, 'sec-websocket-version'), ['13']);
  assert.deepEqual(
    headerValues(seen.rawHeaders, 'connection').map((v) => v.toLowerCase()),
    ['upgrade'],
  );
  assert.deepEqual(headerValues(seen.rawHeaders, 'upgrade'), ['websocket']);
  assert.deepEqual(headerValues(seen.rawHeaders, 'cf-cloudflared-proxy-connection-upgrade'), []);
  assert.deepEqual(headerValues(seen.rawHeaders, 'cf-warp-tag-id'), [CONNECTOR_ID]);
  const socket = res.socket!;
  const mask = Buffer.from([1, 2, 3, 4]);
  const payload = Buffer.from('hello');
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
  const echoed = await readBytes(socket, 2 + payload.length);
  assert.deepEqual(echoed, Buffer.concat([Buffer.from([0x81, payload.length]), payload]));
  const closed = once(socket, 'close');
  socket.destroy();
  await closed;
});

test('requestHasBody follows the §7.2 rule', () => {
  assert.equal(requestHasBody([], false), false);
  assert.equal(requestHasBody([['Content-Length', '0']], false), false);
  assert.equal(requestHasBody([['content-length', '5']], false), true);
  assert.equal(requestHasBody([['Transfer-Encoding', 'gzip, chunked']], false), true);
  assert.equal(requestHasBody([], true), true);
});
