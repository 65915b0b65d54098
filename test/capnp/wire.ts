/**
 * Tiny helpers to write Cap'n Proto messages word by word in tests, so that multi-segment layouts, far pointers and
 * hostile pointers can be built exactly. Offsets are in words, as in the encoding spec.
 */

/** One 64-bit word as its two little-endian 32-bit halves. */
export type Word = readonly [lo: number, hi: number];

export const NULL_PTR: Word = [0, 0];

/** Struct pointer: `offset` words from the end of the pointer to the struct. */
export function structPtr(offset: number, dataWords: number, pointers: number): Word {
  return [(offset << 2) >>> 0, (dataWords | (pointers << 16)) >>> 0];
}

/** List pointer; for composite lists (`elementSize` 7) `count` is the number of words after the tag. */
export function listPtr(offset: number, elementSize: number, count: number): Word {
  return [((offset << 2) | 1) >>> 0, ((count << 3) | elementSize) >>> 0];
}

/** Far pointer to word `word` of `segment`; `double` selects a two-word landing pad. */
export function farPtr(segment: number, word: number, double = false): Word {
  return [((word << 3) | (double ? 4 : 0) | 2) >>> 0, segment >>> 0];
}

/** Composite-list tag word. */
export function compositeTag(count: number, dataWords: number, pointers: number): Word {
  return [(count << 2) >>> 0, (dataWords | (pointers << 16)) >>> 0];
}

/** The words of a NUL-terminated Text (pass `terminate: false` to leave the NUL out on purpose). */
export function textWords(value: string, terminate = true): Word[] {
  const bytes = Buffer.from(value, 'utf8');
  const total = bytes.length + (terminate ? 1 : 0);
  const padded = Buffer.alloc(Math.ceil(total / 8) * 8);
  bytes.copy(padded);
  const words: Word[] = [];
  for (let i = 0; i < padded.length; i += 8) words.push([padded.readUInt32LE(i), padded.readUInt32LE(i + 4)]);
  return words;
}

/** Byte length a text pointer declares for `value` (bytes + NUL). */
export function textCount(value: string): number {
  return Buffer.byteLength(value, 'utf8') + 1;
}

/** A complete stream-framed message made of the given segments. */
export function frame(segments: readonly (readonly Word[])[]): Buffer {
  const headerBytes = (4 + 4 * segments.length + 7) & ~7;
  const total = headerBytes + segments.reduce((n, s) => n + s.length * 8, 0);
  const out = Buffer.alloc(total);
  out.writeUInt32LE(segments.length - 1, 0);
  segments.forEach((s, i) => out.writeUInt32LE(s.length, 4 + 4 * i));
  let at = headerBytes;
  for (const s of segments) {
    for (const [lo, hi] of s) {
      out.writeUInt32LE(lo, at);
      out.writeUInt32LE(hi, at + 4);
      at += 8;
    }
  }
  return out;
}
