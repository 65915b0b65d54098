/**
 * A bounded walk over the pointer graph of one stream-framed Cap'n Proto message, used before handing a
 * peer-controlled struct to capnp-es's deep copy. capnp-es copies recursively with only a depth limit, so a few
 * hundred bytes of pointers that alias their own struct make the copy exponential (found by `test/fuzz`). This walk
 * charges every object reached to a word budget, like Cap'n Proto's traversal limit, and gives up past it.
 */

/** Nesting deeper than this is refused (capnp's default nesting limit). */
const MAX_DEPTH = 64;
const POINTER_STRUCT = 0;
const POINTER_LIST = 1;
const POINTER_FAR = 2;
const LIST_POINTERS = 6;
const LIST_COMPOSITE = 7;
/** Bits per element of list element sizes 0..5 (void, bit, byte, 2, 4, 8 bytes). */
const ELEMENT_BITS = [0, 1, 8, 16, 32, 64];

class BudgetExceeded extends Error {}

class Walker {
  private readonly segments: Array<{ start: number; words: number }> = [];
  private budget: number;

  constructor(
    private readonly buf: Buffer,
    budgetWords: number,
  ) {
    this.budget = budgetWords;
    const count = buf.readUInt32LE(0) + 1;
    let offset = 4 + 4 * count;
    offset += offset % 8;
    for (let i = 0; i < count; i++) {
      const words = buf.readUInt32LE(4 + 4 * i);
      this.segments.push({ start: offset, words });
      offset += words * 8;
    }
    if (offset > buf.length) throw new BudgetExceeded();
  }

  private charge(words: number): void {
    this.budget -= Math.max(1, words);
    if (this.budget < 0) throw new BudgetExceeded();
  }

  private check(segment: number, word: number, words: number): void {
    const seg = this.segments[segment];
    if (seg === undefined || word < 0 || word + words > seg.words) throw new BudgetExceeded();
  }

  private word(segment: number, word: number): [lo: number, hi: number] {
    this.check(segment, word, 1);
    const at = this.segments[segment]!.start + word * 8;
    return [this.buf.readUInt32LE(at), this.buf.readUInt32LE(at + 4)];
  }

  /** Follows the pointer at (segment, word) and everything below it. */
  pointer(segment: number, word: number, depth: number): void {
    if (depth > MAX_DEPTH) throw new BudgetExceeded();
    this.charge(1);
    const [lo, hi] = this.word(segment, word);
    if (lo === 0 && hi === 0) return;
    const kind = lo & 3;
    if (kind === POINTER_FAR) {
      const pad = lo >>> 3;
      if (((lo >>> 2) & 1) === 0) return this.pointer(hi, pad, depth + 1);
      // Double-far: the pad holds a far pointer to the object's start, then a tag word giving its kind and size.
      const [padLo, padHi] = this.word(hi, pad);
      const [tagLo, tagHi] = this.word(hi, pad + 1);
      return this.object(padHi, padLo >>> 3, tagLo & 3, tagHi, depth);
    }
    if (kind === POINTER_STRUCT || kind === POINTER_LIST)
      return this.object(segment, word + 1 + ((lo | 0) >> 2), kind, hi, depth);
    // Capability pointers reference nothing in the message.
  }

  private object(segment: number, start: number, kind: number, hi: number, depth: number): void {
    if (kind === POINTER_STRUCT) {
      const data = hi & 0xffff;
      const pointers = hi >>> 16;
      this.check(segment, start, data + pointers);
      this.charge(data + pointers);
      for (let i = 0; i < pointers; i++) this.pointer(segment, start + data + i, depth + 1);
      return;
    }
    if (kind !== POINTER_LIST) throw new BudgetExceeded();
    const size = hi & 7;
    const count = hi >>> 3;
    if (size === LIST_COMPOSITE) {
      this.check(segment, start, count + 1);
      this.charge(count + 1);
      const [tagLo, tagHi] = this.word(segment, start);
      const elements = tagLo >>> 2;
      const data = tagHi & 0xffff;
      const pointers = tagHi >>> 16;
      if (elements * (data + pointers) > count) throw new BudgetExceeded();
      for (let e = 0; e < elements; e++) {
        for (let i = 0; i < pointers; i++)
          this.pointer(segment, start + 1 + e * (data + pointers) + data + i, depth + 1);
      }
      return;
    }
    if (size === LIST_POINTERS) {
      this.check(segment, start, count);
      this.charge(count);
      for (let i = 0; i < count; i++) this.pointer(segment, start + i, depth + 1);
      return;
    }
    const words = Math.ceil((count * ELEMENT_BITS[size]!) / 64);
    this.check(segment, start, words);
    this.charge(words);
  }

  root(): void {
    this.pointer(0, 0, 0);
  }
}

/**
 * True when every object reachable from the root of `frame` (one complete stream-framed message) can be visited
 * within `budgetWords` words and {@link MAX_DEPTH} levels, with every pointer inside its segment.
 */
export function withinTraversalLimit(frame: Buffer, budgetWords: number): boolean {
  try {
    new Walker(frame, budgetWords).root();
    return true;
  } catch (err) {
    if (err instanceof BudgetExceeded || err instanceof RangeError) return false;
    throw err;
  }
}
