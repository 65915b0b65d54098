/**
 * Graceful close and open WebSockets: when the drain starts, every relayed WebSocket is closed with 1001 "going
 * away" on both sides, so `close({ graceMs })` does not wait out the grace period and visitors do not see 1006.
 * A close frame only goes between frames: a frame in progress is finished first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { FrameBoundaryTracker, closeFrame, WEBSOCKET_GOING_AWAY } from '../../src/connection/websocket-relay.js';
import { websocketAccept } from '../../src/proxy/websocket-server.js';
import { startTunnelEnv } from '../helpers/tunnel-env.js';

/** A grace period no test would wait out: close() finishing at all shows the WebSockets did not hold it. */
const LONG_GRACE_MS = 600_000;

/** Collects what a socket receives and resolves waits for "at least N bytes". */
function byteReader(socket: Duplex): { bytes(): Buffer; waitFor(n: number): Promise<Buffer> } {
  let buf = Buffer.alloc(0);
  const waiters: Array<{ n: number; resolve(b: Buffer): void; reject(e: Error): void }> = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      if (buf.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(buf);
      }
    }
  };
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    check();
  });
  socket.on('close', () => {
    for (const w of waiters.splice(0)) w.reject(new Error(`closed after ${buf.length} bytes, wanted ${w.n}`));
  });
  return {
    bytes: () => buf,
    waitFor: (n) =>
      buf.length >= n ? Promise.resolve(buf) : new Promise((resolve, reject) => waiters.push({ n, resolve, reject })),
  };
}

/** Unmasks a client frame's payload (RFC 6455 §5.3). */
function unmask(frame: Buffer): { opcode: number; masked: boolean; payload: Buffer } {
  const masked = (frame[1]! & 0x80) !== 0;
  const len = frame[1]! & 0x7f;
  const key = masked ? frame.subarray(2, 6) : undefined;
  const payload = Buffer.from(frame.subarray(masked ? 6 : 2, (masked ? 6 : 2) + len));
  if (key) for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i % 4]!;
  return { opcode: frame[0]! & 0x0f, masked, payload };
}

