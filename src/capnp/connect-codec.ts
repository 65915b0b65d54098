/**
 * Hand-written codec for the per-request `ConnectRequest` / `ConnectResponse` messages of QUIC data streams
 * (docs/protocol.md §6.3, §6.4, §7.2, §7.3). These are encoded and decoded once per proxied request, where capnp-es's
 * Proxy-based accessors cost tens of microseconds; this codec writes and reads the wire layout directly.
 *
 * Encoding is canonical and deterministic: one segment, objects laid out in field order right after the root struct,
 * empty strings written as null pointers, and the metadata list always present (possibly empty). That is byte for
 * byte what cloudflared (Go capnproto2) writes and what capnp-es writes when each non-empty text field is set in
 * schema order; a test holds us to both.
 *
 * Decoding accepts any valid encoding (multi-segment, far pointers, null or empty lists and texts, larger or
 * smaller struct sections) within the limits exported below, and throws {@link CapnpDecodeError} for anything else.
 */
import { CapnpDecodeError, MessageReader, type ReaderLimits, type StructRef } from './reader.js';

export { CapnpDecodeError } from './reader.js';

/** Kind of proxied stream a ConnectRequest asks for (docs/protocol.md §7.2). */
export type ConnectionType = 'http' | 'websocket' | 'tcp';

/** One metadata pair; keys may repeat (one `HttpHeader:<Name>` entry per header value). */
export interface Metadata {
  key: string;
  val: string;
}

/** The message the edge sends at the start of a data stream (docs/protocol.md §7.2). */
export interface ConnectRequest {
  /** Absolute URL for http/websocket, `host:port` for tcp. */
  dest: string;
  type: ConnectionType;
  metadata: Metadata[];
}

/** The connector's answer at the start of a data stream (docs/protocol.md §7.3). */
export interface ConnectResponse {
  /** Empty on success; the failure text otherwise. */
  error: string;
  metadata: Metadata[];
}

/** Most metadata entries a decoded message may carry; real requests carry tens. */
export const CONNECT_MAX_METADATA_ENTRIES = 4096;
/** Largest decoded text (dest, error, key or value) in UTF-8 bytes. */
export const CONNECT_MAX_TEXT_BYTES = 1 << 20;
/** Most words one decode may dereference (8 MiB), bounding work and memory whatever the pointers alias. */
export const CONNECT_TRAVERSAL_LIMIT_WORDS = 1 << 20;
/** Most pointers followed from the root; these schemas need 3 (root, metadata list, text). */
export const CONNECT_NESTING_LIMIT = 8;

const LIMITS: ReaderLimits = {
  traversalLimitWords: CONNECT_TRAVERSAL_LIMIT_WORDS,
  nestingLimit: CONNECT_NESTING_LIMIT,
  maxTextBytes: CONNECT_MAX_TEXT_BYTES,
  maxListElements: CONNECT_MAX_METADATA_ENTRIES,
};

/** Wire values of the `ConnectionType` enum (docs/protocol.md §6.3). */
const CONNECTION_TYPES: readonly ConnectionType[] = ['http', 'websocket', 'tcp'];
const CONNECTION_TYPE_VALUE: Readonly<Record<ConnectionType, number>> = { http: 0, websocket: 1, tcp: 2 };

// Struct layouts, docs/protocol.md §6.4: ConnectRequest 1 data word / 2 pointers (p0 dest, p1 metadata, u16 type at
// byte 0); ConnectResponse 0 / 2 (p0 error, p1 metadata); Metadata 0 / 2 (p0 key, p1 val).
const REQUEST_DATA_WORDS = 1;
const RESPONSE_DATA_WORDS = 0;
const POINTERS = 2;
const METADATA_POINTERS = 2;
/** Frame header of a single-segment message: segment count - 1, then its size in words. */
const HEADER_BYTES = 8;
/** List pointers hold an element count in 29 bits (Cap'n Proto encoding). */
const MAX_LIST_COUNT = 2 ** 29 - 1;

/**
 * Encodes a ConnectRequest as a complete single-segment stream-framed message.
 *
 * @throws {TypeError} when `req.type` is not a {@link ConnectionType}.
 * @throws {RangeError} when a text or the metadata list is too large for a Cap'n Proto list.
 */
