/** The connector side: `connectQuic` dials the edge on its own UDP socket and verifies it. */
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import {
  HANDSHAKE_TIMEOUT_MS,
  KEEP_ALIVE_MS,
  MAX_DATAGRAM_FRAME_SIZE,
  MAX_SEND_UDP_PAYLOAD_V4,
  MAX_SEND_UDP_PAYLOAD_V6,
  QUIC_SERVER_NAME,
  buildConfig,
  validatePem,
  type QuicTransportTuning,
} from './config.js';
import { QuicConnection } from './connection.js';
import {
  QuicHandshakeTimeoutError,
  QuicUdpUnreachableError,
  UDP_UNREACHABLE_ERRNOS,
  type QuicConnectionError,
} from './errors.js';
import { loadQuiche } from './native.js';
import { bindUdpPreferring } from './socket.js';

/** Length of the connection ids we choose (any length works, docs/protocol.md §17). */
export const CONNECTION_ID_LENGTH = 16;

/** Options of {@link connectQuic}. */
export interface QuicClientOptions extends QuicTransportTuning {
  /** Edge IP address (or a name, resolved once). */
  host: string;
  port: number;
  /** SNI and the name the certificate must carry; `quic.cftunnel.com` for the edge (docs/protocol.md §4.1). */
  serverName: string;
  /** PEM bundle of the CAs trusted for the peer's certificate. */
  ca: string | Buffer;
  /** Local address to bind (`--edge-bind-address`). */
  bindAddress?: string;
  /** Default 5000 ms (docs/protocol.md §5.1). */
  handshakeTimeoutMs?: number;
  /** Aborts the dial; after connect, closes the connection. */
  signal?: AbortSignal;
  /** Largest UDP payload sent; default 1252 (IPv4) / 1232 (IPv6) as 2023.7.3. */
  maxUdpPayload?: number;
  /**
   * Local UDP port to try first; a random one when it is taken (docs/protocol.md §5.2: a reconnect reuses the port of
   * the previous connection of the same index, read from its `localAddress.port`).
   */
  localPort?: number;
}

async function resolveHost(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const family = isIP(host);
  if (family === 4 || family === 6) return { address: host, family };
  const found = await lookup(host);
  return { address: found.address, family: found.family === 6 ? 6 : 4 };
}

/** Dials a QUIC server; resolves once the handshake completed and the peer's certificate was verified. */
export async function connectQuic(options: QuicClientOptions): Promise<QuicConnection> {
  const quiche = loadQuiche();
  const ca = validatePem(options.ca, 'QUIC CA bundle');
  options.signal?.throwIfAborted();
  const target = await resolveHost(options.host);
  const socket = await bindUdpPreferring(target.family, options.localPort, options.bindAddress);
  try {
    socket.connect(options.port, target.address);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
  } catch (err) {
    socket.close();
    throw err;
  }
  const local = socket.address();
  const config = buildConfig(quiche, {
    ...options,
    ca,
    maxSendUdpPayload:
      options.maxUdpPayload ?? (target.family === 6 ? MAX_SEND_UDP_PAYLOAD_V6 : MAX_SEND_UDP_PAYLOAD_V4),
  });
  const localHost = { host: local.address, port: local.port };
  const remoteHost = { host: target.address, port: options.port };
  const native = quiche.Connection.connect(
    options.serverName ?? QUIC_SERVER_NAME,
    randomBytes(CONNECTION_ID_LENGTH),
    localHost,
    remoteHost,
    config,
  );

  return new Promise<QuicConnection>((resolve, reject) => {
    let settled = false;
    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    const onAbort = (): void => {
      if (!settled) {
        settled = true;
        reject(options.signal?.reason);
      }
      void conn.close();
    };
    const conn = new QuicConnection({
      native,
      shutdownRead: quiche.Shutdown.Read,
      shutdownWrite: quiche.Shutdown.Write,
      isServer: false,
      localAddress: { address: local.address, port: local.port },
      remoteAddress: { address: target.address, port: options.port },
      output: (packet) => {
        socket.send(packet);
        return socket.getSendQueueCount() === 0;
      },
      keepAliveMs: options.keepAliveMs ?? KEEP_ALIVE_MS,
      maxDatagramSize: options.maxDatagramSize ?? MAX_DATAGRAM_FRAME_SIZE,
      datagrams: options.datagrams ?? true,
      onEstablished: (c) => {
        clearTimeout(handshakeTimer);
        if (settled) return;
        settled = true;
        resolve(c);
        // Peer streams and datagrams may arrive with the handshake; surface them once the caller holds `c`.
        setImmediate(() => c._acceptPeer());
      },
      onClosed: () => {
        clearTimeout(handshakeTimer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.close();
      },
    });
    const handshakeTimer = setTimeout(
      () => conn._fail(new QuicHandshakeTimeoutError(handshakeTimeoutMs)),
      handshakeTimeoutMs,
    );
    conn.once('close', (err?: QuicConnectionError) => {
      if (settled) return;
      settled = true;
      reject(err ?? new QuicHandshakeTimeoutError(handshakeTimeoutMs));
    });
    // ICMP errors (peer port closed) surface as socket errors. Before the handshake completed one says the UDP path
    // is blocked and ends the dial at once (the supervisor falls back to HTTP/2 on it, docs/protocol.md §3.4);
    // afterwards QUIC's own timers decide when the peer is gone.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!settled && err.code !== undefined && UDP_UNREACHABLE_ERRNOS.has(err.code))
        conn._fail(new QuicUdpUnreachableError(err));
    });
    socket.on('message', (packet) => conn._onPacket(packet));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    conn.schedule();
  });
}
