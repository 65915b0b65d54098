/**
 * One bidirectional QUIC stream as a Node `Duplex`, with backpressure in both directions: writes go to quiche only
 * up to the stream's send capacity and resume when the driver reports the stream writable; reads stop as soon as
 * `push()` refuses more and resume on `_read()`.
 */
import { Duplex } from 'node:stream';
import { QuicLocalCloseError, QuicStreamFailedError, QuicStreamResetError, QuicStreamStoppedError } from './errors.js';
import { classifyNativeStreamError, type NativeConnection } from './native.js';

/** What a stream needs from its connection. @internal */
export interface StreamDriver {
  readonly native: NativeConnection;
  /**
   * Moves what quiche holds for stream `id` into memory the stream may keep (it is pushed as is, no copy); null when
   * nothing is readable. Throws quiche's stream errors. {@link lastRecvFin} tells whether the FIN was reached.
   */
  recvChunk(id: number): Buffer | null;
  readonly lastRecvFin: boolean;
  /** quiche `Shutdown` enum values. */
  readonly shutdownRead: number;
  readonly shutdownWrite: number;
  /** Ask for a send/timer flush on the next tick. */
  schedule(): void;
  /** The stream is gone from our side. */
  forget(id: number): void;
}

const EMPTY = Buffer.alloc(0);

/** Application error code used when a stream is torn down without an explicit code (docs/protocol.md §5.3: code 0). */
export const DEFAULT_STREAM_ERROR_CODE = 0;

type WriteCallback = (error?: Error | null) => void;

/** A bidirectional QUIC stream. `end()` sends FIN; the peer's FIN ends the readable side. */
export class QuicStream extends Duplex {
  /** QUIC stream id (client-initiated bidi: 0, 4, 8…; server-initiated: 1, 5, 9…). */
  readonly id: number;
  private readonly driver: StreamDriver;
  private wantRead = false;
  private readDone = false;
  private writeDone = false;
  private pendingChunk: Buffer | null = null;
  private pendingOffset = 0;
  private pendingCallback: WriteCallback | null = null;
  private pendingFinal: WriteCallback | null = null;
  /** quiche no longer knows the stream (both directions complete there): nothing left to probe. */
  private collected = false;

  /** @internal Streams are created by {@link QuicConnection}. */
  constructor(driver: StreamDriver, id: number) {
    super({ allowHalfOpen: true, highWaterMark: 256 * 1024 });
    this.driver = driver;
    this.id = id;
  }

  /** Aborts the sending side with RESET_STREAM carrying `code`; already queued data is discarded. */
  reset(code: number = DEFAULT_STREAM_ERROR_CODE): void {
    if (this.writeDone || this.destroyed) return;
    this.writeDone = true;
    this.shutdown(this.driver.shutdownWrite, code);
    this.releasePendingWrites();
    if (!this.writableEnded) this.end();
  }

  /** Asks the peer to stop sending (STOP_SENDING with `code`); the readable side ends here. */
  stopSending(code: number = DEFAULT_STREAM_ERROR_CODE): void {
    if (this.readDone || this.destroyed) return;
    this.readDone = true;
    this.wantRead = false;
    this.shutdown(this.driver.shutdownRead, code);
    this.push(null);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    if (this.writeDone) {
      callback();
      return;
    }
    this.pendingChunk = chunk;
    this.pendingOffset = 0;
    this.pendingCallback = callback;
    this.flushWrites();
  }

  override _final(callback: WriteCallback): void {
    if (this.writeDone) {
      callback();
      return;
    }
    this.pendingFinal = callback;
    this.flushWrites();
  }

