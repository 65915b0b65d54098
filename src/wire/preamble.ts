/**
 * Stream preambles of edge-initiated QUIC streams (docs/protocol.md §7.1, §17): a 6-byte signature telling data streams
 * from RPC streams; data streams then carry 2 version bytes and exactly one Cap'n Proto ConnectRequest frame, and
 * everything after that frame is the request body.
 */
import type { Readable } from 'node:stream';
import { CftunnelError } from '../errors.js';
import { measureFrame } from '../capnp/framing.js';

/** Data-stream signature (docs/protocol.md §7.1). */
export const DATA_STREAM_SIGNATURE: Readonly<Buffer> = Buffer.from([0x0a, 0x36, 0xcd, 0x12, 0xa1, 0x3e]);
/** RPC-stream signature, not followed by version bytes (docs/protocol.md §7.1). */
export const RPC_STREAM_SIGNATURE: Readonly<Buffer> = Buffer.from([0x52, 0xbb, 0x82, 0x5c, 0xdb, 0x65]);
/** Data-stream protocol version `"01"`; read but not checked by cloudflared (docs/protocol.md §7.1). */
export const DATA_STREAM_VERSION: Readonly<Buffer> = Buffer.from('01', 'latin1');
/** Largest ConnectRequest frame accepted; real ones are well under 4 KiB but carry every request header. */
export const MAX_CONNECT_REQUEST_BYTES = 256 * 1024;

const SIGNATURE_LENGTH = 6;
const VERSION_LENGTH = 2;
const UNLIMITED = Number.MAX_SAFE_INTEGER;

/** A parsed stream preamble. `rest` holds the bytes that followed it in the chunks seen so far. */
export type StreamPreamble =
  { kind: 'data'; version: string; frame: Buffer; rest: Buffer } | { kind: 'rpc'; rest: Buffer };

/** The stream starts with neither known signature; cloudflared resets such streams. */
export class UnknownStreamSignatureError extends CftunnelError {
  constructor(signature: Buffer) {
    super('CFT_ERR_STREAM_SIGNATURE', `unknown stream signature ${signature.toString('hex')}`);
  }
}

/** The stream ended before its preamble was complete. */
export class TruncatedPreambleError extends CftunnelError {
  constructor(received: number) {
    super('CFT_ERR_STREAM_PREAMBLE_TRUNCATED', `stream ended after ${received} bytes, inside its preamble`);
  }
}

/** The ConnectRequest frame is malformed or larger than the limit. */
export class ConnectRequestFrameError extends CftunnelError {
  constructor(message: string, cause?: unknown) {
    super('CFT_ERR_CONNECT_REQUEST_FRAME', message, { cause });
  }
}

/** Options for {@link PreambleParser} and {@link readStreamPreamble}. */
export interface PreambleOptions {
  /** Cap on the ConnectRequest frame size in bytes. Defaults to {@link MAX_CONNECT_REQUEST_BYTES}. */
  maxFrameBytes?: number;
}

/** The preamble written before a ConnectResponse: data-stream signature + `"01"`. Returns a fresh Buffer. */
export function dataStreamPreamble(): Buffer {
  return Buffer.concat([DATA_STREAM_SIGNATURE, DATA_STREAM_VERSION]);
}

/**
 * Incremental preamble parser fed with chunks on arbitrary boundaries. Buffers only until the preamble is complete.
 */
export class PreambleParser {
  private readonly maxFrameBytes: number;
  private chunks: Buffer[] = [];
  private length = 0;
  private done = false;

  constructor(options: PreambleOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? MAX_CONNECT_REQUEST_BYTES;
  }

  /**
   * Adds a chunk. Returns the preamble once complete (with `rest` = the bytes after it), otherwise `null`.
   * @throws {UnknownStreamSignatureError | ConnectRequestFrameError}
   */
  push(chunk: Buffer): StreamPreamble | null {
    if (this.done) throw new Error('PreambleParser already produced its preamble');
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    if (this.length < SIGNATURE_LENGTH) return null;
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    this.chunks = [buf];
    const result = this.tryParse(buf);
    if (result !== null) {
      this.done = true;
      this.chunks = [];
    }
    return result;
  }

  /** Call when the stream ended. @throws {TruncatedPreambleError} unless the preamble was already returned. */
  end(): void {
    if (!this.done) throw new TruncatedPreambleError(this.length);
  }

  private tryParse(buf: Buffer): StreamPreamble | null {
    const signature = buf.subarray(0, SIGNATURE_LENGTH);
    if (signature.equals(RPC_STREAM_SIGNATURE)) return { kind: 'rpc', rest: buf.subarray(SIGNATURE_LENGTH) };
    if (!signature.equals(DATA_STREAM_SIGNATURE)) throw new UnknownStreamSignatureError(Buffer.from(signature));
    const frameStart = SIGNATURE_LENGTH + VERSION_LENGTH;
    if (buf.length < frameStart) return null;
    const size = this.measure(buf, frameStart);
    if (size < 0 || buf.length - frameStart < size) return null;
    return {
      kind: 'data',
      version: buf.toString('latin1', SIGNATURE_LENGTH, frameStart),
      frame: buf.subarray(frameStart, frameStart + size),
      rest: buf.subarray(frameStart + size),
    };
  }

  /** Frame size, -1 when more bytes are needed; separates "too large" from "malformed". */
  private measure(buf: Buffer, offset: number): number {
    let size: number;
    try {
      size = measureFrame(buf, offset, UNLIMITED);
    } catch (err) {
      throw new ConnectRequestFrameError('malformed ConnectRequest frame header', err);
    }
    if (size > this.maxFrameBytes) throw this.tooLarge();
    if (size < 0) {
      // The segment table may be incomplete yet already exceed the cap.
      try {
        measureFrame(buf, offset, this.maxFrameBytes);
      } catch {
        throw this.tooLarge();
      }
    }
    return size;
  }

  private tooLarge(): ConnectRequestFrameError {
    return new ConnectRequestFrameError(`ConnectRequest frame exceeds the ${this.maxFrameBytes}-byte limit`);
  }
}

/** A preamble read from a Readable; the stream is left positioned at the first byte after it. */
export type ReadPreamble = { kind: 'data'; version: string; frame: Buffer } | { kind: 'rpc' };

/**
 * Reads the preamble from `stream`, then pushes any over-read bytes back with `unshift`, so the stream continues
 * exactly at the body. The stream is left paused.
 *
 * @throws {UnknownStreamSignatureError | ConnectRequestFrameError | TruncatedPreambleError} or the stream's error.
 */
export function readStreamPreamble(stream: Readable, options: PreambleOptions = {}): Promise<ReadPreamble> {
  const parser = new PreambleParser(options);
  return new Promise<ReadPreamble>((resolve, reject) => {
    const cleanup = (): void => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const fail = (err: unknown): void => {
      cleanup();
      reject(err);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = stream.read() as Buffer | null) !== null) {
        let result: StreamPreamble | null;
        try {
          result = parser.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
        } catch (err) {
          fail(err);
          return;
        }
        if (result !== null) {
          cleanup();
          if (result.rest.length > 0) stream.unshift(result.rest);
          resolve(
            result.kind === 'rpc' ? { kind: 'rpc' } : { kind: 'data', version: result.version, frame: result.frame },
          );
          return;
        }
      }
    };
    const onEnd = (): void => {
      try {
        parser.end();
      } catch (err) {
        fail(err);
      }
    };
    const onError = (err: Error): void => fail(err);
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}
