/**
 * A bounded, allocation-light reader for one stream-framed Cap'n Proto message (docs/protocol.md §6.1).
 *
 * It exists for hot paths where capnp-es's Proxy-based accessors are too slow, and for hostile input: every pointer
 * is bounds-checked against its segment, every object dereferenced is charged to a traversal budget (so a message
 * cannot make us read more than a fixed number of words however its pointers alias), and pointer chains are limited
 * in depth. Any violation throws {@link CapnpDecodeError}; nothing here can loop or allocate beyond those budgets.
 *
 * Schema evolution follows the Cap'n Proto rules: fields beyond a struct's data or pointer section read as zero /
 * null, and a struct list may be encoded as a list of primitives or pointers (an upgraded older schema).
 */
import { CftunnelError } from '../errors.js';
import { MAX_FRAME_SEGMENTS } from './framing.js';

/** Thrown when bytes claiming to be a Cap'n Proto message are malformed, inconsistent or exceed a decode limit. */
export class CapnpDecodeError extends CftunnelError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_CAPNP_DECODE', message, { retryable: false, ...options });
  }
}

/** Budgets applied while reading one message. */
export interface ReaderLimits {
  /** Most words that may be dereferenced in total (aliased objects count each time they are reached). */
  readonly traversalLimitWords: number;
  /** Most pointers that may be followed from the root to any object. */
  readonly nestingLimit: number;
  /** Largest Text, in UTF-8 bytes without the NUL terminator. */
  readonly maxTextBytes: number;
  /** Most elements a list may have. */
  readonly maxListElements: number;
}

/** A struct located in the message: byte offsets are absolute within the frame. */
export interface StructRef {
  readonly segment: number;
  /** Absolute byte offset of the data section. */
  readonly dataOffset: number;
  /** Data section size in bytes. */
  readonly dataBytes: number;
  /** Absolute byte offset of the pointer section. */
  readonly pointerOffset: number;
  readonly pointerCount: number;
  /** Number of pointers followed from the root to reach this struct (the root is 1). */
  readonly depth: number;
}

/** A list of structs (or of primitives/pointers read as structs, per schema evolution). */
export interface StructListRef {
  readonly segment: number;
  /** Absolute byte offset of element 0. */
  readonly firstOffset: number;
  readonly length: number;
  /** Bytes from one element to the next. */
  readonly stepBytes: number;
  readonly dataBytes: number;
  readonly pointerCount: number;
  readonly depth: number;
}

// Pointer kinds and list element sizes: Cap'n Proto encoding spec (docs/protocol.md §6.1 says standard encoding).
const KIND_STRUCT = 0;
const KIND_LIST = 1;
const KIND_FAR = 2;
const ELEMENT_VOID = 0;
const ELEMENT_BIT = 1;
const ELEMENT_BYTE = 2;
const ELEMENT_POINTER = 6;
const ELEMENT_COMPOSITE = 7;
/** Bytes per element for list element sizes 0..6 (bit lists are handled separately). */
const ELEMENT_BYTES = [0, 0, 1, 2, 4, 8, 8] as const;

/** The result of following one pointer: where the object starts and the pointer word that describes it. */
interface Target {
  segment: number;
  /** Absolute byte offset of the object's first word. */
  offset: number;
  lo: number;
  hi: number;
}

/** Reads one complete stream-framed message. Create one per frame; it keeps the traversal budget. */
export class MessageReader {
  private readonly bytes: Buffer;
  private readonly view: DataView;
  private readonly segmentStart: number[] = [];
  private readonly segmentEnd: number[] = [];
  private wordsLeft: number;
  private readonly target: Target = { segment: 0, offset: 0, lo: 0, hi: 0 };

  /**
   * Parses the segment table. The frame must be exactly one message: header, padding and segments, nothing more.
   *
   * @throws {CapnpDecodeError} when the header is truncated, inconsistent with the frame length or declares too many
   *   segments.
   */
  constructor(
    frame: Uint8Array,
    private readonly limits: ReaderLimits,
  ) {
    // A Buffer view of the same memory gives us Node's native UTF-8 decoder without copying.
    this.bytes = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    this.view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    this.wordsLeft = limits.traversalLimitWords;
    if (frame.length < 8) throw new CapnpDecodeError(`capnp frame of ${frame.length} bytes is shorter than a header`);
    const count = this.view.getUint32(0, true) + 1;
    if (count > MAX_FRAME_SEGMENTS) {
      throw new CapnpDecodeError(`capnp frame declares ${count} segments (limit ${MAX_FRAME_SEGMENTS})`);
    }
    const headerBytes = (4 + 4 * count + 7) & ~7;
    if (frame.length < headerBytes) throw new CapnpDecodeError('capnp frame is shorter than its segment table');
    let offset = headerBytes;
    for (let i = 0; i < count; i++) {
      const words = this.view.getUint32(4 + 4 * i, true);
      this.segmentStart.push(offset);
      offset += words * 8;
      this.segmentEnd.push(offset);
      if (offset > frame.length) throw new CapnpDecodeError('capnp frame is shorter than its declared segments');
    }
    if (offset !== frame.length) {
      throw new CapnpDecodeError(`capnp frame has ${frame.length - offset} bytes after its last segment`);
    }
    if (this.segmentEnd[0] === this.segmentStart[0]) throw new CapnpDecodeError('capnp message has no root pointer');
  }