  override _read(): void {
    this.wantRead = true;
    this.drain();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.readDone) {
      this.readDone = true;
      this.shutdown(this.driver.shutdownRead, DEFAULT_STREAM_ERROR_CODE);
    }
    if (!this.writeDone) {
      this.writeDone = true;
      this.shutdown(this.driver.shutdownWrite, DEFAULT_STREAM_ERROR_CODE);
    }
    // Most streams end with nothing pending: only build (and capture a stack for) an error when someone waits on it.
    if (this.pendingCallback !== null || this.pendingFinal !== null)
      this.releasePendingWrites(error ?? new QuicLocalCloseError());
    this.driver.forget(this.id);
    callback(error);
  }

  /** @internal True while a reader waits for data that has not arrived yet. */
  get _wantsData(): boolean {
    return this.wantRead && !this.readDone;
  }

  /** @internal quiche listed the stream as readable. */
  _onReadable(): void {
    if (this.wantRead) this.drain();
  }

  /**
   * @internal Packets arrived or a quiche timer fired: resume a writer waiting for capacity, or notice that the peer
   * stopped the stream (STOP_SENDING) while nothing was being written.
   */
  _onWritable(): void {
    if (this.pendingChunk !== null || this.pendingFinal !== null) {
      this.flushWrites();
    } else if (!this.writeDone && !this.collected) {
      try {
        this.driver.native.streamCapacity(this.id);
      } catch (err) {
        // A stream quiche already collected (its send side reset in answer to STOP_SENDING and acknowledged, the
        // peer's data all read) is not a failure of the stream: quiche's own writable() would no longer list it. A
        // later write still reports it.
        if (classifyNativeStreamError(err).kind === 'invalid-state') this.collected = true;
        else this.failFromNative(err);
      }
    }
  }

  /** @internal The connection ended; fail the stream with the connection's error. */
  _abort(error: Error): void {
    const complete = this.readableEnded && this.writableFinished;
    this.readDone = true;
    this.writeDone = true;
    // A stream that already ended both ways is only waiting for its automatic destroy: no error to report.
    this.destroy(complete ? undefined : error);
  }

  private drain(): void {
    const driver = this.driver;
    while (this.wantRead && !this.readDone) {
      let chunk: Buffer | null;
      try {
        chunk = driver.recvChunk(this.id);
      } catch (err) {
        this.failFromNative(err);
        return;
      }
      if (chunk === null) return;
      // Reading freed receive window: quiche may now owe the peer a MAX_STREAM_DATA/MAX_DATA.
      driver.schedule();
      const fin = driver.lastRecvFin;
      if (chunk.length > 0 && !this.push(chunk)) this.wantRead = false;
      if (fin) {
        this.readDone = true;
        this.wantRead = false;
        this.push(null);
      }
    }
  }

  private flushWrites(): void {
    const native = this.driver.native;
    try {
      while (this.pendingChunk !== null) {
        const chunk = this.pendingChunk;
        const data = this.pendingOffset === 0 ? chunk : chunk.subarray(this.pendingOffset);
        const n = native.streamSend(this.id, data, false);
        if (n === null) return;
        this.driver.schedule();
        this.pendingOffset += n;
        if (this.pendingOffset < chunk.length) return;
        const callback = this.pendingCallback;
        this.pendingChunk = null;
        this.pendingCallback = null;
        callback?.();
      }
      if (this.pendingFinal !== null) {
        if (native.streamSend(this.id, EMPTY, true) === null) return;
        this.driver.schedule();
        this.writeDone = true;
        const callback = this.pendingFinal;
        this.pendingFinal = null;
        callback();
      }
    } catch (err) {
      this.failFromNative(err);
    }
  }

  private failFromNative(err: unknown): void {
    const failure = classifyNativeStreamError(err);
    if (failure.kind === 'reset') {
      this.readDone = true;
      this.destroy(new QuicStreamResetError(this.id, failure.errorCode));
    } else if (failure.kind === 'stopped') {
      this.writeDone = true;
      const error = new QuicStreamStoppedError(this.id, failure.errorCode);
      // STOP_SENDING stops only our sending side (RFC 9000 §3.5): the peer may still be sending, e.g. a connector that
      // answered early, then stopped the unread upload (§7.4) and whose FIN can arrive after the STOP_SENDING. Queued
      // writes are dropped (as after reset()), writers learn it from 'stopped', and the stream fails once the
      // reader has seen the end.
      if (!this.readableEnded) {
        this.releasePendingWrites();
        this.emit('stopped', error);
        this.once('end', () => this.destroy(error));
        return;
      }
      this.destroy(error);
    } else {
      this.destroy(new QuicStreamFailedError(this.id, err));
    }
  }

  private shutdown(direction: number, code: number): void {
    try {
      this.driver.native.streamShutdown(this.id, direction, code);
    } catch {
      // Already closed or collected by quiche: nothing left to abort.
    }
    this.driver.schedule();
  }

  private releasePendingWrites(error?: Error): void {
    const callback = this.pendingCallback;
    const final = this.pendingFinal;
    this.pendingChunk = null;
    this.pendingCallback = null;
    this.pendingFinal = null;
    if (error === undefined) {
      callback?.();
      final?.();
    } else {
      callback?.(error);
      final?.(error);
    }
  }
}