export function encodeConnectRequest(req: ConnectRequest): Buffer {
  const type = CONNECTION_TYPE_VALUE[req.type];
  if (type === undefined) throw new TypeError(`unknown ConnectionType ${String(req.type)}`);
  const w = new SegmentWriter(REQUEST_DATA_WORDS, req.dest, req.metadata);
  w.buf.writeUInt16LE(type, HEADER_BYTES + 8);
  w.writeText(w.rootPointers, req.dest);
  w.writeMetadata(w.rootPointers + 8, req.metadata);
  return w.buf;
}

/**
 * Encodes a ConnectResponse as a complete single-segment stream-framed message.
 *
 * @throws {RangeError} when a text or the metadata list is too large for a Cap'n Proto list.
 */
export function encodeConnectResponse(res: ConnectResponse, options: TextOptions = {}): Buffer {
  const w = new SegmentWriter(RESPONSE_DATA_WORDS, res.error, res.metadata, options.byteStringValues === true);
  w.writeText(w.rootPointers, res.error);
  w.writeMetadata(w.rootPointers + 8, res.metadata);
  return w.buf;
}

/**
 * Decodes one stream-framed ConnectRequest message (exactly one frame, as returned by `FrameReader`).
 *
 * A missing `type` (older writer, smaller data section) reads as `http`, the enum's zero value. An enum value this
 * codec does not know is an error rather than a number, because no caller could act on it.
 *
 * @throws {CapnpDecodeError} when the bytes are not a valid ConnectRequest within the decode limits.
 */
export function decodeConnectRequest(frame: Uint8Array): ConnectRequest {
  const r = new MessageReader(frame, LIMITS);
  const root = r.root();
  if (root === null) return { dest: '', type: 'http', metadata: [] };
  const typeValue = r.uint16(root, 0);
  const type = CONNECTION_TYPES[typeValue];
  if (type === undefined) throw new CapnpDecodeError(`ConnectRequest has unknown ConnectionType ${typeValue}`);
  return { dest: r.text(root, 0), type, metadata: readMetadata(r, root, 1) };
}

/**
 * Decodes one stream-framed ConnectResponse message.
 *
 * @throws {CapnpDecodeError} when the bytes are not a valid ConnectResponse within the decode limits.
 */
export function decodeConnectResponse(frame: Uint8Array, options: TextOptions = {}): ConnectResponse {
  const r = new MessageReader(frame, LIMITS);
  const root = r.root();
  if (root === null) return { error: '', metadata: [] };
  return {
    error: r.text(root, 0),
    metadata: readMetadata(r, root, 1, options.byteStringValues === true ? 'latin1' : 'utf8'),
  };
}

function readMetadata(
  r: MessageReader,
  s: StructRef,
  index: number,
  valEncoding: 'utf8' | 'latin1' = 'utf8',
): Metadata[] {
  const list = r.structList(s, index);
  if (list === null) return [];
  const out = new Array<Metadata>(list.length);
  for (let i = 0; i < list.length; i++) {
    const e = r.element(list, i);
    out[i] = { key: r.text(e, 0), val: r.text(e, 1, valEncoding) };
  }
  return out;
}

/**
 * How metadata values map to Text bytes. By default they are UTF-8. With `byteStringValues`, a value is a byte string
 * (each char one byte, 0-255: HTTP header values as received, docs/protocol.md §7.3), so a byte such as 0xFF that is
 * no UTF-8 crosses unchanged; a value with a char above 0xFF is still written as UTF-8.
 */
export interface TextOptions {
  byteStringValues?: boolean;
}

const NON_LATIN1 = /[^\x00-\xff]/;

/** Words a Text of `bytes` UTF-8 bytes occupies: the bytes, a NUL, padding. Empty text is a null pointer. */
function textWords(bytes: number): number {
  return bytes === 0 ? 0 : (bytes + 8) >>> 3;
}

/**
 * Lays out one message in a single pre-sized segment. Sizes are measured first so the buffer is allocated once;
 * objects are appended in the order capnp-es and Go allocate them (root, then each pointer field in order, then a
 * list's elements, then their texts).
 */
