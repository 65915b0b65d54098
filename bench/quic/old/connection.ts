/**
 * The per-connection driver: feeds received packets to quiche, services streams, drains `send()` once per tick and
 * keeps one timer armed from quiche's `timeout()` (and the keep-alive deadline). Used by both client and server.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import {
  QuicConnectionError,
  QuicHandshakeTimeoutError,
  QuicIdleTimeoutError,
  QuicLocalCloseError,
  QuicPeerClosedError,
  QuicTlsError,
  QuicTransportError,
  isCryptoError,
} from './errors.js';
import type { NativeConnection, NativeRecvInfo } from './native.js';
import { QuicStream, type StreamDriver } from './stream.js';

/** Send buffer size: quiche's largest UDP packet, so `send()` never returns null for lack of room (QUIC-NOTES). */
const SEND_BUFFER_BYTES = 65_535;
/** Scratch buffer for `streamRecv`. */
const READ_BUFFER_BYTES = 64 * 1024;
/** quiche's default stream urgency; used to create a stream (and take peer credit) when it is opened. */
const DEFAULT_URGENCY = 127;
/** QUIC INTERNAL_ERROR transport code (RFC 9000 §20.1). */
const INTERNAL_ERROR = 0x1;

/** Host/port pair. */
export interface QuicAddress {
  address: string;
  port: number;
}

/** How a connection talks to its socket and owner. @internal */
export interface ConnectionInit {
  native: NativeConnection;
  shutdownRead: number;
  shutdownWrite: number;
  isServer: boolean;
  localAddress: QuicAddress;
  remoteAddress: QuicAddress;
  /** Sends one UDP datagram (the buffer is owned by the callee). */
  output(packet: Buffer): void;
  keepAliveMs: number;
  maxDatagramSize: number;
  datagrams: boolean;
  /** Called once the handshake completed. */
  onEstablished(conn: QuicConnection): void;
  /** Called once after the connection closed, before `'close'` is emitted. */
  onClosed(conn: QuicConnection): void;
}

interface PendingOpen {
  resolve(stream: QuicStream): void;
  reject(error: Error): void;
}

/**
 * A QUIC connection (client or server side). Events: `'stream'` (peer-initiated bidirectional stream),
 * `'datagram'` (Buffer), `'keepalive'` (a PING was sent), `'close'` (error, or undefined after a local close).
 */
export class QuicConnection extends EventEmitter implements StreamDriver {
  /** @internal */ readonly native: NativeConnection;
  /** @internal */ readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** @internal */ readonly shutdownRead: number;
  /** @internal */ readonly shutdownWrite: number;
  /** Local UDP address. */
  readonly localAddress: QuicAddress;
  /** Peer UDP address. */
  readonly remoteAddress: QuicAddress;
  /** Number of keep-alive PINGs sent. */
  keepAlivesSent = 0;

  private readonly init: ConnectionInit;
  private readonly sendBuffer = Buffer.allocUnsafe(SEND_BUFFER_BYTES);
  private readonly recvInfo: NativeRecvInfo;
  private readonly streams = new Map<number, QuicStream>();
  private readonly pendingOpens: PendingOpen[] = [];
  private readonly flushBound = (): void => this.flush();
  private readonly timerBound = (): void => this.onTimer();
  private nextLocalId: number;
  private highestPeerId = -1;
  /** Peer stream ids below {@link highestPeerId} not seen yet (their first frames arrived after later streams'). */
  private readonly skippedPeerIds = new Set<number>();
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private quicheDeadline = Infinity;
  private lastHeardAt = performance.now();
  private heardSinceFlush = false;
  private established = false;
  private acceptingPeer: boolean;
  private isClosed = false;
  private closingLocally = false;
  private forcedError: QuicConnectionError | undefined;
  private closeResolve!: () => void;
  private readonly closePromise = new Promise<void>((resolve) => {
    this.closeResolve = resolve;
  });

