/**
 * The connector side of TCP-over-WebSocket (docs/protocol.md §10.8): cftunnel is the WebSocket *server* on the edge
 * stream — it reads masked client frames, writes unmasked binary frames, answers pings and pings every 54 s.
 * The `ws` package does the framing over an in-memory Duplex (its `setSocket` accepts any Duplex).
 */
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { lazyRequire } from '../util/lazy-require.js';
import { duplexPair } from './duplex-pair.js';

/** RFC 6455 key-accept GUID (§10.8). */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Server ping period of cloudflared's WebSocket proxy (§10.8). */
export const WEBSOCKET_PING_PERIOD_MS = 54_000;
/** Largest frame payload accepted from the edge (ws's default). */
const MAX_PAYLOAD_BYTES = 100 * 1024 * 1024;

/** `Sec-WebSocket-Accept` for a client key (§10.8). */
export function websocketAccept(key: string): string {
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
}

/** The headers of the 101 answer, in cloudflared's order (§10.8). */
export function upgradeResponseHeaders(key: string): Array<[string, string]> {
  return [
    ['Connection', 'Upgrade'],
    ['Sec-Websocket-Accept', websocketAccept(key)],
    ['Upgrade', 'websocket'],
  ];
}

interface ServerSideSocket {
  setSocket(
    socket: Duplex,
    head: Buffer,
    options: { maxPayload: number; allowSynchronousEvents: boolean; skipUTF8Validation: boolean },
  ): void;
}

/** An accepted WebSocket session: `edge` carries frames to/from the edge, `payload` the unframed bytes. */
export interface WebSocketSession {
  /** Byte stream towards the edge (what the connection layer relays). */
  edge: Duplex;
  /** Message payloads: readable = what the client sent, writable = sent to the client as binary frames. */
  payload: Duplex;
}

const loadWs = lazyRequire<typeof import('ws')>('ws');

/** Starts a server-side WebSocket over a fresh in-memory stream. */
export function acceptWebSocket(): WebSocketSession {
  const { WebSocket, createWebSocketStream } = loadWs();
  const [edge, local] = duplexPair();
  // The (null, undefined, options) form is how ws's own server builds its server-side sockets.
  const ServerSide = WebSocket as unknown as new (
    address: null,
    protocols: undefined,
    options: { autoPong: boolean },
  ) => WebSocket;
  const ws = new ServerSide(null, undefined, { autoPong: true });
  (ws as unknown as ServerSideSocket).setSocket(local, Buffer.alloc(0), {
    maxPayload: MAX_PAYLOAD_BYTES,
    allowSynchronousEvents: true,
    skipUTF8Validation: true,
  });
  ws.binaryType = 'nodebuffer';
  const ping = setInterval(() => ws.ping(), WEBSOCKET_PING_PERIOD_MS);
  ping.unref();
  ws.once('close', () => clearInterval(ping));
  ws.on('error', () => undefined);
  const payload = createWebSocketStream(ws);
  return { edge, payload };
}