class SegmentWriter {
  readonly buf: Buffer;
  /** Absolute byte offset of the root struct's pointer section. */
  readonly rootPointers: number;
  /** Absolute byte offset of the next free word. */
  private next: number;
  private readonly lengths: number[];
  /** Per metadata entry: its value is written as latin1 (a byte string) rather than UTF-8. */
  private readonly latin1Values: boolean[] | undefined;
  private lengthIndex = 0;

  constructor(dataWords: number, firstText: string, metadata: readonly Metadata[], byteStringValues = false) {
    // UTF-8 lengths in write order: the first text, then key/val of each entry.
    const lengths = new Array<number>(1 + metadata.length * 2);
    lengths[0] = Buffer.byteLength(firstText, 'utf8');
    let longest = lengths[0];
    let words = 1 + dataWords + POINTERS + textWords(lengths[0]) + 1 + metadata.length * METADATA_POINTERS;
    for (let i = 0; i < metadata.length; i++) {
      const e = metadata[i]!;
      const k = Buffer.byteLength(e.key, 'utf8');
      const latin1 = byteStringValues && !NON_LATIN1.test(e.val);
      if (latin1) (this.latin1Values ??= [])[i] = true;
      const v = latin1 ? e.val.length : Buffer.byteLength(e.val, 'utf8');
      lengths[1 + 2 * i] = k;
      lengths[2 + 2 * i] = v;
      words += textWords(k) + textWords(v);
      longest = Math.max(longest, k, v);
    }
    if (longest + 1 > MAX_LIST_COUNT || metadata.length * METADATA_POINTERS > MAX_LIST_COUNT) {
      throw new RangeError("text or metadata list too large for a Cap'n Proto message");
    }
    this.lengths = lengths;
    const buf = Buffer.allocUnsafe(HEADER_BYTES + words * 8);
    buf.fill(0);
    buf.writeUInt32LE(words, 4);
    // Root pointer: struct right after it (offset 0).
    buf.writeUInt32LE(0, HEADER_BYTES);
    buf.writeUInt32LE(dataWords | (POINTERS << 16), HEADER_BYTES + 4);
    this.buf = buf;
    this.rootPointers = HEADER_BYTES + 8 + dataWords * 8;
    this.next = this.rootPointers + POINTERS * 8;
  }

  /** Appends the next measured text and points the pointer at `pointerAt` to it (null when empty). */
  writeText(pointerAt: number, value: string, encoding: 'utf8' | 'latin1' = 'utf8'): void {
    const bytes = this.lengths[this.lengthIndex++]!;
    if (bytes === 0) return;
    const at = this.next;
    this.listPointer(pointerAt, at, ((bytes + 1) << 3) | 2);
    this.buf.write(value, at, bytes, encoding);
    this.next = at + textWords(bytes) * 8;
  }

  /** Appends a composite list of Metadata (tag word, elements, then their texts) and points `pointerAt` to it. */
  writeMetadata(pointerAt: number, metadata: readonly Metadata[]): void {
    const n = metadata.length;
    const tag = this.next;
    this.listPointer(pointerAt, tag, ((n * METADATA_POINTERS) << 3) | 7);
    this.buf.writeUInt32LE(n << 2, tag);
    this.buf.writeUInt32LE(METADATA_POINTERS << 16, tag + 4);
    this.next = tag + 8 + n * METADATA_POINTERS * 8;
    for (let i = 0; i < n; i++) {
      const e = metadata[i]!;
      const element = tag + 8 + i * METADATA_POINTERS * 8;
      this.writeText(element, e.key);
      this.writeText(element + 8, e.val, this.latin1Values?.[i] === true ? 'latin1' : 'utf8');
    }
  }

  private listPointer(pointerAt: number, target: number, hi: number): void {
    const offsetWords = (target - pointerAt - 8) >> 3;
    this.buf.writeUInt32LE(((offsetWords << 2) | 1) >>> 0, pointerAt);
    this.buf.writeUInt32LE(hi >>> 0, pointerAt + 4);
  }
}