  /** @internal Use `connectQuic` / `listenQuic`. */
  constructor(init: ConnectionInit) {
    super();
    this.init = init;
    this.native = init.native;
    this.shutdownRead = init.shutdownRead;
    this.shutdownWrite = init.shutdownWrite;
    this.localAddress = init.localAddress;
    this.remoteAddress = init.remoteAddress;
    this.recvInfo = {
      from: { host: init.remoteAddress.address, port: init.remoteAddress.port },
      to: { host: init.localAddress.address, port: init.localAddress.port },
    };
    this.nextLocalId = init.isServer ? 1 : 0;
    this.acceptingPeer = init.isServer;
  }

  /** The negotiated ALPN protocol ('' before the handshake completed). */
  get alpnProtocol(): string {
    return Buffer.from(this.native.applicationProto()).toString('latin1');
  }

  /** True once the connection is fully closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Opens a bidirectional stream, waiting for stream credit from the peer if none is left. */
  openStream(): Promise<QuicStream> {
    if (this.isClosed || this.closingLocally) return Promise.reject(new QuicLocalCloseError());
    if (this.pendingOpens.length === 0 && this.established && this.native.peerStreamsLeftBidi() > 0) {
      return Promise.resolve(this.createLocalStream());
    }
    return new Promise((resolve, reject) => {
      this.pendingOpens.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Queues a DATAGRAM frame. False when datagrams are off, `data` is too large or the queue is full. */
  sendDatagram(data: Uint8Array): boolean {
    if (this.isClosed || !this.init.datagrams || data.byteLength > this.init.maxDatagramSize) return false;
    const max = this.native.dgramMaxWritableLen();
    if (max === null || data.byteLength > max || this.native.isDgramSendQueueFull()) return false;
    try {
      this.native.dgramSend(data);
    } catch {
      return false;
    }
    this.schedule();
    return true;
  }

  /** Closes with an application CONNECTION_CLOSE (PROTOCOL.md §5.3: code 0, empty reason); resolves once closed. */
  close(code = 0, reason = ''): Promise<void> {
    if (!this.isClosed && !this.closingLocally) {
      this.closingLocally = true;
      try {
        this.native.close(true, code, Buffer.from(reason));
      } catch {
        // Already closing: quiche finishes on its own.
      }
      this.flush();
    }
    return this.closePromise;
  }

  /** @internal A UDP datagram from the peer. */
  _onPacket(packet: Buffer): void {
    if (this.isClosed) return;
    try {
      this.native.recv(packet, this.recvInfo);
    } catch {
      // quiche drops undecryptable or malformed packets; a fatal error shows up as isClosed().
    }
    this.heardSinceFlush = true;
    this.schedule();
  }

  /** @internal Ends the connection at once with `error` (handshake timeout, socket failure). */
  _fail(error: QuicConnectionError): void {
    if (this.isClosed) return;
    this.forcedError = error;
    this.finish();
  }

  /** @internal Starts surfacing peer streams and datagrams (the client does so once its caller holds the object). */
  _acceptPeer(): void {
    this.acceptingPeer = true;
    this.schedule();
  }

  /** @internal */
  schedule(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushBound);
    }
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  private createLocalStream(): QuicStream {
    const id = this.nextLocalId;
    this.nextLocalId += 4;
    this.native.streamPriority(id, DEFAULT_URGENCY, true);
    const stream = new QuicStream(this, id);
    this.streams.set(id, stream);
    return stream;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.isClosed) return;
    try {
      this.service();
      this.drainSend();
    } catch {
      // quiche reported a failure outside any stream: treat it as an internal transport error.
      this.forcedError ??= new QuicTransportError(INTERNAL_ERROR);
    }
    if (this.native.isClosed() || this.forcedError !== undefined) {
      this.finish();
      return;
    }
    this.armTimer();
  }

  private service(): void {
    const native = this.native;
    if (!this.established) {
      if (!native.isEstablished()) return;
      this.established = true;
      this.init.onEstablished(this);
    }
    if (this.acceptingPeer) {
      for (const id of native.readable()) {
        let stream = this.streams.get(id);
        if (stream === undefined) stream = this.acceptPeerStream(id);
        stream?._onReadable();
      }
      if (this.init.datagrams) {
        let datagram: Uint8Array | null;
        while ((datagram = native.dgramRecvVec()) !== null) {
          this.emit('datagram', Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength));
        }
      }
    }
    for (const id of native.writable()) this.streams.get(id)?._onWritable();
    while (this.pendingOpens.length > 0 && native.peerStreamsLeftBidi() > 0) {
      this.pendingOpens.shift()!.resolve(this.createLocalStream());
    }
  }

