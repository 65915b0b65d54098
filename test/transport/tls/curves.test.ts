import assert from 'node:assert/strict';
import { getCurves } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import tls from 'node:tls';
import { generateEdgeCertificates, type EdgeCertificates } from '../../../src/local-edge/certs.js';
import {
  curvePreferences,
  detectPostQuantumSupport,
  probeKeyExchangeGroup,
  PostQuantumUnsupportedError,
  type PostQuantumSupport,
} from '../../../src/transport/tls/curves.js';

/** A certificate-authenticated TLS 1.3 server on loopback limited to `serverGroups`; handshakes one client. */
async function handshake(
  certs: EdgeCertificates,
  serverGroups: string,
  clientGroups: string,
): Promise<{ ok: true; group: string | undefined } | { ok: false; error: string }> {
  let server: tls.Server;
  try {
    server = tls.createServer(
      { cert: certs.certPem, key: certs.keyPem, ecdhCurve: serverGroups, minVersion: 'TLSv1.3' },
      (s) => s.end(),
    );
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = tls.connect({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    servername: 'localhost',
    ca: certs.caPem,
    ecdhCurve: clientGroups,
    minVersion: 'TLSv1.3',
  });
  try {
    await once(client, 'secureConnect');
    return { ok: true, group: (client.getEphemeralKeyInfo() as tls.EphemeralKeyInfo | null)?.name };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('post-quantum curve selection (§4.4)', () => {
  let certs: EdgeCertificates;
  let support: PostQuantumSupport;
  before(async () => {
    certs = await generateEdgeCertificates({ dnsNames: ['localhost'] });
    support = await detectPostQuantumSupport();
  });

  it('detection agrees with getCurves() and with an independent certificate-based handshake', async () => {
    assert.equal(
      support.listedByGetCurves,
      getCurves()
        .map((c) => c.toLowerCase())
        .includes('x25519mlkem768'),
    );
    const real = await handshake(certs, 'X25519MLKEM768', 'X25519MLKEM768');
    assert.equal(
      support.supported,
      real.ok,
      `detection ${JSON.stringify(support)} vs handshake ${JSON.stringify(real)}`,
    );
    assert.equal(support.reason === undefined, support.supported);
    assert.equal(await detectPostQuantumSupport(), await detectPostQuantumSupport(), 'cached');
  });

  it('the detection probe completes a handshake with a group this runtime has, and fails with one it lacks', async () => {
    assert.equal(await probeKeyExchangeGroup('P-256'), undefined);
    assert.equal(await probeKeyExchangeGroup('X25519'), undefined);
    assert.equal(typeof (await probeKeyExchangeGroup('NoSuchGroup')), 'string');
  });

  it('strict mode offers only X25519MLKEM768, or fails with a typed error on a runtime without it', () => {
    if (support.supported) {
      const strict = curvePreferences('strict', support);
      assert.equal(strict.ecdhCurve, 'X25519MLKEM768');
      assert.equal(strict.logMessage, 'Tunnel connection curve preferences: [X25519MLKEM768]');
    } else {
      assert.throws(
        () => curvePreferences('strict', support),
        (err: unknown) => {
          assert.ok(err instanceof PostQuantumUnsupportedError);
          assert.equal(err.code, 'CFT_ERR_POST_QUANTUM_UNSUPPORTED');
          assert.equal(err.retryable, false);
          assert.ok(err.message.includes(process.versions.openssl));
          return true;
        },
      );
    }
  });

  it("prefer mode lists X25519MLKEM768 then P-256 when supported, else P-256 alone, in cloudflared's names", () => {
    assert.deepEqual(curvePreferences('prefer', { supported: true }), {
      ecdhCurve: 'X25519MLKEM768:P-256',
      names: ['X25519MLKEM768', 'CurveP256'],
      logMessage: 'Tunnel connection curve preferences: [X25519MLKEM768 CurveP256]',
      postQuantum: true,
    });
    assert.deepEqual(curvePreferences('prefer', { supported: false }), {
      ecdhCurve: 'P-256',
      names: ['CurveP256'],
      logMessage: 'Tunnel connection curve preferences: [CurveP256]',
      postQuantum: false,
    });
  });

  it('prefer mode completes a handshake with a server limited to P-256 and negotiates P-256', async () => {
    const result = await handshake(certs, 'P-256', curvePreferences('prefer', support).ecdhCurve);
    assert.deepEqual(result, { ok: true, group: 'prime256v1' });
  });

  it('prefer mode does not offer X25519: a server limited to X25519 refuses it', async () => {
    const result = await handshake(certs, 'X25519', curvePreferences('prefer', support).ecdhCurve);
    assert.equal(result.ok, false);
    // The same server accepts a client that does offer X25519, so the refusal is about the groups.
    assert.equal((await handshake(certs, 'X25519', 'X25519:P-256')).ok, true);
  });
});
