/**
 * Origin faults (docs/protocol.md §11): refused, reset, stalled headers, stalled body, invalid response, WebSocket cut.
 * Each gives the §11 outcome at the visitor on both transports, and the tunnel connection keeps serving (no
 * `disconnected` event, and a normal request right after succeeds).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { WebSocket } from 'ws';
import { startTunnelEnv } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';

/** Raw TCP origin: the request path picks the misbehaviour. */
async function startRawOrigin(): Promise<{ url: string; stalled: Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let onStall!: () => void;
  const stalled = new Promise<void>((r) => (onStall = r));
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const path = head.split(' ')[1] ?? '/';
      if (path === '/reset') socket.resetAndDestroy();
      else if (path === '/stall-headers') onStall();
      else if (path === '/stall-body') socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
      else if (path === '/garbage') socket.end('THIS IS NOT HTTP\r\n\r\n');
      else if (path === '/ws') {
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' +
            wsAccept(head) +
            '\r\n\r\n',
        );
        setImmediate(() => socket.destroy());
      } else socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    stalled,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** RFC 6455 §1.3 handshake constant. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function wsAccept(head: string): string {
  const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? '';
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
}

/** A port nothing listens on: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

for (const protocol of ['quic', 'http2'] as const) {
  test(`${protocol}: a refusing origin gives 502 and the connection keeps serving`, { timeout: 30_000 }, async () => {
    const env = await startTunnelEnv({ protocol, url: `http://127.0.0.1:${await closedPort()}` });
    try {
      let disconnected = false;
      env.tunnel.on('disconnected', () => (disconnected = true));
      for (let i = 0; i < 3; i++) assert.equal((await visit(env.edge.visitorUrl, { path: `/r${i}` })).status, 502);
      assert.equal(disconnected, false);
      assert.equal(env.edge.connections().length, 1);
    } finally {
      await env.close();
    }
  });

  test(
    `${protocol}: reset, invalid response, stalled headers, stalled body and a cut WebSocket leave the connection serving`,
    { timeout: 30_000 },
    async () => {
      const origin = await startRawOrigin();
      const env = await startTunnelEnv({ protocol, url: origin.url });
      let disconnected = false;
      env.tunnel.on('disconnected', () => (disconnected = true));
      const openRequests: http.ClientRequest[] = [];
      try {
        assert.equal((await visit(env.edge.visitorUrl, { path: '/reset' })).status, 502);
        assert.equal((await visit(env.edge.visitorUrl, { path: '/garbage' })).status, 502);

        // Stalled headers: no connector-side timeout (§11); the visitor waits while other requests keep flowing.
        const stalledReq = http.get({
          host: '127.0.0.1',
          port: new URL(env.edge.visitorUrl).port,
          path: '/stall-headers',
          headers: { host: 'app.test' },
          agent: false,
        });
        stalledReq.on('error', () => undefined);
        openRequests.push(stalledReq);
        await origin.stalled;
        for (let i = 0; i < 3; i++)
          assert.equal((await visit(env.edge.visitorUrl, { path: `/ok${i}` })).body.toString(), 'ok');

        // Stalled body: headers and the first bytes arrive, then nothing; other requests are unaffected.
        const bodyReq = http.get({
          host: '127.0.0.1',
          port: new URL(env.edge.visitorUrl).port,
          path: '/stall-body',
          headers: { host: 'app.test' },
          agent: false,
        });
        bodyReq.on('error', () => undefined);
        openRequests.push(bodyReq);
        const [res] = (await once(bodyReq, 'response')) as [http.IncomingMessage];
        assert.equal(res.statusCode, 200);
        const [first] = (await once(res, 'data')) as [Buffer];
        assert.equal(first.toString(), 'partial');
        assert.equal((await visit(env.edge.visitorUrl, { path: '/ok-after-body-stall' })).body.toString(), 'ok');

        // WebSocket cut right after the upgrade: the visitor's socket closes.
        const ws = new WebSocket(`${env.edge.visitorUrl.replace('http', 'ws')}/ws`, { headers: { host: 'ws.test' } });
        ws.on('error', () => undefined);
        await once(ws, 'close');
        assert.equal((await visit(env.edge.visitorUrl, { path: '/ok-after-ws' })).body.toString(), 'ok');

        assert.equal(disconnected, false);
      } finally {
        for (const r of openRequests) r.destroy();
        await env.close();
        await origin.close();
      }
    },
  );
}