  /** The root struct, or `null` when the root pointer is null. */
  root(): StructRef | null {
    return this.structAt(0, this.segmentStart[0]!, 0);
  }

  /** Unsigned 16-bit field at `byteOffset` of the data section; 0 when the section is too small (older writer). */
  uint16(s: StructRef, byteOffset: number): number {
    return byteOffset + 2 <= s.dataBytes ? this.view.getUint16(s.dataOffset + byteOffset, true) : 0;
  }

  /** The struct that pointer `index` of `s` points to, or `null` (null pointer or beyond the pointer section). */
  struct(s: StructRef, index: number): StructRef | null {
    if (index >= s.pointerCount) return null;
    return this.structAt(s.segment, s.pointerOffset + index * 8, s.depth);
  }

  /** Element `i` of a struct list (the caller keeps `i < list.length`). */
  element(list: StructListRef, i: number): StructRef {
    const dataOffset = list.firstOffset + i * list.stepBytes;
    return {
      segment: list.segment,
      dataOffset,
      dataBytes: list.dataBytes,
      pointerOffset: dataOffset + list.dataBytes,
      pointerCount: list.pointerCount,
      depth: list.depth,
    };
  }

  /** The struct list that pointer `index` of `s` points to, or `null`. */
  structList(s: StructRef, index: number): StructListRef | null {
    if (index >= s.pointerCount) return null;
    const t = this.follow(s.segment, s.pointerOffset + index * 8, s.depth + 1);
    if (t === null) return null;
    if ((t.lo & 3) !== KIND_LIST) throw new CapnpDecodeError('capnp pointer should be a list but is not');
    const elementSize = t.hi & 7;
    const depth = s.depth + 1;
    if (elementSize === ELEMENT_COMPOSITE) {
      const totalWords = t.hi >>> 3;
      this.checkRange(t.segment, t.offset, 8 + totalWords * 8);
      const tagLo = this.view.getInt32(t.offset, true);
      const tagHi = this.view.getUint32(t.offset + 4, true);
      if ((tagLo & 3) !== KIND_STRUCT) throw new CapnpDecodeError('capnp composite list tag is not a struct tag');
      const length = tagLo >>> 2;
      const dataWords = tagHi & 0xffff;
      const pointerCount = tagHi >>> 16;
      const stepWords = dataWords + pointerCount;
      this.checkListLength(length);
      if (length * stepWords > totalWords) {
        throw new CapnpDecodeError('capnp composite list elements overrun the list');
      }
      // Zero-sized elements cost no words, so charge at least one per element against amplification.
      this.charge(Math.max(totalWords + 1, length));
      return {
        segment: t.segment,
        firstOffset: t.offset + 8,
        length,
        stepBytes: stepWords * 8,
        dataBytes: dataWords * 8,
        pointerCount,
        depth,
      };
    }
    if (elementSize === ELEMENT_BIT) throw new CapnpDecodeError('capnp bit list cannot be read as a struct list');
    const length = t.hi >>> 3;
    this.checkListLength(length);
    const stepBytes = ELEMENT_BYTES[elementSize as 0 | 2 | 3 | 4 | 5 | 6];
    this.checkRange(t.segment, t.offset, length * stepBytes);
    this.charge(Math.max(Math.ceil((length * stepBytes) / 8), elementSize === ELEMENT_VOID ? length : 0));
    const isPointer = elementSize === ELEMENT_POINTER;
    return {
      segment: t.segment,
      firstOffset: t.offset,
      length,
      stepBytes,
      dataBytes: isPointer ? 0 : stepBytes,
      pointerCount: isPointer ? 1 : 0,
      depth,
    };
  }

  /**
   * The Text that pointer `index` of `s` points to, decoded as UTF-8 (invalid sequences become U+FFFD, as with
   * `TextDecoder`) or, with `latin1`, as a byte string (one char per byte); `''` for a null pointer.
   */
  text(s: StructRef, index: number, encoding: 'utf8' | 'latin1' = 'utf8'): string {
    if (index >= s.pointerCount) return '';
    const t = this.follow(s.segment, s.pointerOffset + index * 8, s.depth + 1);
    if (t === null) return '';
    if ((t.lo & 3) !== KIND_LIST || (t.hi & 7) !== ELEMENT_BYTE) {
      throw new CapnpDecodeError('capnp pointer should be Text (a byte list) but is not');
    }
    const length = t.hi >>> 3;
    if (length === 0) throw new CapnpDecodeError('capnp Text has no NUL terminator');
    if (length - 1 > this.limits.maxTextBytes) {
      throw new CapnpDecodeError(
        `capnp Text of ${length - 1} bytes exceeds the ${this.limits.maxTextBytes}-byte limit`,
      );
    }
    this.checkRange(t.segment, t.offset, length);
    this.charge(Math.ceil(length / 8));
    if (this.bytes[t.offset + length - 1] !== 0) throw new CapnpDecodeError('capnp Text is not NUL-terminated');
    return this.bytes.toString(encoding, t.offset, t.offset + length - 1);
  }

