import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as capnp from 'capnp-es';
import fc from 'fast-check';
import {
  CONNECT_MAX_METADATA_ENTRIES,
  CONNECT_MAX_TEXT_BYTES,
  CapnpDecodeError,
  decodeConnectRequest,
  decodeConnectResponse,
  encodeConnectRequest,
  encodeConnectResponse,
  type ConnectRequest,
  type ConnectResponse,
  type ConnectionType,
  type Metadata,
} from '../../src/capnp/connect-codec.js';
import { MessageReader } from '../../src/capnp/reader.js';
import { ConnectRequest as CapnpConnectRequest } from '../../src/capnp/gen/quic_metadata_protocol.js';
import { fixturePath } from '../helpers/fixtures.js';
import { parseCapnpText, type CapnpTextValue } from './capnp-text.js';
import {
  referenceDecodeRequest,
  referenceDecodeResponse,
  referenceEncodeRequest,
  referenceEncodeResponse,
} from './reference.js';
import { NULL_PTR, compositeTag, farPtr, frame, listPtr, structPtr, textCount, textWords, type Word } from './wire.js';

// ---------------------------------------------------------------------------------------------------------------
// Vectors

interface Vector {
  scenario: string;
  kind: 'request' | 'response';
  bytes: Buffer;
  expected: ConnectRequest | ConnectResponse;
}

function field(v: CapnpTextValue, name: string): CapnpTextValue | undefined {
  return (v as { [field: string]: CapnpTextValue })[name];
}

function expectedMetadata(v: CapnpTextValue): Metadata[] {
  const list = (field(v, 'metadata') ?? []) as CapnpTextValue[];
  return list.map((m) => ({ key: (field(m, 'key') ?? '') as string, val: (field(m, 'val') ?? '') as string }));
}

function loadVectors(): Vector[] {
  const root = fixturePath('vectors/quic/');
  const out: Vector[] = [];
  for (const scenario of readdirSync(root).sort()) {
    for (const [file, kind] of [
      ['data-e2c.0', 'request'],
      ['data-c2e.0', 'response'],
    ] as const) {
      const bin = `${root}${scenario}/${file}.bin`;
      if (!existsSync(bin)) continue;
      const text = parseCapnpText(readFileSync(`${root}${scenario}/${file}.txt`, 'utf8'));
      const expected =
        kind === 'request'
          ? {
              dest: (field(text, 'dest') ?? '') as string,
              type: (field(text, 'type') ?? 'http') as ConnectionType,
              metadata: expectedMetadata(text),
            }
          : { error: (field(text, 'error') ?? '') as string, metadata: expectedMetadata(text) };
      out.push({ scenario, kind, bytes: readFileSync(bin), expected });
    }
  }
  return out;
}

const vectors = loadVectors();
const requests = vectors.filter((v) => v.kind === 'request');
const responses = vectors.filter((v) => v.kind === 'response');

function decodeVector(v: Vector, bytes: Uint8Array = v.bytes): ConnectRequest | ConnectResponse {
  return v.kind === 'request' ? decodeConnectRequest(bytes) : decodeConnectResponse(bytes);
}

function encodeVector(v: Vector, value: ConnectRequest | ConnectResponse): Buffer {
  return v.kind === 'request'
    ? encodeConnectRequest(value as ConnectRequest)
    : encodeConnectResponse(value as ConnectResponse);
}

test('every recorded ConnectRequest and ConnectResponse decodes to the fields its .txt shows', () => {
  assert.ok(requests.length >= 10 && responses.length >= 10, `found ${requests.length}/${responses.length}`);
  assert.ok(requests.some((v) => (v.expected as ConnectRequest).type === 'tcp'));
  assert.ok(requests.some((v) => (v.expected as ConnectRequest).type === 'websocket'));
  assert.ok(responses.some((v) => (v.expected as ConnectResponse).error !== ''));
  for (const v of vectors) {
    assert.deepEqual(decodeVector(v), v.expected, `${v.scenario} ${v.kind}`);
  }
});