  private acceptPeerStream(id: number): QuicStream | undefined {
    const peerInitiated = (id & 1) === (this.init.isServer ? 0 : 1) && (id & 2) === 0;
    const isNew = peerInitiated && (id > this.highestPeerId || this.skippedPeerIds.delete(id));
    if (!isNew) {
      // A stream we already let go of (or a unidirectional one, which the tunnel never uses): discard its data.
      try {
        this.native.streamShutdown(id, this.shutdownRead, 0);
      } catch {
        // Already gone.
      }
      return undefined;
    }
    if (id > this.highestPeerId) {
      const first = this.highestPeerId < 0 ? (this.init.isServer ? 0 : 1) : this.highestPeerId + 4;
      for (let skipped = first; skipped < id; skipped += 4) this.skippedPeerIds.add(skipped);
      this.highestPeerId = id;
    }
    const stream = new QuicStream(this, id);
    this.streams.set(id, stream);
    this.emit('stream', stream);
    return stream;
  }

  private drainSend(): void {
    const native = this.native;
    const buffer = this.sendBuffer;
    const output = this.init.output;
    for (;;) {
      const result = native.send(buffer);
      if (result === null) return;
      const n = result[0];
      const packet = Buffer.allocUnsafe(n);
      buffer.copy(packet, 0, 0, n);
      output(packet);
    }
  }

  private armTimer(): void {
    const now = performance.now();
    if (this.heardSinceFlush) {
      this.heardSinceFlush = false;
      this.lastHeardAt = now;
    }
    const quicheMs = this.native.timeout();
    this.quicheDeadline = quicheMs === null ? Infinity : now + quicheMs;
    let deadline = this.quicheDeadline;
    const keepAlive = this.init.keepAliveMs;
    if (keepAlive > 0 && this.established && !this.closingLocally) deadline = Math.min(deadline, this.lastHeardAt + keepAlive);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = deadline === Infinity ? undefined : setTimeout(this.timerBound, Math.max(0, Math.ceil(deadline - now)));
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.isClosed) return;
    const now = performance.now();
    if (now >= this.quicheDeadline - 0.5) this.native.onTimeout();
    const keepAlive = this.init.keepAliveMs;
    if (keepAlive > 0 && this.established && !this.closingLocally && !this.heardSinceFlush && now - this.lastHeardAt >= keepAlive - 0.5) {
      this.lastHeardAt = now;
      this.native.sendAckEliciting();
      this.keepAlivesSent++;
      this.emit('keepalive');
    }
    this.flush();
  }

  private closeError(): QuicConnectionError | undefined {
    if (this.forcedError !== undefined) return this.forcedError;
    const native = this.native;
    const peer = native.peerError();
    if (peer !== null) {
      if (!peer.isApp && isCryptoError(peer.errorCode)) return new QuicTlsError(peer.errorCode, true);
      return new QuicPeerClosedError(peer.errorCode, Buffer.from(peer.reason).toString('utf8'), peer.isApp);
    }
    const local = native.localError();
    if (local !== null && !(this.closingLocally && local.isApp)) {
      if (!local.isApp && isCryptoError(local.errorCode)) return new QuicTlsError(local.errorCode, false);
      return new QuicTransportError(local.errorCode);
    }
    if (native.isTimedOut()) return this.established ? new QuicIdleTimeoutError() : new QuicHandshakeTimeoutError(0);
    return undefined;
  }

  private finish(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const error = this.closeError();
    const streamError = error ?? new QuicLocalCloseError();
    for (const stream of [...this.streams.values()]) stream._abort(streamError);
    this.streams.clear();
    for (const pending of this.pendingOpens.splice(0)) pending.reject(streamError);
    this.init.onClosed(this);
    this.emit('close', error);
    this.closeResolve();
  }
}
