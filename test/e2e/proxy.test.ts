/**
 * Issue "Tunnel connections end to end": every request kind through the local edge's visitor port, over both
 * transports, with 4 HA connections (round-robin spreads requests across them).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { Readable } from 'node:stream';
import { WebSocket } from 'ws';
import { patternSha256, patternStream, startTestOrigin, type EchoReport } from '../helpers/test-origin.js';
import { startTunnelEnv, type TunnelEnv } from '../helpers/tunnel-env.js';
import { headerValues, visit } from '../helpers/visitor.js';

const MB = 1024 * 1024;

function echoHeader(report: EchoReport, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < report.rawHeaders.length; i += 2) {
    if (report.rawHeaders[i]!.toLowerCase() === name) out.push(report.rawHeaders[i + 1]!);
  }
  return out;
}

for (const protocol of ['quic', 'http2'] as const) {
  describe(`${protocol}: proxying through the local edge`, () => {
    let origin: Awaited<ReturnType<typeof startTestOrigin>>;
    let env: TunnelEnv;

    before(async () => {
      origin = await startTestOrigin();
      env = await startTunnelEnv({
        protocol,
        url: origin.url,
        haConnections: 4,
        edge: { tcp: [{ destination: '127.0.0.1:9' }] },
      });
    });
    after(async () => {
      await env.close();
      await origin.close();
    });

    test('4 connections registered with the registerConnection fields of docs/protocol.md §6.6', () => {
      const conns = env.edge.connections();
      assert.deepEqual(
        conns.map((c) => c.connIndex),
        [0, 1, 2, 3],
      );
      const clientIds = new Set(conns.map((c) => c.registration.clientId));
      assert.equal(clientIds.size, 1, 'one connector id for every connection');
      assert.equal([...clientIds][0], env.tunnel.identity.connectorId);
      for (const c of conns) {
        assert.equal(c.protocol, protocol);
        assert.equal(c.registration.tunnelId, env.tunnel.credentials.tunnelId);
        assert.equal(c.registration.accountTag, env.tunnel.credentials.accountTag);
        assert.deepEqual([...c.registration.features].sort(), [
          'allow_remote_config',
          'serialized_headers',
          'support_datagram_v2',
          'support_quic_eof',
        ]);
        assert.equal(c.registration.version, env.tunnel.identity.version);
        assert.match(c.registration.arch, /^[a-z]+_[a-z0-9]+$/);
        // QUIC: the edge's address; HTTP/2: the local TCP address — both 127.0.0.1 here, as IPv4-mapped bytes.
        assert.equal(c.registration.originLocalIp, '::ffff:127.0.0.1');
        assert.equal(c.registration.replaceExisting, false);
        assert.equal(c.registration.compressionQuality, 0);
        assert.equal(c.registration.numPreviousAttempts, 0);
      }
      assert.deepEqual(
        env.tunnel.connections.map((c) => c.protocol),
        [protocol, protocol, protocol, protocol],
      );
    });

    test('GET passes path, query, duplicate request headers and the edge headers; Cf-Warp-Tag-Id added', async () => {
      const res = await visit(env.edge.visitorUrl, {
        path: '/dup?x=1',
        host: 'echo.test',
        headers: { 'x-dup': ['a', 'b'] },
      });
      assert.equal(res.status, 200);
      const report = JSON.parse(res.body.toString()) as EchoReport;
      assert.equal(report.method, 'GET');
      assert.equal(report.url, '/dup?x=1');
      assert.deepEqual(echoHeader(report, 'x-dup'), ['a', 'b']);
      assert.deepEqual(echoHeader(report, 'host'), ['echo.test']);
      assert.deepEqual(echoHeader(report, 'cf-warp-tag-id'), [env.tunnel.identity.connectorId]);
      assert.equal(echoHeader(report, 'cf-ray').length, 1);
      assert.deepEqual(echoHeader(report, 'x-forwarded-proto'), ['http']);
    });

    test('HEAD answers headers without a body', async () => {
      const res = await visit(env.edge.visitorUrl, { method: 'HEAD', path: '/download?size=1000' });
      assert.equal(res.status, 200);
      assert.deepEqual(headerValues(res, 'content-length'), ['1000']);
      assert.equal(res.body.length, 0);
    });

    test('POST with Content-Length and chunked PUT deliver their bodies', async () => {
      const post = await visit(env.edge.visitorUrl, {
        method: 'POST',
        path: '/post',
        body: 'hello body',
        headers: { 'content-type': 'text/plain' },
      });
      const postReport = JSON.parse(post.body.toString()) as EchoReport;
      assert.equal(postReport.method, 'POST');
      assert.equal(postReport.bodyLength, 10);
      const chunks = ['hello ', 'chunked ', 'body'];
      const put = await visit(env.edge.visitorUrl, {
        method: 'PUT',
        path: '/put',
        body: Readable.from(chunks.map((c) => Buffer.from(c))),
      });
      const putReport = JSON.parse(put.body.toString()) as EchoReport;
      assert.equal(putReport.method, 'PUT');
      assert.equal(putReport.bodyLength, 18);
    });

    test('two Set-Cookie response headers both arrive', async () => {
      const res = await visit(env.edge.visitorUrl, { path: '/cookies' });
      assert.deepEqual(headerValues(res, 'set-cookie'), ['a=1', 'b=2']);
    });

    test('404 and 418 from the origin pass through with their bodies', async () => {
      const missing = await visit(env.edge.visitorUrl, { path: '/missing' });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.toString(), 'not here');
      const teapot = await visit(env.edge.visitorUrl, { path: '/teapot' });
      assert.equal(teapot.status, 418);
    });

    test('50 MB download streams intact (SHA-256)', async () => {
      const size = 50 * MB;
      const res = await visit(env.edge.visitorUrl, { path: `/download?size=${size}&seed=7`, hashBody: true });
      assert.equal(res.status, 200);
      assert.equal(res.bytes, size);
      assert.equal(res.sha256, await patternSha256(size, 7));
    });

    test('50 MB upload streams intact (SHA-256)', async () => {
      const size = 50 * MB;
      const res = await visit(env.edge.visitorUrl, {
        method: 'POST',
        path: '/upload',
        body: patternStream(size, 9),
        headers: { 'content-length': String(size) },
      });
      const report = JSON.parse(res.body.toString()) as EchoReport;
      assert.equal(report.bodyLength, size);
      assert.equal(report.bodySha256, await patternSha256(size, 9));
    });

    test('WebSocket echo of 1000 messages', async () => {
      const ws = new WebSocket(`${env.edge.visitorUrl.replace('http', 'ws')}/ws`, { headers: { host: 'ws.test' } });
      await once(ws, 'open');
      const received: string[] = [];
      const done = new Promise<void>((resolve) => {
        ws.on('message', (data) => {
          received.push(data.toString());
          if (received.length === 1000) resolve();
        });
      });
      for (let i = 0; i < 1000; i++) ws.send(`m${i}`);
      await done;
      assert.deepEqual(
        received,
        Array.from({ length: 1000 }, (_, i) => `echo:m${i}`),
      );
      ws.close(1000, 'bye');
      await once(ws, 'close');
    });

    test('WebSocket messages up to 1 MiB pass both ways (nothing but the relay reads the edge stream)', async () => {
      const ws = new WebSocket(`${env.edge.visitorUrl.replace('http', 'ws')}/ws`, { headers: { host: 'ws.test' } });
      await once(ws, 'open');
      // Sizes past the 16 KiB and 64 KiB stream buffers: a second, unread reader of the edge stream once paused it
      // there for good.
      for (const size of [5, 20_000, 70_000, MB]) {
        const sent = Buffer.alloc(size, size & 0xff);
        const echoed = once(ws, 'message');
        ws.send(sent, { binary: true });
        const [data] = (await echoed) as [Buffer];
        assert.equal(data.length, size);
        assert.ok(data.equals(sent));
      }
      ws.close(1000, 'bye');
      await once(ws, 'close');
    });

    test('a private-network tcp stream is refused and the connection keeps serving', async () => {
      const answered = once(env.edge, 'tcp_result');
      const socket = net.connect(env.edge.tcpPorts[0]!, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.resume();
      await once(socket, 'close');
      const [result] = (await answered) as [{ ok: boolean; error: string }];
      assert.equal(result.ok, false);
      // QUIC: the §7.3 ConnectResponse error text; HTTP/2: 502 with {"src":"cloudflared"} (§8.7).
      if (protocol === 'quic') assert.match(result.error, /disabled ingress from WARP clients/);
      else assert.match(result.error, /502 \{"src":"cloudflared"\}/);
      const res = await visit(env.edge.visitorUrl, { path: '/after-tcp' });
      assert.equal(res.status, 200);
      assert.equal(env.edge.connections().length, 4);
    });

    test('origin down: the connector reports the failure (QUIC: ConnectResponse error, HTTP/2: 502 + meta)', async () => {
      const [answer] = await env.edge.pushConfig(1, {
        ingress: [{ hostname: 'down.test', service: 'http://127.0.0.1:9' }, { service: origin.url }],
      });
      assert.equal(answer?.err, null);
      const res = await visit(env.edge.visitorUrl, { host: 'down.test' });
      assert.equal(res.status, 502);
      if (protocol === 'quic') assert.match(res.body.toString(), /Unable to reach the origin service/);
      else assert.match(res.body.toString(), /\{"src":"cloudflared"\}/);
      const ok = await visit(env.edge.visitorUrl, { host: 'other.test', path: '/still-up' });
      assert.equal(ok.status, 200);
    });
  });
}