test('re-encoding a decoded vector decodes equal, and is byte-identical to the Go bytes unless metadata was null', () => {
  for (const v of vectors) {
    const decoded = decodeVector(v);
    const again = encodeVector(v, decoded);
    assert.deepEqual(decodeVector(v, again), decoded, `${v.scenario} ${v.kind}`);
    // Go writes the metadata list even when empty; only the 2023.7.3 origin-failure response leaves it null.
    const metadataPointerNull = v.kind === 'response' && v.bytes.readBigUInt64LE(8 + 16) === 0n;
    if (metadataPointerNull) assert.equal(v.scenario, 'origin-down-502');
    else assert.deepEqual(again, v.bytes, `${v.scenario} ${v.kind} bytes`);
  }
});

test('our encoding of every vector equals capnp-es’s bytes', () => {
  for (const v of vectors) {
    const decoded = decodeVector(v);
    const reference =
      v.kind === 'request'
        ? referenceEncodeRequest(decoded as ConnectRequest)
        : referenceEncodeResponse(decoded as ConnectResponse);
    assert.deepEqual(encodeVector(v, decoded), reference, `${v.scenario} ${v.kind}`);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Properties over generated inputs

const anyString = fc.oneof(
  fc.constant(''),
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ minLength: 200, maxLength: 600 }),
);
const metadataArb = fc.array(fc.record({ key: anyString, val: anyString }), { maxLength: 24 });
const requestArb = fc.record({
  dest: anyString,
  type: fc.constantFrom<ConnectionType>('http', 'websocket', 'tcp'),
  metadata: metadataArb,
});
const responseArb = fc.record({ error: anyString, metadata: metadataArb });

/** What a string reads back as after a UTF-8 round trip (lone surrogates become U+FFFD). */
function utf8(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}
function normalizeMetadata(m: Metadata[]): Metadata[] {
  return m.map((e) => ({ key: utf8(e.key), val: utf8(e.val) }));
}

test('ConnectRequest: byte-identical to capnp-es and round-trips, for generated inputs', () => {
  fc.assert(
    fc.property(requestArb, (req) => {
      const bytes = encodeConnectRequest(req);
      assert.deepEqual(bytes, referenceEncodeRequest(req));
      const expected = { dest: utf8(req.dest), type: req.type, metadata: normalizeMetadata(req.metadata) };
      assert.deepEqual(decodeConnectRequest(bytes), expected);
      assert.deepEqual(referenceDecodeRequest(bytes), expected);
    }),
    { seed: 0x5eed, numRuns: 300 },
  );
});

test('ConnectResponse: byte-identical to capnp-es and round-trips, for generated inputs', () => {
  fc.assert(
    fc.property(responseArb, (res) => {
      const bytes = encodeConnectResponse(res);
      assert.deepEqual(bytes, referenceEncodeResponse(res));
      const expected = { error: utf8(res.error), metadata: normalizeMetadata(res.metadata) };
      assert.deepEqual(decodeConnectResponse(bytes), expected);
      assert.deepEqual(referenceDecodeResponse(bytes), expected);
    }),
    { seed: 0x5eed, numRuns: 300 },
  );
});

test('encodeConnectRequest rejects a type outside ConnectionType', () => {
  const bad = { dest: 'x', type: 'udp', metadata: [] } as unknown as ConnectRequest;
  assert.throws(() => encodeConnectRequest(bad), TypeError);
});

// ---------------------------------------------------------------------------------------------------------------
// Other valid encodings

test('multi-segment message from capnp-es (far pointers) decodes equal', () => {
  // A one-word first segment forces capnp-es to put everything else in new segments behind far pointers.
  const seed = Buffer.alloc(16);
  seed.writeUInt32LE(1, 4);
  const message = new capnp.Message(seed, false);
  const root = message.initRoot(CapnpConnectRequest);
  root.dest = 'http://big.test/' + 'p'.repeat(5000);
  root.type = 1;
  const list = root._initMetadata(3);
  const metadata: Metadata[] = [];
  for (let i = 0; i < 3; i++) {
    const e = list.get(i);
    e.key = `HttpHeader:X-${i}-` + 'k'.repeat(4100);
    e.val = `v${i}`;
    metadata.push({ key: e.key, val: e.val });
  }
  const bytes = Buffer.from(message.toArrayBuffer());
  assert.ok(bytes.readUInt32LE(0) + 1 > 2, 'capnp-es produced several segments');
  assert.deepEqual(decodeConnectRequest(bytes), { dest: root.dest, type: 'websocket', metadata });
});

test('hand-built multi-segment message with single-far and double-far pointers decodes', () => {
  const bytes = frame([
    [farPtr(1, 0)],
    [structPtr(0, 0, 2), farPtr(2, 0), farPtr(3, 0, true)],
    [listPtr(0, 2, textCount('boom')), ...textWords('boom')],
    [farPtr(4, 0), listPtr(0, 7, 2)],
    [compositeTag(1, 0, 2), listPtr(1, 2, textCount('HttpStatus')), NULL_PTR, ...textWords('HttpStatus')],
  ]);
  assert.deepEqual(decodeConnectResponse(bytes), { error: 'boom', metadata: [{ key: 'HttpStatus', val: '' }] });
});

test('backward pointers, empty vs null texts', () => {
  const dest = '127.0.0.1:22';
  const bytes = frame([
    [
      structPtr(2, 1, 2), // w0 -> w3
      ...textWords(dest), // w1-w2
      [2, 0], // w3: type = tcp
      listPtr(-4, 2, textCount(dest)), // w4 -> w1
      listPtr(0, 7, 4), // w5 -> w6
      compositeTag(2, 0, 2), // w6
      listPtr(3, 2, 1), // w7 -> w11, empty text (just the NUL)
      NULL_PTR, // w8
      listPtr(2, 2, textCount('FlowID')), // w9 -> w12
      listPtr(2, 2, textCount('x')), // w10 -> w13
      ...textWords(''), // w11
      ...textWords('FlowID'), // w12
      ...textWords('x'), // w13
    ],
  ]);
  assert.deepEqual(decodeConnectRequest(bytes), {
    dest,
    type: 'tcp',
    metadata: [
      { key: '', val: '' },
      { key: 'FlowID', val: 'x' },
    ],
  });
});

test('structs with larger sections than this schema (newer writer) decode', () => {
  const bytes = frame([
    [
      structPtr(0, 2, 3), // w0 -> w1
      [1, 0], // w1: type = websocket
      [0xdeadbeef, 0xffffffff], // w2: unknown data field
      listPtr(7, 2, textCount('http://a/')), // w3 -> w11
      listPtr(1, 7, 4), // w4 -> w6
      listPtr(10, 2, textCount('extra')), // w5 -> w16, unknown pointer field
      compositeTag(1, 1, 3), // w6
      [7, 7], // w7: element data (unknown)
      listPtr(4, 2, textCount('HttpHost')), // w8 -> w13
      listPtr(5, 2, textCount('a')), // w9 -> w15
      listPtr(5, 2, textCount('extra')), // w10 -> w16
      ...textWords('http://a/'), // w11-12
      ...textWords('HttpHost'), // w13-14
      ...textWords('a'), // w15
      ...textWords('extra'), // w16
    ],
  ]);
  assert.deepEqual(decodeConnectRequest(bytes), {
    dest: 'http://a/',
    type: 'websocket',
    metadata: [{ key: 'HttpHost', val: 'a' }],
  });
});

test('structs with smaller sections (older writer), null and zero-sized roots decode to defaults', () => {
  const destOnly = frame([[structPtr(0, 0, 1), listPtr(0, 2, textCount('h:1')), ...textWords('h:1')]]);
  assert.deepEqual(decodeConnectRequest(destOnly), { dest: 'h:1', type: 'http', metadata: [] });
  const emptyStruct = frame([[structPtr(-1, 0, 0)]]);
  assert.deepEqual(decodeConnectResponse(emptyStruct), { error: '', metadata: [] });
  assert.deepEqual(decodeConnectRequest(frame([[NULL_PTR]])), { dest: '', type: 'http', metadata: [] });
});

test('metadata written as List(Text) (an upgraded list) reads the texts as keys', () => {
  const bytes = frame([
    [
      structPtr(0, 0, 2),
      NULL_PTR,
      listPtr(0, 6, 2), // w2 -> w3, two pointers
      listPtr(1, 2, textCount('a')), // w3 -> w5
      listPtr(1, 2, textCount('b')), // w4 -> w6
      ...textWords('a'),
      ...textWords('b'),
    ],
  ]);
  assert.deepEqual(decodeConnectResponse(bytes), {
    error: '',
    metadata: [
      { key: 'a', val: '' },
      { key: 'b', val: '' },
    ],
  });
});

test('the metadata limit is inclusive: exactly CONNECT_MAX_METADATA_ENTRIES zero-sized entries decode', () => {
  const bytes = frame([
    [structPtr(0, 0, 2), NULL_PTR, listPtr(0, 7, 0), compositeTag(CONNECT_MAX_METADATA_ENTRIES, 0, 0)],
  ]);
  assert.equal(decodeConnectResponse(bytes).metadata.length, CONNECT_MAX_METADATA_ENTRIES);
});

// ---------------------------------------------------------------------------------------------------------------
// Hostile input

function assertDecodeError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CapnpDecodeError, `not a CapnpDecodeError: ${String(err)}`);
    assert.equal(err.code, 'CFT_ERR_CAPNP_DECODE');
    assert.match(err.message, message);
    return true;
  });
}

