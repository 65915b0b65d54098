import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { fixturePath } from '../helpers/fixtures.js';
import {
  ConnectRequestFrameError,
  DATA_STREAM_SIGNATURE,
  MAX_CONNECT_REQUEST_BYTES,
  PreambleParser,
  RPC_STREAM_SIGNATURE,
  TruncatedPreambleError,
  UnknownStreamSignatureError,
  dataStreamPreamble,
  readStreamPreamble,
  type StreamPreamble,
} from '../../src/wire/preamble.js';

interface Vector {
  name: string;
  stream: Buffer;
  kind: 'data' | 'rpc';
  frame?: Buffer;
  body: Buffer;
}

function loadVectors(): Vector[] {
  const out: Vector[] = [];
  for (const scenario of readdirSync(fixturePath('vectors/quic'))) {
    const dir = `vectors/quic/${scenario}`;
    if (existsSync(fixturePath(`${dir}/data-e2c.stream.bin`))) {
      const stream = readFileSync(fixturePath(`${dir}/data-e2c.stream.bin`));
      const frame = readFileSync(fixturePath(`${dir}/data-e2c.0.bin`));
      const bodyPath = fixturePath(`${dir}/data-e2c.body.bin`);
      const body = existsSync(bodyPath) ? readFileSync(bodyPath) : Buffer.alloc(0);
      out.push({ name: `${scenario}/data`, stream, kind: 'data', frame, body });
    }
    if (existsSync(fixturePath(`${dir}/rpc-e2c.stream.bin`))) {
      const stream = readFileSync(fixturePath(`${dir}/rpc-e2c.stream.bin`));
      out.push({ name: `${scenario}/rpc`, stream, kind: 'rpc', body: stream.subarray(6) });
    }
  }
  return out;
}

const vectors = loadVectors();

/** Feeds `chunks` to a parser; returns the preamble and every byte after it (rest + later chunks). */
function feed(chunks: Buffer[]): { pre: StreamPreamble; after: Buffer } {
  const parser = new PreambleParser();
  for (let i = 0; i < chunks.length; i++) {
    const pre = parser.push(chunks[i]!);
    if (pre !== null) return { pre, after: Buffer.concat([pre.rest, ...chunks.slice(i + 1)]) };
  }
  parser.end();
  throw new Error('unreachable');
}

function check(v: Vector, pre: StreamPreamble, after: Buffer): void {
  assert.equal(pre.kind, v.kind, v.name);
  if (pre.kind === 'data') {
    assert.equal(pre.version, '01');
    assert.deepEqual(pre.frame, v.frame, v.name);
  }
  assert.deepEqual(after, v.body, v.name);
}

test('vectors include data streams with and without bodies, and rpc streams', () => {
  assert.ok(vectors.filter((v) => v.kind === 'data').length >= 8);
  assert.ok(vectors.some((v) => v.kind === 'data' && v.body.length > 0));
  assert.ok(vectors.filter((v) => v.kind === 'rpc').length >= 3);
  for (const v of vectors) if (v.kind === 'data') assert.deepEqual(v.stream.subarray(0, 6), DATA_STREAM_SIGNATURE);
});

test('every vector split at every byte boundary (two and three pieces) parses exactly', () => {
  for (const v of vectors) {
    const s = v.stream;
    for (let i = 0; i <= s.length; i++) {
      const { pre, after } = feed([s.subarray(0, i), s.subarray(i)]);
      check(v, pre, after);
    }
    for (let i = 0; i <= s.length; i += 7) {
      for (let j = i; j <= s.length; j += 13) {
        const { pre, after } = feed([s.subarray(0, i), s.subarray(i, j), s.subarray(j)]);
        check(v, pre, after);
      }
    }
  }
});

test('byte-at-a-time and random chunkings parse exactly', () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (const v of vectors) {
    const bytes = [...v.stream].map((b) => Buffer.from([b]));
    const single = feed(bytes);
    check(v, single.pre, single.after);
    for (let round = 0; round < 50; round++) {
      const chunks: Buffer[] = [];
      for (let off = 0; off < v.stream.length;) {
        const n = 1 + rand(64);
        chunks.push(v.stream.subarray(off, off + n));
        off += n;
      }
      const r = feed(chunks);
      check(v, r.pre, r.after);
    }
  }
});

