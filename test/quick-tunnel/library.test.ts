/**
 * Quick tunnels as a library against the local edge's quick-tunnel service (docs/protocol.md §20): the service is asked,
 * exactly one connection registers, visitors of the generated hostname reach a URL origin or an in-process app, the
 * metrics server reports the hostname at /quicktunnel, and the untun-compatible entry does the same behind untun's API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { inspect } from 'node:util';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import http from 'node:http';
import { Hono } from 'hono';
import { LocalEdge, DEFAULT_QUICK_TUNNEL_DOMAIN, type QuickTunnelCreated } from '../../src/local-edge/index.js';
import { generateEdgeCertificates } from '../../src/local-edge/certs.js';
import { startQuickTunnel } from '../../src/quick-tunnel/index.js';
import { startTunnel as startUntunTunnel, untunOriginUrl } from '../../src/quick-tunnel/untun.js';
import { quicAvailability } from '../../src/transport/quic/index.js';
import { startOrigin } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';

const quic = quicAvailability();

async function quickEdge(t: { after(fn: () => unknown): void }): Promise<{
  edge: LocalEdge;
  created: QuickTunnelCreated[];
  connector: { serviceUrl: string; edge: string[]; caCert: string };
}> {
  const edge = await LocalEdge.start({ tunnels: [], quickTunnels: true });
  t.after(() => edge.close());
  const created: QuickTunnelCreated[] = [];
  edge.on('quick_tunnel', (c) => created.push(c));
  return {
    edge,
    created,
    connector: {
      serviceUrl: edge.quickServiceUrl!,
      edge: [`${edge.address.host}:${edge.address.port}`],
      caCert: edge.caPem,
    },
  };
}

for (const protocol of ['quic', 'http2'] as const) {
  const skip = protocol === 'quic' && !quic.available ? 'QUIC unavailable' : false;

  test(
    `${protocol}: startQuickTunnel with a URL origin: service asked, one connection, visitor served by hostname, /quicktunnel`,
    { skip, timeout: 60_000 },
    async (t) => {
      const origin = await startOrigin((req, res) => res.end(`origin got ${req.method} ${req.url}`));
      t.after(() => origin.close());
      const { edge, created, connector } = await quickEdge(t);
      const logs: string[] = [];
      const logger = pino(
        { level: 'debug' },
        new Writable({ write: (chunk: Buffer, _enc, done) => void (logs.push(chunk.toString()), done()) }),
      );
      const quick = await startQuickTunnel({
        origin: origin.url,
        ...connector,
        protocol,
        metrics: '127.0.0.1:0',
        userAgent: 'cftunnel-test/1',
        logger,
      });
      t.after(() => quick.close({ graceMs: 0 }));

      assert.equal(created.length, 1);
      assert.equal(created[0]!.userAgent, 'cftunnel-test/1');
      assert.equal(quick.hostname, created[0]!.hostname);
      assert.ok(quick.hostname.endsWith(`.${DEFAULT_QUICK_TUNNEL_DOMAIN}`));
      assert.equal(quick.url, `https://${quick.hostname}`);
      assert.equal(quick.tunnel.credentials.tunnelId, created[0]!.tunnelId);
      const connections = edge.connections(created[0]!.tunnelId);
      assert.equal(connections.length, 1);
      assert.equal(connections[0]!.protocol, protocol);
      assert.equal(quick.tunnel.connections.length, 1);

      const res = await visit(edge.visitorUrl, { host: quick.hostname, path: '/hello?x=1' });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'origin got GET /hello?x=1');

      const qt = await fetch(`http://${quick.tunnel.metricsAddress}/quicktunnel`);
      assert.equal(qt.status, 200);
      assert.equal(await qt.text(), JSON.stringify({ hostname: quick.hostname }));

      const unregistered = once(edge, 'unregister');
      await quick.close({ graceMs: 0 });
      await unregistered;
      assert.equal(edge.connections(created[0]!.tunnelId).length, 0);

      // The secret the service handed out shows nowhere: logs, inspection, JSON.
      assert.ok(logs.some((l) => l.includes('Quick tunnel created')));
      const secret = quick.tunnel.credentials.tunnelSecret.bytes();
      const visible = [logs.join(''), inspect(quick, { depth: 4 }), JSON.stringify(quick.tunnel.credentials)].join(
        '\n',
      );
      for (const needle of [secret.toString('hex'), secret.toString('base64'), secret.toString('base64url')])
        assert.equal(visible.includes(needle), false);
    },
  );

  test(
    `${protocol}: startQuickTunnel with in-process apps (Express, Hono, Fastify, http.Server): no port, one connection each`,
    { skip, timeout: 60_000 },
    async (t) => {
      const { edge, connector } = await quickEdge(t);
      const app = express();
      app.get('/who', (req, res) => res.json({ app: 'express', host: req.headers.host }));
      const hono = new Hono();
      hono.get('/who', (c) => c.json({ app: 'hono' }));

      const viaExpress = await startQuickTunnel({ origin: app, ...connector, protocol });
      t.after(() => viaExpress.close({ graceMs: 0 }));
      const viaHono = await startQuickTunnel({ origin: hono, ...connector, protocol });
      t.after(() => viaHono.close({ graceMs: 0 }));
      assert.notEqual(viaExpress.hostname, viaHono.hostname);
      assert.equal(edge.connections(viaExpress.tunnel.credentials.tunnelId).length, 1);
      assert.equal(edge.connections(viaHono.tunnel.credentials.tunnelId).length, 1);

      // Each hostname reaches its own tunnel.
      const a = await visit(edge.visitorUrl, { host: viaExpress.hostname, path: '/who' });
      assert.equal(a.status, 200);
      assert.deepEqual(JSON.parse(a.body.toString()), { app: 'express', host: viaExpress.hostname });
      const b = await visit(edge.visitorUrl, { host: viaHono.hostname, path: '/who' });
      assert.equal(b.status, 200);
      assert.deepEqual(JSON.parse(b.body.toString()), { app: 'hono' });

      const fastify = Fastify();
      fastify.get('/who', async () => ({ app: 'fastify' }));
      await fastify.ready();
      t.after(() => fastify.close());
      const server = http.createServer((_req, res) => res.end('plain http.Server'));
      for (const [origin, expected] of [
        [fastify.server, '{"app":"fastify"}'],
        [server, 'plain http.Server'],
      ] as const) {
        const quick = await startQuickTunnel({ origin, ...connector, protocol });
        t.after(() => quick.close({ graceMs: 0 }));
        assert.equal(edge.connections(quick.tunnel.credentials.tunnelId).length, 1);
        const res = await visit(edge.visitorUrl, { host: quick.hostname, path: '/who' });
        assert.equal(res.status, 200);
        assert.equal(res.body.toString(), expected);
      }
      assert.equal(server.listening, false);
    },
  );

  test(
    `${protocol}: cftunnel/untun startTunnel({ port, hostname }) → getURL() serves the local server; close() unregisters`,
    { skip, timeout: 60_000 },
    async (t) => {
      const origin = await startOrigin((req, res) => res.end(`untun origin ${req.url}`));
      t.after(() => origin.close());
      const port = Number(new URL(origin.url).port);
      const { edge, created, connector } = await quickEdge(t);
      const tunnel = await startUntunTunnel(
        { port, hostname: '127.0.0.1', acceptCloudflareNotice: true, extraArgs: ['--no-autoupdate'] },
        { ...connector, protocol },
      );
      const url = await tunnel.getURL();
      assert.equal(url, `https://${created[0]!.hostname}`);
      assert.equal(edge.connections(created[0]!.tunnelId).length, 1);
      const res = await visit(edge.visitorUrl, { host: new URL(url).hostname, path: '/x' });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'untun origin /x');
      const unregistered = once(edge, 'unregister');
      await tunnel.close();
      await unregistered;
    },
  );
}

test('untun option defaults: url wins, else {protocol}://{hostname}:{port} with http, localhost, 3000', () => {
  assert.equal(untunOriginUrl({}), 'http://localhost:3000');
  assert.equal(untunOriginUrl({ port: 8080, hostname: '127.0.0.1', protocol: 'https' }), 'https://127.0.0.1:8080');
  assert.equal(untunOriginUrl({ url: 'http://a.test:1', port: 2 }), 'http://a.test:1');
  assert.equal(untunOriginUrl({ url: '', port: '4000' }), 'http://localhost:4000');
});

test(
  'untun verifyTLS: off by default (a self-signed HTTPS origin is served), on refuses the untrusted certificate',
  { timeout: 60_000 },
  async (t) => {
    const certs = await generateEdgeCertificates();
    const server = https.createServer({ cert: certs.certPem, key: certs.keyPem }, (_req, res) => res.end('tls origin'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => server.close());
    const port = (server.address() as AddressInfo).port;
    const { edge, connector } = await quickEdge(t);
    const options = { ...connector, protocol: 'http2' as const };

    const lax = await startUntunTunnel({ port, hostname: '127.0.0.1', protocol: 'https' }, options);
    t.after(() => lax.close());
    const ok = await visit(edge.visitorUrl, { host: new URL(await lax.getURL()).hostname });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), 'tls origin');

    const strict = await startUntunTunnel({ port, hostname: '127.0.0.1', protocol: 'https', verifyTLS: true }, options);
    t.after(() => strict.close());
    const refused = await visit(edge.visitorUrl, { host: new URL(await strict.getURL()).hostname });
    assert.equal(refused.status, 502);
  },
);

test('untun extraArgs other than --no-autoupdate are refused before any service request', async (t) => {
  const { created, connector } = await quickEdge(t);
  await assert.rejects(startUntunTunnel({ port: 1, extraArgs: ['--protocol', 'http2'] }, connector), {
    code: 'CFT_ERR_OPTIONS',
  });
  assert.equal(created.length, 0);
});