/** A ConnectRequest root (1 data word, 2 pointers) followed by `rest`; pointer words are w2 and w3. */
function request(dest: Word, metadata: Word, ...rest: Word[]): Buffer {
  return frame([[structPtr(0, 1, 2), [0, 0], dest, metadata, ...rest]]);
}

/** A ConnectResponse root (0 data words, 2 pointers) with a null error; the metadata pointer is w2. */
function response(metadata: Word, ...rest: Word[]): Buffer {
  return frame([[structPtr(0, 0, 2), NULL_PTR, metadata, ...rest]]);
}

test('truncated and over-long frames are rejected', () => {
  const v = requests[0]!.bytes;
  for (let n = 0; n < v.length; n++) {
    assertDecodeError(() => decodeConnectRequest(v.subarray(0, n)), /shorter|root/);
  }
  assertDecodeError(() => decodeConnectRequest(Buffer.concat([v, Buffer.alloc(8)])), /after its last segment/);
  const tooMany = Buffer.alloc(16);
  tooMany.writeUInt32LE(100000, 0);
  assertDecodeError(() => decodeConnectRequest(tooMany), /segments/);
});

test('pointers outside their segment are rejected', () => {
  assertDecodeError(() => decodeConnectRequest(frame([[structPtr(5, 0, 2)]])), /outside its segment/);
  assertDecodeError(() => decodeConnectRequest(frame([[structPtr(-3, 0, 2), NULL_PTR, NULL_PTR]])), /outside/);
  assertDecodeError(() => decodeConnectRequest(request(listPtr(1, 2, 100), NULL_PTR, [0x41, 0])), /outside/);
  assertDecodeError(() => decodeConnectResponse(response(listPtr(0, 7, 8), compositeTag(1, 0, 2))), /outside/);
});