  private structAt(segment: number, pointerOffset: number, parentDepth: number): StructRef | null {
    const t = this.follow(segment, pointerOffset, parentDepth + 1);
    if (t === null) return null;
    if ((t.lo & 3) !== KIND_STRUCT) throw new CapnpDecodeError('capnp pointer should be a struct but is not');
    const dataBytes = (t.hi & 0xffff) * 8;
    const pointerCount = t.hi >>> 16;
    const size = dataBytes + pointerCount * 8;
    this.checkRange(t.segment, t.offset, size);
    this.charge(Math.max(size / 8, 1));
    return {
      segment: t.segment,
      dataOffset: t.offset,
      dataBytes,
      pointerOffset: t.offset + dataBytes,
      pointerCount,
      depth: parentDepth + 1,
    };
  }

  /**
   * Follows the pointer at `pointerOffset` (resolving single and double far pointers) and returns where its object
   * starts together with the struct/list pointer word describing it, or `null` for a null pointer. The returned
   * object is reused by the next call.
   */
  private follow(segment: number, pointerOffset: number, depth: number): Target | null {
    if (depth > this.limits.nestingLimit) {
      throw new CapnpDecodeError(`capnp message nests deeper than ${this.limits.nestingLimit} pointers`);
    }
    const view = this.view;
    let lo = view.getInt32(pointerOffset, true);
    let hi = view.getUint32(pointerOffset + 4, true);
    if (lo === 0 && hi === 0) return null;
    const t = this.target;
    let kind = lo & 3;
    if (kind === KIND_FAR) {
      const doubleFar = (lo & 4) !== 0;
      const padSegment = hi;
      const padOffset = this.wordOffset(padSegment, lo >>> 3, doubleFar ? 16 : 8);
      lo = view.getInt32(padOffset, true);
      hi = view.getUint32(padOffset + 4, true);
      kind = lo & 3;
      if (!doubleFar) {
        if (kind === KIND_FAR) throw new CapnpDecodeError('capnp far pointer lands on another far pointer');
        segment = padSegment;
        pointerOffset = padOffset;
      } else {
        // A double-far landing pad: a far pointer to the object's start, then a tag describing the object.
        if (kind !== KIND_FAR || (lo & 4) !== 0)
          throw new CapnpDecodeError('capnp double-far landing pad is malformed');
        const objectSegment = hi;
        const objectWord = lo >>> 3;
        lo = view.getInt32(padOffset + 8, true);
        hi = view.getUint32(padOffset + 12, true);
        kind = lo & 3;
        if (kind === KIND_FAR) throw new CapnpDecodeError('capnp double-far tag is a far pointer');
        this.segmentOf(objectSegment);
        t.segment = objectSegment;
        t.offset = this.segmentStart[objectSegment]! + objectWord * 8;
        t.lo = lo;
        t.hi = hi;
        return t;
      }
    }
    if (kind !== KIND_STRUCT && kind !== KIND_LIST) {
      throw new CapnpDecodeError('capnp capability pointer where data was expected');
    }
    t.segment = segment;
    t.offset = pointerOffset + 8 + (lo >> 2) * 8;
    t.lo = lo;
    t.hi = hi;
    return t;
  }

  /** Absolute byte offset of word `word` of `segment`, checking that `bytes` fit there. */
  private wordOffset(segment: number, word: number, bytes: number): number {
    this.segmentOf(segment);
    const offset = this.segmentStart[segment]! + word * 8;
    this.checkRange(segment, offset, bytes);
    return offset;
  }

  private segmentOf(segment: number): void {
    if (segment >= this.segmentStart.length) {
      throw new CapnpDecodeError(`capnp far pointer names segment ${segment} of ${this.segmentStart.length}`);
    }
  }

  private checkRange(segment: number, offset: number, bytes: number): void {
    if (offset < this.segmentStart[segment]! || offset + bytes > this.segmentEnd[segment]!) {
      throw new CapnpDecodeError('capnp pointer points outside its segment');
    }
  }

  private checkListLength(length: number): void {
    if (length > this.limits.maxListElements) {
      throw new CapnpDecodeError(
        `capnp list of ${length} elements exceeds the limit of ${this.limits.maxListElements}`,
      );
    }
  }

  private charge(words: number): void {
    this.wordsLeft -= words;
    if (this.wordsLeft < 0) {
      throw new CapnpDecodeError(
        `capnp message exceeds the traversal limit of ${this.limits.traversalLimitWords} words`,
      );
    }
  }
}
