/**
 * The per-connection driver: feeds received packets to quiche, services streams, drains `send()` once per tick and
 * keeps one timer armed from quiche's `timeout()` (and the keep-alive deadline). Used by both client and server.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import {
  type QuicConnectionError,
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
/** Stream data is read into slabs of this size and handed to `push()` as views, without a copy. */
const READ_SLAB_BYTES = 256 * 1024;
/** A slab with less room than this left is replaced, so that one `streamRecv` can still take a burst of packets. */
const MIN_READ_ROOM = 32 * 1024;
/** quiche's default stream urgency; used to create a stream (and take peer credit) when it is opened. */
const DEFAULT_URGENCY = 127;
/** QUIC INTERNAL_ERROR transport code (RFC 9000 §20.1). */
const INTERNAL_ERROR = 0x1;

/** Header form bit: set on long-header packets (RFC 9000 §17.2). */
export const LONG_HEADER_BIT = 0x80;
/** Long-header packet types carrying a Length field (Initial 0, 0-RTT 1, Handshake 2; RFC 9000 §17.2). */
const LONG_TYPE_INITIAL = 0;
const LONG_TYPE_RETRY = 3;

/** Reads a QUIC variable-length integer (RFC 9000 §16) at `offset`: [value, bytes], or undefined if truncated. */
function readVarint(b: Buffer, offset: number): [number, number] | undefined {
  if (offset >= b.length) return undefined;
  const size = 1 << (b[offset]! >> 6);
  if (offset + size > b.length) return undefined;
  let value = b[offset]! & 0x3f;
  for (let i = 1; i < size; i++) value = value * 256 + b[offset + i]!;
  return [value, size];
}

/**
 * End of the long-header packet at `offset` (RFC 9000 §17.2), or the datagram's length when it is a short-header
 * packet, a packet without a Length field (Version Negotiation, Retry) or cannot be parsed.
 */
