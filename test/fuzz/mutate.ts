/**
 * Byte-level input generators for the decoder fuzzers: valid seeds (golden vectors) with structured mutations, and
 * plain random bytes. Mutations favour what breaks Cap'n Proto readers: 32-bit words at aligned offsets set to
 * extreme values (pointer offsets, list counts, segment sizes), truncation and spliced copies.
 */
import fc from 'fast-check';

/** 32-bit values that stress length and offset fields. */
const INTERESTING_U32 = [
  0, 1, 0x7f, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x1fffffff, 0x20000000,
];

/** One edit applied to a copy of the seed. */
type Edit =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'word'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'splice'; at: number; from: number; length: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({
    op: fc.constant('word' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.nat()),
  }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ op: fc.constant('splice' as const), at: fc.nat(), from: fc.nat(), length: fc.nat(64) }),
);

function apply(seed: Buffer, edits: Edit[]): Buffer {
  let buf = Buffer.from(seed);
  for (const e of edits) {
    if (buf.length === 0) break;
    const at = e.at % buf.length;
    switch (e.op) {
      case 'flip':
        buf[at]! ^= 1 << e.bit;
        break;
      case 'set':
        buf[at] = e.value;
        break;
      case 'word': {
        const aligned = at - (at % 4);
        if (aligned + 4 <= buf.length) buf.writeUInt32LE(e.value >>> 0, aligned);
        break;
      }
      case 'truncate':
        buf = buf.subarray(0, at);
        break;
      case 'insert':
        buf = Buffer.concat([buf.subarray(0, at), e.bytes, buf.subarray(at)]);
        break;
      case 'splice': {
        const from = e.from % buf.length;
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(from, from + e.length), buf.subarray(at)]);
        break;
      }
    }
  }
  return buf;
}

/** Inputs derived from `seeds`: mutated copies (mostly), untouched seeds, and unrelated random bytes. */
export function mutatedBytes(
  seeds: readonly Buffer[],
  options: { maxRandomLength?: number } = {},
): fc.Arbitrary<Buffer> {
  if (seeds.length === 0) throw new TypeError('mutatedBytes needs at least one seed');
  const seed = fc.constantFrom(...seeds);
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc.tuple(seed, fc.array(edit, { minLength: 1, maxLength: 6 })).map(([s, e]) => apply(s, e)),
    },
    { weight: 1, arbitrary: seed.map((s) => Buffer.from(s)) },
    {
      weight: 2,
      arbitrary: fc
        .uint8Array({ maxLength: options.maxRandomLength ?? 512 })
        .map((b) => Buffer.from(b.buffer, b.byteOffset, b.length)),
    },
  );
}

/** Cuts `buf` into chunks at the given relative positions (so a parser sees arbitrary read boundaries). */
export function chunked(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (buf.length === 0 ? 0 : c % buf.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) out.push(buf.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  out.push(buf.subarray(prev));
  return out;
}
