/**
 * Origin services at the proxy level (docs/protocol.md §10.2, §10.5, §10.8): trailers from HTTP/2 (gRPC-style) and
 * HTTP/1.1 origins on `OriginResponse.trailers`, the WebSocket accept key, and bastion destinations.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { ORIGIN_REQUEST_DEFAULTS, type OriginRequestConfig } from '../../src/ingress/origin-request.js';
import { parseIngressService } from '../../src/ingress/service.js';
import {
  bastionDestination,
  BastionDestinationError,
  createOriginService,
  generateHelloWorldCertificate,
  websocketAccept,
  type OriginRequest,
  type OriginResponse,
} from '../../src/proxy/index.js';

function service(url: string, options: Partial<OriginRequestConfig> = {}): ReturnType<typeof createOriginService> {
  const resolved = { ...ORIGIN_REQUEST_DEFAULTS, ...options };
  return createOriginService(parseIngressService(url, resolved), resolved);
}

const request = (host: string): OriginRequest => ({
  method: 'POST',
  url: `http://${host}/pkg.Svc/Call`,
  host,
  headers: [['Content-Type', 'application/grpc']],
  body: null,
  isWebsocket: false,
  connectorId: 'c0ffee00-0000-4000-8000-000000000000',
});

async function drain(res: OriginResponse): Promise<string> {
  let text = '';
  for await (const chunk of res.body!) text += (chunk as Buffer).toString();
  return text;
}

let h2: http2.Http2SecureServer;
let h2Port: number;
let h1: http.Server;
let h1Port: number;

before(async () => {
  const { certPem, keyPem } = await generateHelloWorldCertificate();
  h2 = http2.createSecureServer({ cert: certPem, key: keyPem });
  h2.on('stream', (stream, headers) => {
    stream.resume();
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'ok' }));
    stream.end(`h2 ${String(headers[':path'])}`);
  });
  h2.listen(0, '127.0.0.1');
  await once(h2, 'listening');
  h2Port = (h2.address() as AddressInfo).port;
  h1 = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', trailer: 'X-Checksum' });
    res.write('h1 body');
    if (req.url !== '/plain') res.addTrailers({ 'x-checksum': 'abc123' });
    res.end();
  });
  h1.listen(0, '127.0.0.1');
  await once(h1, 'listening');
  h1Port = (h1.address() as AddressInfo).port;
});

after(async () => {
  h1.closeAllConnections();
  await new Promise<void>((r) => h1.close(() => r()));
  await new Promise<void>((r) => h2.close(() => r()));
});

test('http2Origin: gRPC-style trailers of an h2 origin are exposed after the body', async () => {
  const svc = service(`https://127.0.0.1:${h2Port}`, { http2Origin: true, noTLSVerify: true });
  try {
    const res = await svc.roundTrip(request('grpc.test'), new AbortController().signal);
    assert.equal(res.status, 200);
    assert.equal(await drain(res), 'h2 /pkg.Svc/Call');
    assert.deepEqual(await res.trailers, [
      ['Grpc-Status', '0'],
      ['Grpc-Message', 'ok'],
    ]);
  } finally {
    await svc.close();
  }
});

test('HTTP/1.1 chunked trailers are exposed too; a response without trailers gives []', async () => {
  const svc = service(`http://127.0.0.1:${h1Port}`);
  try {
    const res = await svc.roundTrip(
      { ...request('h1.test'), url: 'http://h1.test/t', method: 'GET' },
      new AbortController().signal,
    );
    assert.equal(await drain(res), 'h1 body');
    assert.deepEqual(await res.trailers, [['X-Checksum', 'abc123']]);
    const plain = await svc.roundTrip(
      { ...request('h1.test'), url: 'http://h1.test/plain', method: 'GET' },
      new AbortController().signal,
    );
    assert.equal(await drain(plain), 'h1 body');
    assert.deepEqual(await plain.trailers, []);
  } finally {
    await svc.close();
  }
});

test('Sec-WebSocket-Accept follows RFC 6455 (§10.8)', () => {
  assert.equal(websocketAccept('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('bastion destination: scheme and path stripped; a port is required', () => {
  assert.deepEqual(bastionDestination('tcp://10.0.0.1:22/x'), { host: '10.0.0.1', port: 22 });
  assert.deepEqual(bastionDestination('ssh.internal:2222'), { host: 'ssh.internal', port: 2222 });
  assert.deepEqual(bastionDestination('[::1]:22'), { host: '::1', port: 22 });
  assert.throws(() => bastionDestination('ssh.internal'), BastionDestinationError);
});

test('an unreachable bastion destination is an origin error, not a crash', async () => {
  const svc = service('bastion');
  await assert.rejects(
    svc.roundTrip(
      { ...request('b.test'), isWebsocket: true, headers: [['Cf-Access-Jump-Destination', '127.0.0.1:1']] },
      new AbortController().signal,
    ),
    /^Error: Unable to reach the origin service.*dial tcp 127\.0\.0\.1:1: connect: connection refused$|connection refused/,
  );
  await assert.rejects(
    svc.roundTrip({ ...request('b.test'), isWebsocket: true }, new AbortController().signal),
    BastionDestinationError,
  );
});
