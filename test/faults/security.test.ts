/**
 * Security properties (issue 9): edge certificate checks on both transports, no path that turns verification off,
 * and the tunnel secret / token never leaving the process in logs, errors, metrics or readiness output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { LocalEdge, generateEdgeCertificates } from '../../src/local-edge/index.js';
import { dialTunnelConnection } from '../../src/supervisor/dial.js';
import { EdgeTlsError } from '../../src/transport/errors.js';
import { Tunnel } from '../../src/tunnel.js';
import { connectionContext, makeToken, startOrigin } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';
import { nextEvents } from './events.js';

for (const protocol of ['quic', 'http2'] as const) {
  test(`${protocol}: an expired edge certificate is refused with CFT_ERR_EDGE_TLS expired`, async () => {
    const { token } = makeToken();
    const certs = await generateEdgeCertificates({
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const edge = await LocalEdge.start({ tunnels: [token], certs });
    try {
      await assert.rejects(
        dialTunnelConnection(protocol, edge.address, connectionContext(token), { caCert: certs.caPem }),
        (err: unknown) => {
          assert.ok(err instanceof EdgeTlsError, String(err));
          assert.equal(err.reason, 'expired');
          return true;
        },
      );
    } finally {
      await edge.close();
    }
  });
}

test('http2: an edge offering only TLS 1.1 is refused (QUIC is TLS 1.3 by construction, RFC 9001 §4.2)', async () => {
  const { token } = makeToken();
  const certs = await generateEdgeCertificates();
  const server = tls.createServer({
    cert: certs.certPem,
    key: certs.keyPem,
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.1',
    ciphers: 'DEFAULT:@SECLEVEL=0',
  });
  let handshakes = 0;
  server.on('secureConnection', (s) => {
    handshakes++;
    s.destroy();
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    await assert.rejects(
      dialTunnelConnection('http2', { host: '127.0.0.1', port }, connectionContext(token), { caCert: certs.caPem }),
    );
    assert.equal(handshakes, 0, 'no TLS session below 1.2 was established');
  } finally {
    server.close();
  }
});

test('no source path in transport, supervisor or connection turns edge certificate verification off', () => {
  const root = fileURLToPath(new URL('../../src/', import.meta.url));
  const forbidden = [
    /rejectUnauthorized\s*:\s*(false|!|0)/,
    /NODE_TLS_REJECT_UNAUTHORIZED/,
    /insecureSkipVerify|verify\s*:\s*false/i,
    /checkServerIdentity\s*:\s*\(\)\s*=>\s*undefined/,
  ];
  // The key-exchange probe talks PSK to its own loopback server, never to an edge: no certificate exists to check.
  const allowed = new Map([['transport/tls/curves.ts', /checkServerIdentity/]]);
  const offending: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) {
        const rel = path.slice(root.length);
        readFileSync(path, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            for (const re of forbidden)
              if (re.test(line) && !allowed.get(rel)?.test(line)) offending.push(`${rel}:${i + 1}: ${line.trim()}`);
          });
      }
    }
  };
  for (const dir of ['transport', 'supervisor', 'connection']) walk(join(root, dir));
  assert.deepEqual(offending, []);
});

test(
  'the token and tunnel secret never appear in trace logs, errors, /metrics or /ready over a whole session',
  { timeout: 60_000 },
  async () => {
    const { token, secret } = makeToken();
    const forms = [
      token,
      secret.toString('hex'),
      secret.toString('base64'),
      secret.toString('base64url'),
      secret.toString('base64').replace(/=+$/, ''),
      secret.toString('latin1'),
    ];
    const captured: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        captured.push(chunk.toString('utf8'));
        cb();
      },
    });
    const logger = pino({ level: 'trace' }, sink);
    const origin = await startOrigin((_req, res) => res.end('hello'));
    const edge = await LocalEdge.start({ tunnels: [token] });
    const tunnel = new Tunnel({
      token,
      url: origin.url,
      edge: [`127.0.0.1:${edge.address.port}`],
      caCert: edge.caPem,
      protocol: 'quic',
      haConnections: 1,
      logger,
      metrics: '127.0.0.1:0',
    });
    const errors: unknown[] = [];
    try {
      await tunnel.ready();
      for (let i = 0; i < 5; i++) assert.equal((await visit(edge.visitorUrl, { path: `/x${i}` })).status, 200);
      await edge.pushConfig(1, { ingress: [{ service: origin.url }] });
      // A registration error after startup: refused once, then accepted.
      let refused = false;
      edge.registrationDecider = () =>
        refused
          ? { accept: true }
          : ((refused = true), { accept: false, cause: 'Unauthorized: nope', shouldRetry: false });
      const retried = nextEvents<[{ error: Error }]>(tunnel, 'reconnecting', 2);
      const back = nextEvents(tunnel, 'connected', 1);
      edge.dropConnection(0);
      for (const [e] of await retried) errors.push(e.error);
      await back;
      const metrics = await (await fetch(`http://${tunnel.metricsAddress}/metrics`)).text();
      const ready = await (await fetch(`http://${tunnel.metricsAddress}/ready`)).text();
      captured.push(metrics, ready);
      // A wrong-secret registration produces an error too; its text must not echo the secret either.
      const forged = Buffer.from(
        JSON.stringify({
          ...JSON.parse(Buffer.from(token, 'base64').toString()),
          s: Buffer.alloc(32, 7).toString('base64'),
        }),
      ).toString('base64');
      await dialTunnelConnection('quic', edge.address, connectionContext(forged), { caCert: edge.caPem }).catch(
        (e: unknown) => errors.push(e),
      );
    } finally {
      await tunnel.close({ graceMs: 1000 });
      await edge.close();
      await origin.close();
    }
    for (const e of errors)
      captured.push(
        String(e),
        (e as Error).stack ?? '',
        JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
        String((e as Error).cause ?? ''),
      );
    assert.ok(captured.join('').includes('Registered tunnel connection'), 'the capture saw the session');
    const all = captured.join('\n');
    for (const form of forms) assert.equal(all.includes(form), false, `a secret form leaked (${form.length} chars)`);
  },
);

test('the metrics server binds loopback by default', async () => {
  const { DEFAULT_METRICS_ADDRESS } = await import('../../src/metrics/index.js');
  const { token } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token] });
  const tunnel = new Tunnel({
    token,
    edge: [`127.0.0.1:${edge.address.port}`],
    caCert: edge.caPem,
    protocol: 'quic',
    haConnections: 1,
    metrics: DEFAULT_METRICS_ADDRESS,
  });
  try {
    await tunnel.ready();
    const host = tunnel.metricsAddress!.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    assert.ok(host === '127.0.0.1' || host === '::1', `bound ${host}`);
  } finally {
    await tunnel.close({ graceMs: 0 });
    await edge.close();
  }
});