test('bad far pointers are rejected', () => {
  assertDecodeError(() => decodeConnectRequest(frame([[farPtr(3, 0)]])), /segment 3 of 1/);
  assertDecodeError(() => decodeConnectRequest(frame([[farPtr(1, 0)], [farPtr(0, 0)]])), /another far pointer/);
  assertDecodeError(() => decodeConnectRequest(frame([[farPtr(1, 1)], [NULL_PTR]])), /outside/);
  assertDecodeError(
    () => decodeConnectRequest(frame([[farPtr(1, 0, true)], [structPtr(0, 0, 2), structPtr(0, 0, 2)]])),
    /double-far landing pad/,
  );
  assertDecodeError(
    () => decodeConnectRequest(frame([[farPtr(1, 0, true)], [farPtr(0, 0), farPtr(0, 0)]])),
    /double-far tag/,
  );
  assertDecodeError(
    () => decodeConnectRequest(frame([[farPtr(1, 0, true)], [farPtr(0, 5), structPtr(0, 1, 2)]])),
    /outside/,
  );
});

test('pointers of the wrong kind are rejected', () => {
  assertDecodeError(() => decodeConnectRequest(frame([[[3, 0]]])), /capability/);
  assertDecodeError(() => decodeConnectRequest(frame([[listPtr(0, 2, 1), [0, 0]]])), /should be a struct/);
  assertDecodeError(() => decodeConnectRequest(request(structPtr(-1, 0, 0), NULL_PTR)), /Text/);
  assertDecodeError(() => decodeConnectRequest(request(listPtr(0, 3, 2), NULL_PTR, [0, 0])), /Text/);
  assertDecodeError(() => decodeConnectResponse(response(structPtr(-1, 0, 0))), /should be a list/);
  assertDecodeError(() => decodeConnectResponse(response(listPtr(0, 1, 8), [0xff, 0])), /bit list/);
  assertDecodeError(() => decodeConnectResponse(response(listPtr(0, 7, 1), [1, 0], NULL_PTR)), /tag/);
  assertDecodeError(
    () => decodeConnectResponse(response(listPtr(0, 7, 2), compositeTag(2, 0, 2), NULL_PTR, NULL_PTR)),
    /overrun/,
  );
});

