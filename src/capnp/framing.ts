/**
 * Cap'n Proto standard stream framing (docs/protocol.md §6.1): u32 LE (segment count - 1), one u32 LE size in words per
 * segment, zero padding to 8 bytes, then the segments. Unpacked only.
 *
 * Shared by the RPC layer (messages back to back on a stream) and the data-stream preamble parser (one
 * ConnectRequest followed by the body), so it only measures and slices; it never decodes.
 */
import { CftunnelError } from '../errors.js';

/** Most segments a frame may declare (go-capnproto2 `maxStreamSegments`); cloudflared writes 1. */
export const MAX_FRAME_SEGMENTS = 512;

/**
 * Largest Cap'n Proto message cloudflared's capnp layer decodes from a stream: go-capnproto2 (zombiezen.com/go/capnproto2
 * v2.18, `mem.go`) `defaultDecodeLimit`, 64 MiB, the `Decoder.MaxMessageSize` its RPC stream transport uses (its
 * traversal limit is also 64 MiB). docs/protocol.md §6.1, §9.1: the same bound applies to a configuration pushed
 * over HTTP/2, so a configuration is accepted or refused alike on both transports.
 */
export const MAX_CAPNP_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Thrown when bytes on a stream are not a well-formed Cap'n Proto frame or exceed a size limit. */
export class CapnpFrameError extends CftunnelError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_CAPNP_FRAME', message, { retryable: false, ...options });
  }
}

/**
 * Measures the frame starting at `buf[offset]`.
 *
 * @returns the frame's total length in bytes (header + segments), or `-1` when more bytes are needed to know it.
 * @throws {CapnpFrameError} when the header declares too many segments or a frame larger than `maxBytes`.
 */
export function measureFrame(buf: Uint8Array, offset: number, maxBytes: number): number {
  const available = buf.length - offset;
  if (available < 4) return -1;
  const view = new DataView(buf.buffer, buf.byteOffset + offset, available);
  const segmentCount = view.getUint32(0, true) + 1;
  // A plain number: 0xffffffff + 1 is 2^32 segments, not 0.
  if (segmentCount > MAX_FRAME_SEGMENTS) {
    throw new CapnpFrameError(`capnp frame declares ${segmentCount} segments (limit ${MAX_FRAME_SEGMENTS})`);
  }
  const headerBytes = (4 + 4 * segmentCount + 7) & ~7;
  if (headerBytes > maxBytes) throw new CapnpFrameError(`capnp frame header exceeds the ${maxBytes}-byte limit`);
  if (available < 4 + 4 * segmentCount) return -1;
  let words = 0;
  for (let i = 0; i < segmentCount; i++) {
    words += view.getUint32(4 + 4 * i, true);
    if (headerBytes + words * 8 > maxBytes) {
      throw new CapnpFrameError(`capnp frame exceeds the ${maxBytes}-byte limit`);
    }
  }
  return headerBytes + words * 8;
}

/**
 * Accumulates stream chunks and yields complete frames. Works on arbitrary chunk boundaries and never buffers more
 * than one frame plus one chunk: a frame larger than `maxFrameBytes` is an error as soon as its header is seen.
 */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes received but not yet returned as a frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /**
   * Adds a chunk and returns every frame it completes (possibly none). Each returned Buffer holds exactly one frame,
   * header included.
   */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: Buffer[] = [];
    let buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    let offset = 0;
    for (;;) {
      const size = measureFrame(buf, offset, this.maxFrameBytes);
      if (size < 0 || buf.length - offset < size) break;
      frames.push(buf.subarray(offset, offset + size));
      offset += size;
    }
    if (offset === buf.length) {
      this.pending = [];
      this.pendingBytes = 0;
    } else {
      buf = buf.subarray(offset);
      this.pending = [buf];
      this.pendingBytes = buf.length;
    }
    return frames;
  }

  /** Takes whatever bytes are buffered (e.g. a body that follows the last frame) and empties the reader. */
  drain(): Buffer {
    const out = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return out;
  }
}
