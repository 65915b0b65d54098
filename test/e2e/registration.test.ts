/** Registration outcomes and edge verification failures, on both transports. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { LocalEdge, generateEdgeCertificates } from '../../src/local-edge/index.js';
import { RegistrationError } from '../../src/rpc/tunnel/registration-client.js';
import { dialTunnelConnection } from '../../src/supervisor/dial.js';
import { InitialConnectionError } from '../../src/supervisor/supervisor.js';
import { EdgeTlsError } from '../../src/transport/errors.js';
import { Tunnel } from '../../src/tunnel.js';
import { connectionContext, makeToken, startTunnelEnv } from '../helpers/tunnel-env.js';

for (const protocol of ['quic', 'http2'] as const) {
  test(`${protocol}: an edge signed by another CA is refused with CFT_ERR_EDGE_TLS unknown-authority`, async () => {
    const { token } = makeToken();
    const edge = await LocalEdge.start({ tunnels: [token] });
    const other = await generateEdgeCertificates({ caCommonName: 'some other CA' });
    try {
      await assert.rejects(
        dialTunnelConnection(protocol, edge.address, connectionContext(token), { caCert: other.caPem }),
        (err: unknown) => {
          assert.ok(err instanceof EdgeTlsError, String(err));
          assert.equal(err.code, 'CFT_ERR_EDGE_TLS');
          assert.equal(err.reason, 'unknown-authority');
          return true;
        },
      );
    } finally {
      await edge.close();
    }
  });

  test(`${protocol}: an edge certificate for the wrong name is refused with CFT_ERR_EDGE_TLS name-mismatch`, async () => {
    const { token } = makeToken();
    const certs = await generateEdgeCertificates({ dnsNames: ['not-the-edge.example'], ipAddresses: [] });
    const edge = await LocalEdge.start({ tunnels: [token], certs });
    try {
      await assert.rejects(
        dialTunnelConnection(protocol, edge.address, connectionContext(token), { caCert: certs.caPem }),
        (err: unknown) => {
          assert.ok(err instanceof EdgeTlsError, String(err));
          assert.equal(err.reason, 'name-mismatch');
          return true;
        },
      );
    } finally {
      await edge.close();
    }
  });

  test(`${protocol}: a wrong tunnel secret is refused by the edge as Unauthorized`, async () => {
    const real = makeToken();
    const edge = await LocalEdge.start({ tunnels: [real.token] });
    const forged = Buffer.from(
      JSON.stringify({ a: real.accountTag, t: real.tunnelId, s: randomBytes(32).toString('base64') }),
    ).toString('base64');
    try {
      await assert.rejects(
        dialTunnelConnection(protocol, edge.address, connectionContext(forged), { caCert: edge.caPem }),
        (err: unknown) => {
          assert.ok(err instanceof RegistrationError, String(err));
          assert.equal(err.code, 'CFT_ERR_REGISTRATION_REFUSED');
          assert.equal(err.isUnauthorized, true);
          assert.equal(err.retryable, false);
          return true;
        },
      );
    } finally {
      await edge.close();
    }
  });

  test(`${protocol}: a permanent registration error at startup fails ready() with CFT_ERR_INITIAL_CONNECTION`, async () => {
    const { token } = makeToken();
    const edge = await LocalEdge.start({ tunnels: [token] });
    edge.registrationDecider = () => ({ accept: false, cause: 'tunnel is deleted', shouldRetry: false });
    const tunnel = new Tunnel({
      token,
      edge: [`127.0.0.1:${edge.address.port}`],
      caCert: edge.caPem,
      protocol,
      haConnections: 1,
    });
    try {
      await assert.rejects(tunnel.ready(), (err: unknown) => {
        assert.ok(err instanceof InitialConnectionError);
        assert.ok(err.cause instanceof RegistrationError);
        assert.equal(err.cause.serverCause, 'tunnel is deleted');
        return true;
      });
    } finally {
      await tunnel.close({ graceMs: 0 });
      await edge.close();
    }
  });

  test(`${protocol}: closing the tunnel unregisters every connection`, async () => {
    const env = await startTunnelEnv({ protocol, haConnections: 4 });
    const unregistered: number[] = [];
    env.edge.on('unregister', (info) => unregistered.push(info.connIndex));
    await env.tunnel.close({ graceMs: 2000 });
    assert.deepEqual(unregistered.sort(), [0, 1, 2, 3]);
    await env.edge.close();
  });
}