for (const protocol of ['quic', 'http2'] as const) {
  test(
    `${protocol}: close({ graceMs: 600 s }) closes an open WebSocket with 1001 at once, on both sides, and completes`,
    { timeout: 60_000 },
    async () => {
      const server = http.createServer();
      const wss = new WebSocketServer({ server });
      const originClosed = new Promise<number>((resolve) =>
        wss.on('connection', (ws) => {
          ws.send('hello');
          ws.on('close', (code) => resolve(code));
        }),
      );
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const env = await startTunnelEnv({ protocol, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      try {
        const ws = new WebSocket(`${env.edge.visitorUrl.replace('http', 'ws')}/reload`, {
          headers: { host: 'dev.test' },
        });
        await once(ws, 'message');
        const visitorClosed = once(ws, 'close') as Promise<[number, Buffer]>;
        const closing = env.tunnel.close({ graceMs: LONG_GRACE_MS });
        const [code, reason] = await visitorClosed;
        assert.equal(code, WEBSOCKET_GOING_AWAY);
        assert.equal(reason.toString(), 'tunnel shutting down');
        assert.equal(await originClosed, WEBSOCKET_GOING_AWAY);
        await closing;
        assert.equal(env.tunnel.connections.length, 0);
      } finally {
        await env.close();
        wss.close();
        server.closeAllConnections();
        server.close();
      }
    },
  );

  test(
    `${protocol}: a frame in progress when the drain starts is finished before the 1001 close frame`,
    { timeout: 60_000 },
    async () => {
      // Raw sockets on both ends, so the test controls frame boundaries byte by byte.
      const server = http.createServer();
      let originSocket: Duplex | undefined;
      const upgraded = new Promise<Duplex>((resolve) =>
        server.on('upgrade', (req, socket: Duplex) => {
          socket.write(
            `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${websocketAccept(String(req.headers['sec-websocket-key']))}\r\n\r\n`,
          );
          originSocket = socket;
          resolve(socket);
        }),
      );
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const env = await startTunnelEnv({ protocol, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      try {
        const edgePort = Number(new URL(env.edge.visitorUrl).port);
        const visitor = net.connect(edgePort, '127.0.0.1');
        const fromEdge = byteReader(visitor);
        visitor.write(
          'GET /ws HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        );
        const origin = await upgraded;
        const fromConnector = byteReader(origin);
        const head = (await fromEdge.waitFor(4)).toString('latin1');
        await fromEdge.waitFor(head.indexOf('\r\n\r\n') + 4);
        const headEnd = fromEdge.bytes().toString('latin1').indexOf('\r\n\r\n') + 4;
        assert.match(fromEdge.bytes().subarray(0, headEnd).toString('latin1'), /^HTTP\/1\.1 101 /);

        // Half of a binary frame with a 10-byte payload reaches the visitor...
        const payload = Buffer.from('0123456789');
        origin.write(Buffer.concat([Buffer.from([0x82, payload.length]), payload.subarray(0, 5)]));
        await fromEdge.waitFor(headEnd + 2 + 5);
        // ...then the drain starts. The origin gets its close frame at once (nothing was in progress towards it).
        const closing = env.tunnel.close({ graceMs: LONG_GRACE_MS });
        const toOrigin = unmask(await fromConnector.waitFor(2 + 4 + 2 + 'tunnel shutting down'.length));
        assert.deepEqual([toOrigin.opcode, toOrigin.masked, toOrigin.payload.readUInt16BE(0)], [0x8, true, 1001]);
        // The rest of the frame goes out first, then the visitor's close frame.
        origin.write(payload.subarray(5));
        const expectedClose = closeFrame(1001, 'tunnel shutting down', false);
        const all = await fromEdge.waitFor(headEnd + 2 + payload.length + expectedClose.length);
        assert.deepEqual(all.subarray(headEnd + 2, headEnd + 2 + payload.length), payload);
        assert.deepEqual(all.subarray(headEnd + 2 + payload.length), expectedClose);
        // Bytes the origin sends after the close frame are dropped, not sent after it.
        origin.write(Buffer.from([0x81, 0x01, 0x78]));
        visitor.end();
        await closing;
        assert.equal(fromEdge.bytes().length, headEnd + 2 + payload.length + expectedClose.length);
        visitor.destroy();
      } finally {
        originSocket?.destroy();
        await env.close();
        server.closeAllConnections();
        server.close();
      }
    },
  );
}

test('FrameBoundaryTracker finds frame boundaries across every split of short, 16-bit, 64-bit and masked frames', () => {
  const frame = (len: number, masked: boolean): Buffer => {
    const ext =
      len < 126
        ? Buffer.from([len])
        : len < 65536
          ? Buffer.from([126, len >> 8, len & 0xff])
          : Buffer.concat([
              Buffer.from([127]),
              Buffer.from([0, 0, 0, 0, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff]),
            ]);
    ext[0]! |= masked ? 0x80 : 0;
    return Buffer.concat([
      Buffer.from([0x82]),
      ext,
      masked ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0),
      Buffer.alloc(len, 7),
    ]);
  };
  const frames = [frame(0, false), frame(5, true), frame(300, false), frame(70_000, true), frame(125, false)];
  const stream = Buffer.concat(frames);
  const boundaries = new Set<number>([0]);
  let at = 0;
  for (const f of frames) boundaries.add((at += f.length));
  // Fed in two pieces split anywhere (every byte for the short frames, sampled inside the long one).
  for (let split = 0; split <= stream.length; split += split < 400 || split > stream.length - 200 ? 1 : 997) {
    const t = new FrameBoundaryTracker();
    t.advance(stream.subarray(0, split));
    assert.equal(t.atBoundary, boundaries.has(split), `split at ${split}`);
    // From a split, the next boundary is found exactly.
    const rest = stream.subarray(split);
    const next = Math.min(...[...boundaries].filter((b) => b >= split));
    assert.equal(t.advance(rest, 0, true), next - split, `next boundary from ${split}`);
  }
});

test('closeFrame builds RFC 6455 close frames: unmasked towards the visitor, masked towards the origin', () => {
  assert.deepEqual(closeFrame(1001, '', false), Buffer.from([0x88, 0x02, 0x03, 0xe9]));
  const masked = unmask(closeFrame(1001, 'bye', true));
  assert.deepEqual(
    [masked.opcode, masked.masked, masked.payload.readUInt16BE(0), masked.payload.subarray(2).toString()],
    [0x8, true, 1001, 'bye'],
  );
});
