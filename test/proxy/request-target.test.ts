/** The request target and origin response header rules of docs/protocol.md §10.6 as pure functions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestTarget } from '../../src/proxy/http-origin.js';
import { originResponseHeaders, validFinalStatus } from '../../src/proxy/headers.js';
import { decodeConnectResponse, encodeConnectResponse } from '../../src/capnp/connect-codec.js';
import { decodeSerializedHeaders, serializeResponseHeaders } from '../../src/wire/serialized-headers.js';

test('requestTarget keeps dot segments, %2e and backslashes; drops the fragment; escapes what a request line cannot carry', () => {
  assert.equal(requestTarget('http://a.test/public/../admin'), '/public/../admin');
  assert.equal(requestTarget('https://a.test:8443/public/%2e%2e/admin?x=1'), '/public/%2e%2e/admin?x=1');
  assert.equal(requestTarget('http://a.test/public/.%2e/admin'), '/public/.%2e/admin');
  assert.equal(requestTarget('http://a.test/public/..\\admin'), '/public/..\\admin');
  assert.equal(requestTarget('http://a.test'), '/');
  assert.equal(requestTarget('http://a.test?q=1'), '/?q=1');
  assert.equal(requestTarget('http://a.test/p#frag'), '/p');
  assert.equal(requestTarget('http://a.test/a b/\u00e9'), '/a%20b/%C3%A9');
  assert.equal(requestTarget('/already/origin-form?x'), '/already/origin-form?x');
  assert.throws(() => requestTarget('http://bad host/'), /is not absolute/);
  assert.throws(() => requestTarget('no-scheme'), /is not absolute/);
});

test('origin response headers: canonical names, Transfer-Encoding and Connection-nominated headers dropped except on 101', () => {
  const raw = [
    'content-type',
    'text/plain',
    'Connection',
    'close, X-Private',
    'x-private',
    'secret',
    'Transfer-Encoding',
    'chunked',
    'X-B',
    'a\xffb',
  ];
  assert.deepEqual(originResponseHeaders(raw, false), [
    ['Content-Type', 'text/plain'],
    ['Connection', 'close, X-Private'],
    ['X-B', 'a\xffb'],
  ]);
  const upgrade = ['Connection', 'Upgrade', 'Upgrade', 'websocket'];
  assert.deepEqual(originResponseHeaders(upgrade, true), [
    ['Connection', 'Upgrade'],
    ['Upgrade', 'websocket'],
  ]);
});

// cloudflared relays any three-digit final status (Go's client accepts 100-999); over HTTP/2 the origin proxy turns
// what node:http2 cannot carry (600-999) into an origin failure (test/e2e/origin-zoo-items.test.ts).
test('final statuses: 101 and 200-999 pass, anything else is an origin failure', () => {
  for (const s of [101, 200, 404, 599, 600, 999]) assert.equal(validFinalStatus(s), true, String(s));
  for (const s of [0, 100, 199, 1000]) assert.equal(validFinalStatus(s), false, String(s));
});

test('header byte strings cross both transports byte for byte (0xFF stays 0xFF); text above 0xFF stays UTF-8', () => {
  const frame = encodeConnectResponse(
    {
      error: '',
      metadata: [
        { key: 'HttpHeader:X-B', val: 'a\xffb' },
        { key: 'HttpHeader:X-E', val: '\u20ac' },
      ],
    },
    { byteStringValues: true },
  );
  assert.ok(frame.includes(Buffer.from([0x61, 0xff, 0x62])));
  assert.ok(frame.includes(Buffer.from('\u20ac', 'utf8')));
  const decoded = decodeConnectResponse(frame.subarray(0), { byteStringValues: true });
  assert.equal(decoded.metadata[0]!.val, 'a\xffb');
  const serialized = serializeResponseHeaders([['X-B', 'a\xffb']]);
  assert.equal(Buffer.from(serialized.split(':')[1]!, 'base64').toString('hex'), '61ff62');
  assert.deepEqual(decodeSerializedHeaders(serialized, true), [['X-B', 'a\xffb']]);
});
