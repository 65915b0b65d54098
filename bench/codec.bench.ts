/**
 * ConnectRequest / ConnectResponse codec throughput: the hand codec (src/capnp/connect-codec.ts) against capnp-es's
 * generated classes, in the same process. One operation = encode + decode of one message.
 *
 * Run: node --import tsx bench/codec.bench.ts
 */
import { performance } from 'node:perf_hooks';
import {
  decodeConnectRequest,
  decodeConnectResponse,
  encodeConnectRequest,
  encodeConnectResponse,
  type ConnectRequest,
  type ConnectResponse,
} from '../src/capnp/connect-codec.js';
import {
  referenceDecodeRequest,
  referenceDecodeResponse,
  referenceEncodeRequest,
  referenceEncodeResponse,
} from '../test/capnp/reference.js';

/** A browser GET as the edge forwards it: 15 metadata entries. */
const request: ConnectRequest = {
  dest: 'https://app.example.com/dashboard/projects?page=2&sort=updated',
  type: 'http',
  metadata: [
    { key: 'HttpMethod', val: 'GET' },
    { key: 'HttpHost', val: 'app.example.com' },
    { key: 'HttpHeader:Accept', val: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
    { key: 'HttpHeader:Accept-Encoding', val: 'gzip, br' },
    { key: 'HttpHeader:Accept-Language', val: 'en-GB,en;q=0.9,fr;q=0.7' },
    { key: 'HttpHeader:Cf-Connecting-Ip', val: '203.0.113.45' },
    { key: 'HttpHeader:Cf-Ipcountry', val: 'GB' },
    { key: 'HttpHeader:Cf-Ray', val: '8a1b2c3d4e5f6071-LHR' },
    { key: 'HttpHeader:Cf-Visitor', val: '{"scheme":"https"}' },
    {
      key: 'HttpHeader:Cookie',
      val: 'session=4f9a1c2e8b7d6a5f3e2d1c0b9a8f7e6d; theme=dark; _ga=GA1.2.123456789.1700000000',
    },
    { key: 'HttpHeader:Referer', val: 'https://app.example.com/dashboard' },
    {
      key: 'HttpHeader:User-Agent',
      val: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
    },
    { key: 'HttpHeader:X-Forwarded-For', val: '203.0.113.45' },
    { key: 'HttpHeader:X-Forwarded-Proto', val: 'https' },
    { key: 'HttpHeader:Sec-Fetch-Mode', val: 'navigate' },
  ],
};

/** A typical origin answer: status plus 7 headers. */
const response: ConnectResponse = {
  error: '',
  metadata: [
    { key: 'HttpStatus', val: '200' },
    { key: 'HttpHeader:Content-Type', val: 'text/html; charset=utf-8' },
    { key: 'HttpHeader:Content-Length', val: '18342' },
    { key: 'HttpHeader:Cache-Control', val: 'private, max-age=0, must-revalidate' },
    { key: 'HttpHeader:Date', val: 'Wed, 25 Nov 2026 16:30:00 GMT' },
    { key: 'HttpHeader:Etag', val: 'W/"47a6-18c1f2b3a4d"' },
    {
      key: 'HttpHeader:Set-Cookie',
      val: 'session=4f9a1c2e8b7d6a5f3e2d1c0b9a8f7e6d; Path=/; HttpOnly; Secure; SameSite=Lax',
    },
    { key: 'HttpHeader:Vary', val: 'Accept-Encoding' },
  ],
};

const WARMUP_MS = 300;
const ROUND_MS = 700;
const ROUNDS = 3;

let sink = 0;

/** Median operations per second over ROUNDS timed rounds of `op`. */
function measure(op: () => number): number {
  const until = performance.now() + WARMUP_MS;
  while (performance.now() < until) sink += op();
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ROUND_MS) {
      for (let i = 0; i < 100; i++) sink += op();
      n += 100;
      now = performance.now();
    }
    rates.push((n * 1000) / (now - start));
  }
  return rates.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

const cases: Array<[string, () => number, () => number]> = [
  [
    'ConnectRequest (15 metadata)',
    () => decodeConnectRequest(encodeConnectRequest(request)).metadata.length,
    () => referenceDecodeRequest(referenceEncodeRequest(request)).metadata.length,
  ],
  [
    'ConnectResponse (8 metadata)',
    () => decodeConnectResponse(encodeConnectResponse(response)).metadata.length,
    () => referenceDecodeResponse(referenceEncodeResponse(response)).metadata.length,
  ],
];

console.log(`encode+decode per second (median of ${ROUNDS} rounds of ${ROUND_MS} ms), node ${process.version}`);
console.log(
  `request frame ${encodeConnectRequest(request).length} bytes, response frame ${encodeConnectResponse(response).length} bytes`,
);
for (const [name, hand, reference] of cases) {
  const handRate = measure(hand);
  const referenceRate = measure(reference);
  console.log(
    `${name.padEnd(30)} hand ${Math.round(handRate).toLocaleString('en-US').padStart(10)}/s   ` +
      `capnp-es ${Math.round(referenceRate).toLocaleString('en-US').padStart(8)}/s   ratio ${(handRate / referenceRate).toFixed(1)}x`,
  );
}
if (sink === 0) console.log('');