export function coalescedPacketEnd(b: Buffer, offset: number): number {
  const first = b[offset]!;
  if ((first & LONG_HEADER_BIT) === 0 || offset + 6 > b.length) return b.length;
  if (b.readUInt32BE(offset + 1) === 0) return b.length;
  const type = (first >> 4) & 0x3;
  if (type === LONG_TYPE_RETRY) return b.length;
  let p = offset + 5;
  p += 1 + b[p]!;
  if (p >= b.length) return b.length;
  p += 1 + b[p]!;
  if (type === LONG_TYPE_INITIAL) {
    const token = readVarint(b, p);
    if (token === undefined) return b.length;
    p += token[1] + token[0];
  }
  const length = readVarint(b, p);
  if (length === undefined) return b.length;
  return Math.min(b.length, p + length[1] + length[0]);
}

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
  /**
   * Sends one UDP datagram. Returns true when the socket is done with `packet` (sent synchronously), so the driver
   * may reuse its memory; false when the socket queued it and keeps a reference.
   */
  output(packet: Buffer): boolean;
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
  /** @internal */ lastRecvFin = false;
  /** @internal */ readonly shutdownRead: number;
  /** @internal */ readonly shutdownWrite: number;
  /** Local UDP address. */
  readonly localAddress: QuicAddress;
  /** Peer UDP address. */
  readonly remoteAddress: QuicAddress;
  /** Number of keep-alive PINGs sent. */
  keepAlivesSent = 0;
  /** UDP datagrams handed to the socket for this connection (for CPU-per-packet accounting). */
  packetsSent = 0;
  /** UDP datagrams received for this connection. */
  packetsReceived = 0;

  private readonly init: ConnectionInit;
  /** Reused for every `send()` unless the socket had to queue a packet still pointing into it. */
  private readSlab = Buffer.allocUnsafeSlow(READ_SLAB_BYTES);
  private readOffset = 0;
  private sendBuffer = Buffer.allocUnsafeSlow(SEND_BUFFER_BYTES);
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
  /** Packets arrived or a quiche timer fired since the last stream walk: only then can streams have become ready. */
  private streamsDirty = true;
  /** When the armed timer fires (Infinity: none armed). Only ever moved earlier; a late deadline fires early. */
  private timerDeadline = Infinity;
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

  /** Closes with an application CONNECTION_CLOSE (docs/protocol.md §5.3: code 0, empty reason); resolves once closed. */
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
    this.packetsReceived++;
    // A long-header packet may be coalesced with later ones (RFC 9000 §12.2). quiche 0.18 discards the rest of the
    // datagram when one packet cannot be decrypted, e.g. the client's late Handshake ACK arriving after the server
    // dropped its Handshake keys, which took the 1-RTT packet behind it (and any DATAGRAM in it) along. So each
    // coalesced packet is fed on its own.
    let offset = 0;
    if ((packet[0]! & LONG_HEADER_BIT) !== 0) {
      let end: number;
      while ((end = coalescedPacketEnd(packet, offset)) < packet.length && end > offset) {
        this.recvOne(packet.subarray(offset, end));
        offset = end;
      }
    }
    this.recvOne(offset === 0 ? packet : packet.subarray(offset));
    this.heardSinceFlush = true;
    this.streamsDirty = true;
    this.schedule();
  }

  private recvOne(packet: Buffer): void {
    try {
      this.native.recv(packet, this.recvInfo);
    } catch {
      // quiche drops undecryptable or malformed packets; a fatal error shows up as isClosed().
    }
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
    this.streamsDirty = true;
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
  recvChunk(id: number): Buffer | null {
    const slab = this.readSlab;
    let offset = this.readOffset;
    const result = this.native.streamRecv(id, offset === 0 ? slab : slab.subarray(offset));
    if (result === null) return null;
    this.lastRecvFin = result[1];
    const end = offset + result[0];
    const chunk = slab.subarray(offset, end);
    offset = end;
    if (slab.length - offset < MIN_READ_ROOM) {
      this.readSlab = Buffer.allocUnsafeSlow(READ_SLAB_BYTES);
      offset = 0;
    }
    this.readOffset = offset;
    return chunk;
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
    const dirty = this.streamsDirty;
    this.streamsDirty = false;
    // quiche's readable()/writable() iterators cost ~21 µs a call plus ~1 µs a stream through the binding (it builds a
    // JS iterator each time); asking a stream costs ~0.1-0.2 µs. Asking each stream is cheaper at any count (measured
    // 1 to 1,024 open streams, bench/RESULTS.md) and just as exact.
    // isReadable() also covers queued DATAGRAMs: when false (a sender's ACK-only batches), there is nothing to read.
    if (this.acceptingPeer && dirty && native.isReadable()) {
      for (const stream of this.streams.values())
        if (stream._wantsData && native.streamReadable(stream.id)) stream._onReadable();
      this.acceptSequentialPeerStreams();
      if (this.init.datagrams) {
        let datagram: Uint8Array | null;
        while ((datagram = native.dgramRecvVec()) !== null) {
          this.emit('datagram', Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength));
        }
      }
      // Still readable: a paused stream, a peer stream that arrived ahead of a lower id, or one we let go of. Only the
      // iterator can tell which; it also discards data of streams we no longer know.
      if (native.isReadable()) this.serviceReadableIterator();
    }
    // Send capacity only grows when ACKs/MAX_STREAM_DATA arrive or a timer declares loss; STOP_SENDING arrives too.
    if (dirty) for (const stream of this.streams.values()) stream._onWritable();
    while (this.pendingOpens.length > 0 && native.peerStreamsLeftBidi() > 0) {
      this.pendingOpens.shift()!.resolve(this.createLocalStream());
    }
  }

  private serviceReadableIterator(): void {
    for (const id of this.native.readable()) {
      let stream = this.streams.get(id);
      if (stream === undefined) stream = this.acceptPeerStream(id);
      stream?._onReadable();
    }
  }

  /** Surfaces readable peer streams that follow the highest one seen, in id order (the common case). */
  private acceptSequentialPeerStreams(): void {
    const native = this.native;
    let next = this.highestPeerId < 0 ? (this.init.isServer ? 0 : 1) : this.highestPeerId + 4;
    while (native.streamReadable(next)) {
      this.acceptPeerStream(next)?._onReadable();
      next += 4;
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
    const output = this.init.output;
    let buffer = this.sendBuffer;
    for (;;) {
      const result = native.send(buffer);
      if (result === null) return;
      this.packetsSent++;
      if (!output(buffer.subarray(0, result[0]))) {
        // The kernel queue was full and the socket holds on to this memory until it is sent: use a fresh buffer.
        buffer = this.sendBuffer = Buffer.allocUnsafeSlow(SEND_BUFFER_BYTES);
      }
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
    if (keepAlive > 0 && this.established && !this.closingLocally)
      deadline = Math.min(deadline, this.lastHeardAt + keepAlive);
    // Re-arming a Node timer on every flush costs more than an occasional early wake-up: keep the armed timer when it
    // fires no later than needed (onTimer re-evaluates), replace it only when the deadline moved earlier.
    if (deadline >= this.timerDeadline) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerDeadline = deadline;
    this.timer =
      deadline === Infinity ? undefined : setTimeout(this.timerBound, Math.max(0, Math.ceil(deadline - now)));
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerDeadline = Infinity;
    if (this.isClosed) return;
    const now = performance.now();
    if (now >= this.quicheDeadline - 0.5) {
      this.native.onTimeout();
      this.streamsDirty = true;
    }
    const keepAlive = this.init.keepAliveMs;
    if (
      keepAlive > 0 &&
      this.established &&
      !this.closingLocally &&
      !this.heardSinceFlush &&
      now - this.lastHeardAt >= keepAlive - 0.5
    ) {
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
    if (native.isTimedOut()) return this.established ? new QuicIdleTimeoutError() : new QuicHandshakeTimeoutError();
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
