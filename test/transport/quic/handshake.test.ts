import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { generateEdgeCertificates, type EdgeCertificates } from '../../../src/local-edge/certs.js';
import {
  QuicConfigError,
  QuicHandshakeTimeoutError,
  QuicTlsError,
  QuicUdpUnreachableError,
  connectQuic,
  listenQuic,
  quicAvailability,
  type QuicClientOptions,
  type QuicServerOptions,
} from '../../../src/transport/quic/index.js';
import { edgeCerts, quicPair } from './helpers.js';

/** Runs a server with `serverCerts` and dials it; returns the client's rejection. */
async function failedDial(
  serverCerts: EdgeCertificates,
  clientOptions: Partial<QuicClientOptions> = {},
  serverOptions: Partial<QuicServerOptions> = {},
): Promise<unknown> {
  const trusted = await edgeCerts();
  const server = await listenQuic({
    host: '127.0.0.1',
    port: 0,
    cert: serverCerts.certPem,
    key: serverCerts.keyPem,
    ...serverOptions,
  });
  let accepted = 0;
  server.on('connection', () => accepted++);
  try {
    await connectQuic({
      host: '127.0.0.1',
      port: server.address().port,
      serverName: 'quic.cftunnel.com',
      ca: trusted.caPem,
      ...clientOptions,
    });
  } catch (err) {
    assert.equal(accepted, 0, 'the server must not report a connection');
    return err;
  } finally {
    await server.close();
  }
  assert.fail('the handshake should have failed');
}

test('the native binding is available on this linux-x64 machine', () => {
  assert.deepEqual(quicAvailability(), { available: true });
});

test('connects, verifies the server and negotiates argotunnel', async () => {
  const pair = await quicPair();
  assert.equal(pair.client.alpnProtocol, 'argotunnel');
  assert.equal(pair.client.remoteAddress.port, pair.server.address().port);
  assert.equal(pair.serverConn.remoteAddress.port, pair.client.localAddress.port);
  assert.equal(pair.client.closed, false);
  await pair.close();
  assert.equal(pair.client.closed, true);
});

test('a certificate from another CA fails with "certificate signed by unknown authority"', async () => {
  const other = await generateEdgeCertificates({ caCommonName: 'someone else' });
  const err = await failedDial(other);
  assert.ok(err instanceof QuicTlsError, String(err));
  assert.equal(err.code, 'CFT_ERR_QUIC_TLS');
  assert.equal(err.failure, 'unknown-authority');
  assert.equal(err.alert, 48);
  assert.match(err.message, /certificate signed by unknown authority/);
});

test('a certificate for another name fails as a bad certificate', async () => {
  const trusted = await edgeCerts();
  const err = await failedDial(trusted, { serverName: 'h3.example.test' });
  assert.ok(err instanceof QuicTlsError, String(err));
  assert.equal(err.failure, 'bad-certificate');
  assert.equal(err.alert, 42);
});

test('an ALPN mismatch fails with no-application-protocol', async () => {
  const trusted = await edgeCerts();
  const err = await failedDial(trusted, {}, { alpn: ['h3'] });
  assert.ok(err instanceof QuicTlsError, String(err));
  assert.equal(err.failure, 'no-application-protocol');
  assert.equal(err.remote, true);
});

test('an expired certificate is rejected', async () => {
  const expired = await generateEdgeCertificates({
    notBefore: new Date(Date.now() - 48 * 3600_000),
    notAfter: new Date(Date.now() - 24 * 3600_000),
  });
  // The client trusts the expired leaf's own CA, so expiry is the only failing check.
  const err = await failedDial(expired, { ca: expired.caPem });
  assert.ok(err instanceof QuicTlsError, String(err));
  assert.equal(err.failure, 'expired-certificate');
});

test('an invalid CA PEM is refused before dialling', async () => {
  const bad = '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n';
  await assert.rejects(
    connectQuic({ host: '127.0.0.1', port: 9, serverName: 'quic.cftunnel.com', ca: bad }),
    QuicConfigError,
  );
  await assert.rejects(
    connectQuic({ host: '127.0.0.1', port: 9, serverName: 'quic.cftunnel.com', ca: 'nothing' }),
    QuicConfigError,
  );
});

test('a silent server fails with a handshake timeout', async () => {
  const trusted = await edgeCerts();
  const silent = createSocket('udp4');
  silent.bind(0, '127.0.0.1');
  await once(silent, 'listening');
  const heard = once(silent, 'message');
  const dial = connectQuic({
    host: '127.0.0.1',
    port: silent.address().port,
    serverName: 'quic.cftunnel.com',
    ca: trusted.caPem,
    handshakeTimeoutMs: 300,
  });
  await heard;
  await assert.rejects(
    dial,
    (err: unknown) => err instanceof QuicHandshakeTimeoutError && err.code === 'CFT_ERR_QUIC_HANDSHAKE_TIMEOUT',
  );
  silent.close();
});

test('a closed UDP port (ICMP port unreachable) fails the dial with the socket error, not a handshake timeout', async () => {
  const trusted = await edgeCerts();
  const probe = createSocket('udp4');
  probe.bind(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = probe.address().port;
  probe.close();
  // The timeout is long enough that only the ICMP error can end the dial before it.
  const dial = connectQuic({
    host: '127.0.0.1',
    port,
    serverName: 'quic.cftunnel.com',
    ca: trusted.caPem,
    handshakeTimeoutMs: 3000,
  });
  await assert.rejects(dial, (err: unknown) => {
    assert.ok(err instanceof QuicUdpUnreachableError, String(err));
    assert.equal(err.code, 'CFT_ERR_QUIC_UDP_UNREACHABLE');
    assert.equal(err.errno, 'ECONNREFUSED');
    assert.equal(err.retryable, true);
    return true;
  });
});
