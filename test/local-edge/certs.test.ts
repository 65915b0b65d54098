import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { generateEdgeCertificates } from '../../src/local-edge/certs.js';

test('the generated leaf verifies against the generated CA for both edge names', async () => {
  const certs = await generateEdgeCertificates();
  const ca = new X509Certificate(certs.caPem);
  const leaf = new X509Certificate(certs.certPem);
  assert.ok(leaf.verify(ca.publicKey));
  assert.equal(leaf.checkHost('quic.cftunnel.com'), 'quic.cftunnel.com');
  assert.equal(leaf.checkHost('h2.cftunnel.com'), 'h2.cftunnel.com');
  assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(leaf.checkHost('example.com'), undefined);
});

test('a TLS client trusting only the CA completes a handshake with SNI h2.cftunnel.com', async () => {
  const certs = await generateEdgeCertificates();
  const server = tls.createServer({ cert: certs.certPem, key: certs.keyPem }, (s) => s.end('ok'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'h2.cftunnel.com', ca: certs.caPem });
  await once(socket, 'secureConnect');
  assert.equal(socket.authorized, true);
  socket.destroy();
  server.close();
});
