import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fixturePath } from '../helpers/fixtures.js';
import {
  RESPONSE_HEADERS_HEADER,
  RESPONSE_META_CLOUDFLARED,
  RESPONSE_META_HEADER,
  RESPONSE_META_ORIGIN,
  SerializedHeadersError,
  decodeSerializedHeaders,
  encodeSerializedHeaders,
  isSerializedResponseHeader,
  serializeResponseHeaders,
  stripInternalRequestHeaders,
  type HeaderPair,
} from '../../src/wire/serialized-headers.js';

interface Block {
  fields: HeaderPair[];
  decoded?: Record<string, unknown>;
}

function recordedBlocks(): Array<{ name: string; block: Block }> {
  const out: Array<{ name: string; block: Block }> = [];
  for (const scenario of readdirSync(fixturePath('vectors/http2'))) {
    for (const kind of ['http', 'websocket', 'tcp']) {
      const rel = `vectors/http2/${scenario}/${kind}-c2e.headers.json`;
      if (!existsSync(fixturePath(rel))) continue;
      const doc = JSON.parse(readFileSync(fixturePath(rel), 'utf8')) as { header_blocks: Block[] };
      for (const block of doc.header_blocks) out.push({ name: rel, block });
    }
  }
  return out;
}

const blocks = recordedBlocks();

test('decoding every recorded Cf-Cloudflared-Response-Headers gives the recorded pairs', () => {
  let withPairs = 0;
  let seen = 0;
  for (const { name, block } of blocks) {
    const field = block.fields.find(([n]) => n === RESPONSE_HEADERS_HEADER);
    if (field === undefined) continue;
    seen++;
    const expected = block.decoded?.[RESPONSE_HEADERS_HEADER] as HeaderPair[];
    const got = decodeSerializedHeaders(field[1]);
    assert.deepEqual(got, expected, name);
    if (got.length > 0) withPairs++;
    // Our encoding of the same pairs, in the same order, is byte-identical.
    assert.equal(encodeSerializedHeaders(got), field[1], name);
    assert.deepEqual(decodeSerializedHeaders(serializeResponseHeaders(got)), got, name);
  }
  assert.ok(seen >= 8, `saw ${seen} serialized header fields`);
  assert.ok(withPairs >= 6);
});

test('recorded meta values are the two constants', () => {
  const metas = new Set<string>();
  for (const { block } of blocks) for (const [n, v] of block.fields) if (n === RESPONSE_META_HEADER) metas.add(v);
  assert.deepEqual([...metas].sort(), [RESPONSE_META_CLOUDFLARED, RESPONSE_META_ORIGIN].sort());
  assert.deepEqual(JSON.parse(RESPONSE_META_ORIGIN), { src: 'origin' });
  assert.deepEqual(JSON.parse(RESPONSE_META_CLOUDFLARED), { src: 'cloudflared' });
});

test('edge cases: empty list, separators and unicode in values, repeated names', () => {
  assert.equal(encodeSerializedHeaders([]), '');
  assert.deepEqual(decodeSerializedHeaders(''), []);
  assert.deepEqual(decodeSerializedHeaders(';;'), []);
  const pairs: HeaderPair[] = [
    ['X-A', 'a:b;c'],
    ['X-Empty', ''],
    ['Set-Cookie', 'k=v; Path=/'],
    ['Set-Cookie', 'k2=v2'],
    ['X-Uni', 'héllo ☃ 𝄞'],
    ['X-Eq', '=='],
  ];
  const enc = encodeSerializedHeaders(pairs);
  assert.ok(!enc.includes('='), 'raw base64 has no padding');
  assert.deepEqual(decodeSerializedHeaders(enc), pairs);
  assert.equal(encodeSerializedHeaders([['Content-Type', 'text/plain']]), 'Q29udGVudC1UeXBl:dGV4dC9wbGFpbg');
});

test('malformed serialized values raise SerializedHeadersError', () => {
  const bad = ['abc', 'YQ:Yg:Yw', 'YQ==:Yg', 'YQ:Y-g', 'YQ:Y_', 'YWJjZ:YQ', '@@:YQ'];
  for (const v of bad) {
    assert.throws(
      () => decodeSerializedHeaders(v),
      (e) =>
        e instanceof SerializedHeadersError &&
        e.code === 'CFT_ERR_SERIALIZED_HEADERS' &&
        e.message.startsWith('Unable to deserialize headers'),
      v,
    );
  }
});

test('response header filter follows the HEAD prefixes and the always-serialized names', () => {
  for (const n of [':status', 'Cf-Int-Cloudflared-Tracing', 'CF-CLOUDFLARED-RESPONSE-META', 'cf-proxy-x']) {
    assert.equal(isSerializedResponseHeader(n), false, n);
  }
  for (const n of [
    'Content-Type',
    'Content-Length',
    'Sec-Websocket-Accept',
    'Connection',
    'Upgrade',
    'Cf-Ray',
    'Set-Cookie',
  ]) {
    assert.equal(isSerializedResponseHeader(n), true, n);
  }
  const got = decodeSerializedHeaders(
    serializeResponseHeaders([
      ['Cf-Int-Cloudflared-Tracing', 'x'],
      ['Upgrade', 'websocket'],
      ['Cf-Cloudflared-Foo', 'y'],
      ['X-Ok', '1'],
    ]),
  );
  assert.deepEqual(got, [
    ['Upgrade', 'websocket'],
    ['X-Ok', '1'],
  ]);
});

test('internal request headers are stripped, order and repeats kept', () => {
  const input: HeaderPair[] = [
    ['X-Dup', 'a'],
    ['Cf-Cloudflared-Proxy-Connection-Upgrade', 'websocket'],
    ['cf-trace-id', 't'],
    ['cf-cloudflared-proxy-src', '1.2.3.4:5'],
    ['X-Dup', 'b'],
  ];
  assert.deepEqual(stripInternalRequestHeaders(input), [
    ['X-Dup', 'a'],
    ['X-Dup', 'b'],
  ]);
});
