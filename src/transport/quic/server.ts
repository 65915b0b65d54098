/** The local edge side: `listenQuic` accepts connections on one UDP socket, routed by destination connection id. */
import type { Socket, RemoteInfo } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import {
  KEEP_ALIVE_MS,
  MAX_DATAGRAM_FRAME_SIZE,
  MAX_SEND_UDP_PAYLOAD_V4,
  MAX_SEND_UDP_PAYLOAD_V6,
  buildConfig,
  validatePem,
  type QuicTransportTuning,
} from './config.js';
import { CONNECTION_ID_LENGTH } from './client.js';
import { LONG_HEADER_BIT, QuicConnection } from './connection.js';
import { QuicConfigError } from './errors.js';
import { loadQuiche, type NativeConfig, type NativeQuiche } from './native.js';
import { bindUdp } from './socket.js';

/** Options of {@link listenQuic}. */
export interface QuicServerOptions extends QuicTransportTuning {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Certificate chain PEM. */
  cert: string;
  /** Private key PEM. */
  key: string;
  /** Largest UDP payload sent; default 1252 (IPv4) / 1232 (IPv6). */
  maxUdpPayload?: number;
}

/** Smallest client Initial datagram (RFC 9000 §14.1); shorter ones are not worth a connection. */
const MIN_INITIAL_DATAGRAM = 1200;

/** A QUIC listener. Emits `'connection'` (QuicConnection) once a client's handshake completed. */
export class QuicServer extends EventEmitter {
  private readonly socket: Socket;
  private readonly quiche: NativeQuiche;
  private readonly config: NativeConfig;
  private readonly options: QuicServerOptions;
  private readonly connections = new Map<string, QuicConnection>();
  private readonly scratch = Buffer.allocUnsafe(MIN_INITIAL_DATAGRAM * 2);
  private closing: Promise<void> | undefined;
  /** Connection of the last short-header packet and its id: bulk traffic skips the hex key and map lookup. */
  private lastConn: QuicConnection | undefined;
  private lastCid: Buffer = Buffer.alloc(0);

  /** @internal Use {@link listenQuic}. */
  constructor(socket: Socket, quiche: NativeQuiche, config: NativeConfig, options: QuicServerOptions) {
    super();
    this.socket = socket;
    this.quiche = quiche;
    this.config = config;
    this.options = options;
    socket.on('message', (packet, rinfo) => this.route(packet, rinfo));
    socket.on('error', () => undefined);
  }

  /** The bound UDP address. */
  address(): { address: string; port: number; family: string } {
    return this.socket.address();
  }

  /** Closes every connection (application close, code 0) and then the socket. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...new Set(this.connections.values())].map((c) => c.close()));
      await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    })();
    return this.closing;
  }

  private route(packet: Buffer, rinfo: RemoteInfo): void {
    if (packet.length === 0) return;
    if ((packet[0]! & LONG_HEADER_BIT) === 0) {
      if (packet.length <= CONNECTION_ID_LENGTH) return;
      const last = this.lastConn;
      if (last !== undefined && this.lastCid.compare(packet, 1, 1 + CONNECTION_ID_LENGTH) === 0) {
        last._onPacket(packet);
        return;
      }
      const key = packet.toString('hex', 1, 1 + CONNECTION_ID_LENGTH);
      const conn = this.connections.get(key);
      if (conn === undefined) return;
      this.lastConn = conn;
      this.lastCid = Buffer.from(key, 'hex');
      conn._onPacket(packet);
      return;
    }
    let header;
    try {
      header = this.quiche.Header.fromSlice(packet, CONNECTION_ID_LENGTH);
    } catch {
      return;
    }
    const dcid = Buffer.from(header.dcid).toString('hex');
    const existing = this.connections.get(dcid);
    if (existing !== undefined) {
      existing._onPacket(packet);
      return;
    }
    if (this.closing !== undefined || header.ty !== this.quiche.Type.Initial) return;
    if (!this.quiche.versionIsSupported(header.version)) {
      const n = this.quiche.negotiateVersion(header.scid, header.dcid, this.scratch);
      this.socket.send(Buffer.from(this.scratch.subarray(0, n)), rinfo.port, rinfo.address);
      return;
    }
    if (packet.length < MIN_INITIAL_DATAGRAM) return;
    this.accept(packet, rinfo, dcid);
  }

  private accept(packet: Buffer, rinfo: RemoteInfo, originalDcid: string): void {
    const local = this.socket.address();
    const scid = randomBytes(CONNECTION_ID_LENGTH);
    const scidKey = scid.toString('hex');
    const native = this.quiche.Connection.accept(
      scid,
      null,
      { host: local.address, port: local.port },
      { host: rinfo.address, port: rinfo.port },
      this.config,
    );
    const socket = this.socket;
    const port = rinfo.port;
    const address = rinfo.address;
    const conn = new QuicConnection({
      native,
      shutdownRead: this.quiche.Shutdown.Read,
      shutdownWrite: this.quiche.Shutdown.Write,
      isServer: true,
      localAddress: { address: local.address, port: local.port },
      remoteAddress: { address, port },
      output: (out) => {
        socket.send(out, port, address);
        return socket.getSendQueueCount() === 0;
      },
      keepAliveMs: this.options.keepAliveMs ?? KEEP_ALIVE_MS,
      maxDatagramSize: this.options.maxDatagramSize ?? MAX_DATAGRAM_FRAME_SIZE,
      datagrams: this.options.datagrams ?? true,
      onEstablished: (c) => this.emit('connection', c),
      onClosed: (c) => {
        if (this.lastConn === c) this.lastConn = undefined;
        this.connections.delete(scidKey);
        this.connections.delete(originalDcid);
      },
    });
    this.connections.set(scidKey, conn);
    this.connections.set(originalDcid, conn);
    conn._onPacket(packet);
  }
}

/** Starts a QUIC server (the local edge) on `host:port`. */
export async function listenQuic(options: QuicServerOptions): Promise<QuicServer> {
  const quiche = loadQuiche();
  const cert = validatePem(options.cert, 'QUIC server certificate');
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(options.key))
    throw new QuicConfigError('QUIC server key: no PEM private key found');
  const family = isIPv6(options.host) ? 6 : 4;
  const config = buildConfig(quiche, {
    ...options,
    cert,
    key: Buffer.from(options.key),
    maxSendUdpPayload: options.maxUdpPayload ?? (family === 6 ? MAX_SEND_UDP_PAYLOAD_V6 : MAX_SEND_UDP_PAYLOAD_V4),
  });
  const socket = await bindUdp(family, options.port, options.host);
  return new QuicServer(socket, quiche, config, options);
}