test('texts must be NUL-terminated and within the size limit', () => {
  assertDecodeError(() => decodeConnectRequest(request(listPtr(1, 2, 3), NULL_PTR, ...textWords('abc', false))), /NUL/);
  assertDecodeError(() => decodeConnectRequest(request(listPtr(1, 2, 0), NULL_PTR, [0, 0])), /NUL/);
  assertDecodeError(
    () => decodeConnectRequest(request(listPtr(1, 2, CONNECT_MAX_TEXT_BYTES + 2), NULL_PTR, [0, 0])),
    /exceeds the 1048576-byte limit/,
  );
});

test('an unknown ConnectionType is a decode error', () => {
  const bytes = frame([[structPtr(0, 1, 2), [3, 0], NULL_PTR, NULL_PTR]]);
  assertDecodeError(() => decodeConnectRequest(bytes), /unknown ConnectionType 3/);
});

test('too many metadata entries are rejected before any is read', () => {
  const bytes = response(listPtr(0, 7, 0), compositeTag(CONNECT_MAX_METADATA_ENTRIES + 1, 0, 0));
  assertDecodeError(() => decodeConnectResponse(bytes), /exceeds the limit of 4096/);
});

test('aliased pointers cannot amplify work past the traversal limit', () => {
  // 4096 entries whose keys all point at one 2 KiB text: 8 MiB of reads from a 66 KiB message.
  const n = CONNECT_MAX_METADATA_ENTRIES;
  const textAt = 3 + 1 + 2 * n;
  const words: Word[] = [structPtr(0, 0, 2), NULL_PTR, listPtr(0, 7, 2 * n), compositeTag(n, 0, 2)];
  for (let i = 0; i < n; i++) {
    const keyAt = 4 + 2 * i;
    words.push(listPtr(textAt - keyAt - 1, 2, 2048), NULL_PTR);
  }
  words.push(...textWords('k'.repeat(2047)));
  assertDecodeError(() => decodeConnectResponse(frame([words])), /traversal limit/);
});

test('the reader enforces its nesting limit', () => {
  const bytes = requests[0]!.bytes;
  const limits = { traversalLimitWords: 1 << 20, maxTextBytes: 1 << 20, maxListElements: 100 };
  const deep = new MessageReader(bytes, { ...limits, nestingLimit: 3 });
  const root = deep.root()!;
  assert.notEqual(deep.text(deep.element(deep.structList(root, 1)!, 0), 0), '');
  const shallow = new MessageReader(bytes, { ...limits, nestingLimit: 2 });
  const list = shallow.structList(shallow.root()!, 1)!;
  assertDecodeError(() => shallow.text(shallow.element(list, 0), 0), /nests deeper than 2/);
});

test('random mutations of the vectors only ever throw CapnpDecodeError', () => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({
      kind: fc.constant('word' as const),
      at: fc.nat(),
      value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
  );
  let rejected = 0;
  fc.assert(
    fc.property(fc.nat({ max: vectors.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }), (i, muts) => {
      const v = vectors[i]!;
      let bytes = Buffer.from(v.bytes);
      for (const m of muts) {
        if (m.kind === 'byte') bytes[m.at % bytes.length] = m.value;
        else if (m.kind === 'word') bytes.writeBigUInt64LE(m.value as bigint, (m.at % (bytes.length >> 3)) * 8);
        else bytes = bytes.subarray(0, m.at % (bytes.length + 1));
        if (bytes.length < 8) break;
      }
      let decoded: ConnectRequest | ConnectResponse;
      try {
        decoded = decodeVector(v, bytes);
      } catch (err) {
        if (!(err instanceof CapnpDecodeError)) throw err;
        rejected++;
        return;
      }
      // Whatever decodes must survive our own encode/decode unchanged.
      assert.deepEqual(decodeVector(v, encodeVector(v, decoded)), decoded);
    }),
    { seed: 0xc0ffee, numRuns: 4000 },
  );
  assert.ok(rejected > 100 && rejected < 4000, `rejected ${rejected} of 4000`);
});