test('readStreamPreamble leaves the Readable at the first body byte', async () => {
  for (const v of vectors) {
    const pieces: Buffer[] = [];
    for (let off = 0; off < v.stream.length; off += 5) pieces.push(v.stream.subarray(off, off + 5));
    const stream = Readable.from(pieces);
    const pre = await readStreamPreamble(stream);
    assert.equal(pre.kind, v.kind);
    if (pre.kind === 'data') assert.deepEqual(pre.frame, v.frame);
    const rest: Buffer[] = [];
    for await (const chunk of stream) rest.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(rest), v.body, v.name);
  }
});

test('unknown signature is rejected as soon as 6 bytes are in', async () => {
  const parser = new PreambleParser();
  assert.equal(parser.push(Buffer.from([0x0a, 0x36, 0xcd])), null);
  assert.throws(() => parser.push(Buffer.from([0x12, 0xa1, 0x3f])), UnknownStreamSignatureError);
  const stream = new PassThrough();
  const pending = readStreamPreamble(stream);
  stream.write(Buffer.from('GET / HTTP/1.1\r\n'));
  await assert.rejects(
    pending,
    (e) => e instanceof UnknownStreamSignatureError && e.code === 'CFT_ERR_STREAM_SIGNATURE',
  );
  stream.destroy();
});

test('oversize ConnectRequest frames are rejected from their header alone', () => {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0, 0);
  header.writeUInt32LE(MAX_CONNECT_REQUEST_BYTES / 8, 4); // 8-byte header + this many words > cap
  const p = new PreambleParser();
  assert.throws(
    () => p.push(Buffer.concat([DATA_STREAM_SIGNATURE, Buffer.from('01'), header])),
    (e) => e instanceof ConnectRequestFrameError && /exceeds the 262144-byte limit/.test(e.message),
  );
  // A frame just at the cap is accepted.
  const ok = Buffer.alloc(8);
  ok.writeUInt32LE(MAX_CONNECT_REQUEST_BYTES / 8 - 1, 4);
  const p2 = new PreambleParser();
  assert.equal(p2.push(Buffer.concat([dataStreamPreamble(), ok])), null);
  const done = p2.push(Buffer.alloc(MAX_CONNECT_REQUEST_BYTES - 8));
  assert.ok(done && done.kind === 'data' && done.frame.length === MAX_CONNECT_REQUEST_BYTES);
  // A smaller custom cap, rejected once the segment table is in, before any segment byte.
  const many = Buffer.alloc(12);
  many.writeUInt32LE(3, 0);
  many.writeUInt32LE(100, 4);
  const p3 = new PreambleParser({ maxFrameBytes: 512 });
  assert.equal(p3.push(Buffer.concat([dataStreamPreamble(), many])), null);
  assert.throws(() => p3.push(Buffer.alloc(8)), ConnectRequestFrameError);
});

test('a stream that ends inside the preamble gives a typed error', async () => {
  const v = vectors.find((x) => x.kind === 'data')!;
  for (const cut of [0, 3, 6, 7, 8, 12, 20]) {
    const stream = Readable.from([v.stream.subarray(0, cut)].filter((b) => b.length > 0));
    await assert.rejects(
      readStreamPreamble(stream),
      (e) => e instanceof TruncatedPreambleError && e.code === 'CFT_ERR_STREAM_PREAMBLE_TRUNCATED',
    );
  }
  const p = new PreambleParser();
  p.push(v.stream.subarray(0, 10));
  assert.throws(() => p.end(), TruncatedPreambleError);
});

test('dataStreamPreamble is the signature plus "01" and matches the c2e vectors', () => {
  const pre = dataStreamPreamble();
  assert.deepEqual(pre, Buffer.from('0a36cd12a13e3031', 'hex'));
  const c2e = readFileSync(fixturePath('vectors/quic/get/data-c2e.stream.bin'));
  assert.deepEqual(c2e.subarray(0, 8), pre);
  assert.deepEqual(RPC_STREAM_SIGNATURE, Buffer.from('52bb825cdb65', 'hex'));
  pre[0] = 0;
  assert.equal(dataStreamPreamble()[0], 0x0a, 'each call returns a fresh buffer');
});
