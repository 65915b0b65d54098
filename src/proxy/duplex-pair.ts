/**
 * Two connected in-memory Duplex streams: what one side writes the other reads, with backpressure, half-close and
 * destroy propagated. Each end also looks enough like a socket for `http.Server` and undici (in-process origins).
 * (`stream.duplexPair` only exists from Node 22.6; cftunnel supports Node 20.)
 */
import { Duplex } from 'node:stream';

/** A Duplex with the socket fields and no-op socket controls `http.Server`, undici and apps use (loopback values). */
export abstract class SocketLikeDuplex extends Duplex {
  /** Socket-like fields read by `http.Server` and logging code. */
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 0;
  readonly remoteFamily = 'IPv4';
  readonly localAddress = '127.0.0.1';
  readonly localPort = 0;
  readonly encrypted = false;
  readonly connecting = false;

  constructor() {
    super({ allowHalfOpen: true, highWaterMark: 64 * 1024 });
  }

  // No-op socket controls that http.Server / undici may call.
  setTimeout(_ms: number, cb?: () => void): this {
    if (cb) this.once('timeout', cb);
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  address(): { address: string; family: string; port: number } {
    return { address: this.localAddress, family: 'IPv4', port: 0 };
  }
}

/** One end of an in-memory connection. */
export class MemorySocket extends SocketLikeDuplex {
  peer!: MemorySocket;
  private pendingCallback: ((err?: Error | null) => void) | undefined;

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.peer.destroyed) return callback(new Error('socket peer closed'));
    if (this.peer.push(chunk)) callback();
    else this.peer.pendingCallback = callback;
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.peer.push(null);
    callback();
  }

  override _read(): void {
    const cb = this.pendingCallback;
    if (cb) {
      this.pendingCallback = undefined;
      cb();
    }
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const cb = this.pendingCallback;
    this.pendingCallback = undefined;
    cb?.(err ?? new Error('socket closed'));
    if (!this.peer.destroyed) this.peer.destroy();
    callback(err);
  }
}

/** Creates a connected pair; destroying either end destroys the other. */
export function duplexPair(): [MemorySocket, MemorySocket] {
  const a = new MemorySocket();
  const b = new MemorySocket();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
