/**
 * `http2Origin: true` towards an https origin that only speaks HTTP/1 (ALPN http/1.1). undici's HTTP/1 parser asserts
 * `!this.paused` from a socket 'end' handler when such an origin closes after an EOF-delimited body while the tunnel
 * applies backpressure (nodejs/undici#5360): an uncaught exception that took the connector down. Such origins go
 * through node:http instead. An h2 origin with http2Origin still speaks HTTP/2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { startTunnelEnv, type TunnelEnv } from '../helpers/tunnel-env.js';
import { blob, sha256, zooVisit } from '../helpers/origins/index.js';
import { generateEdgeCertificates } from '../../src/local-edge/certs.js';

const SIZE = 4 << 20;
let env: TunnelEnv;
let h1Origin: tls.Server;
let h2Origin: http2.Http2SecureServer;
let disconnects = 0;

before(async () => {
  const pki = await generateEdgeCertificates({
    dnsNames: ['origin.internal'],
    ipAddresses: [],
    caCommonName: 'cftunnel origin test CA',
  });
  // HTTP/1.0 over TLS, ALPN http/1.1 only: `Connection: close`, a body delimited by the end of the connection.
  h1Origin = tls.createServer({ cert: pki.certPem, key: pki.keyPem, ALPNProtocols: ['http/1.1'] }, (socket) => {
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (c: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.write('HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n');
      socket.end(blob(SIZE));
    });
  });
  h2Origin = http2.createSecureServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
    res.writeHead(200, { 'x-origin-http-version': req.httpVersion }).end(blob(100_000));
  });
  await Promise.all([
    new Promise<void>((r) => h1Origin.listen(0, '127.0.0.1', r)),
    new Promise<void>((r) => h2Origin.listen(0, '127.0.0.1', r)),
  ]);
  env = await startTunnelEnv({ protocol: 'http2' });
  env.tunnel.on('disconnected', () => disconnects++);
  const [pushed] = await env.edge.pushConfig(1, {
    ingress: [
      {
        hostname: 'h1.test',
        service: `https://127.0.0.1:${(h1Origin.address() as AddressInfo).port}`,
        originRequest: { noTLSVerify: true, http2Origin: true },
      },
      {
        hostname: 'h2.test',
        service: `https://127.0.0.1:${(h2Origin.address() as AddressInfo).port}`,
        originRequest: { noTLSVerify: true, http2Origin: true },
      },
      { service: 'http_status:404' },
    ],
  });
  assert.equal(pushed?.err, null);
});

after(async () => {
  await env?.close();
  h1Origin?.close();
  h2Origin?.close();
});

test(
  'http2Origin to an HTTP/1.0 https origin closing after its body, slow visitor over HTTP/2: body intact, no crash',
  { timeout: 60_000 },
  async () => {
    for (const slow of [true, false]) {
      const res = await zooVisit(env.edge.visitorUrl, '/blob', { host: 'h1.test', slow });
      assert.equal(res.failed, undefined, res.failed);
      assert.equal(res.status, 200);
      assert.equal(res.sha256, sha256(blob(SIZE)));
    }
    assert.equal(disconnects, 0);
  },
);

test('http2Origin to an h2 https origin still speaks HTTP/2', async () => {
  const res = await zooVisit(env.edge.visitorUrl, '/', { host: 'h2.test' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-origin-http-version'], '2.0');
  assert.equal(res.sha256, sha256(blob(100_000)));
});
