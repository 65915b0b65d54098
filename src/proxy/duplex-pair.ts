/**
 * Two connected in-memory Duplex ends: bytes written to one are read from the other, with backpressure.
 * (`stream.duplexPair` only exists from Node 22.6; cftunnel supports Node 20.)
 */
import { Duplex } from 'node:stream';

class PairEnd extends Duplex {
  peer!: PairEnd;
  private pendingWrite: (() => void) | undefined;

  override _read(): void {
    const resume = this.peer.pendingWrite;
    this.peer.pendingWrite = undefined;
    resume?.();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.peer.push(chunk)) callback();
    else this.pendingWrite = () => callback();
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.peer.push(null);
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.pendingWrite = undefined;
    if (!this.peer.destroyed) this.peer.destroy();
    callback(err);
  }
}

/** Creates a connected pair; destroying either end destroys the other. */
export function duplexPair(): [Duplex, Duplex] {
  const a = new PairEnd();
  const b = new PairEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
