import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes, createHash } from 'node:crypto';
import {
  QuicStreamResetError,
  QuicStreamStoppedError,
  type QuicConnection,
  type QuicStream,
} from '../../../src/transport/quic/index.js';
import { echoStreams, quicPair, readAll } from './helpers.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('client-initiated streams: ids 0, 4, 8 and echoed bytes', async () => {
  const pair = await quicPair();
  echoStreams(pair.serverConn);
  const streams = await Promise.all([pair.client.openStream(), pair.client.openStream(), pair.client.openStream()]);
  assert.deepEqual(
    streams.map((s) => s.id),
    [0, 4, 8],
  );
  const payload = randomBytes(300_000);
  const results = await Promise.all(
    streams.map((s) => {
      s.end(payload);
      return readAll(s);
    }),
  );
  for (const r of results) assert.equal(sha256(r), sha256(payload));
  await pair.close();
});

test('server-initiated streams reach the client as "stream" events', async () => {
  const pair = await quicPair();
  echoStreams(pair.client);
  const s = await pair.serverConn.openStream();
  assert.equal(s.id, 1);
  s.end('from the edge');
  assert.equal((await readAll(s)).toString(), 'from the edge');
  await pair.close();
});

test('1000 concurrent server-opened streams all complete', async () => {
  const pair = await quicPair();
  echoStreams(pair.client);
  const streams = await Promise.all(Array.from({ length: 1000 }, () => pair.serverConn.openStream()));
  const replies = await Promise.all(
    streams.map((s, i) => {
      s.end(`request ${i}`);
      return readAll(s);
    }),
  );
  replies.forEach((r, i) => assert.equal(r.toString(), `request ${i}`));
  assert.equal(new Set(streams.map((s) => s.id)).size, 1000);
  await pair.close();
});

test('peer streams whose data arrives out of id order are all surfaced, also beside a paused stream', async () => {
  // The driver asks quiche stream by stream and walks new peer ids in order; a stream that arrives
  // ahead of a lower id, or while another stream sits unread, must still surface (through quiche's iterator).
  const pair = await quicPair();
  const surfaced: QuicStream[] = [];
  pair.client.on('stream', (s: QuicStream) => surfaced.push(s));
  const next = (): Promise<QuicStream> => once(pair.client, 'stream').then(([s]) => s as QuicStream);
  const [a, b, c, d, e] = await Promise.all(Array.from({ length: 5 }, () => pair.serverConn.openStream()));
  assert.deepEqual(
    [a, b, c, d, e].map((s) => s!.id),
    [1, 5, 9, 13, 17],
  );
  // Stream 1 first, left unread with more data arriving: quiche keeps reporting it readable.
  let seen = next();
  a!.write('first');
  const first = await seen;
  first.pause();
  a!.write(' and more');
  // 13 ahead of 5 and 9, then 9, then 5.
  for (const s of [d!, c!, b!]) {
    seen = next();
    s.write(`stream ${s.id}`);
    assert.equal((await seen).id, s.id);
  }
  assert.deepEqual(
    surfaced.map((s) => s.id),
    [1, 13, 9, 5],
  );
  for (const s of surfaced) s.on('data', (chunk: Buffer) => s.write(chunk)).on('end', () => s.end());
  first.resume();
  for (const s of [a!, b!, c!, d!]) s.end();
  const replies = await Promise.all([a!, b!, c!, d!].map((s) => readAll(s)));
  assert.deepEqual(replies.map(String), ['first and more', 'stream 5', 'stream 9', 'stream 13']);
  // And the one left behind still surfaces after all of them.
  seen = next();
  e!.end('last');
  const last = await seen;
  assert.equal(last.id, 17);
  assert.equal((await readAll(last)).toString(), 'last');
  last.end();
  await readAll(e!);
  await pair.close();
});

test('half-close both ways: each side keeps sending after the other ended', async () => {
  const pair = await quicPair();
  const serverSide = once(pair.serverConn, 'stream') as Promise<[QuicStream]>;
  const client = await pair.client.openStream();
  client.end('question');
  const [server] = await serverSide;
  assert.equal((await readAll(server)).toString(), 'question'); // client FIN seen as 'end'
  server.write('answer part 1, ');
  server.write('part 2');
  const clientGot = readAll(client);
  server.end();
  assert.equal((await clientGot).toString(), 'answer part 1, part 2');
  await pair.close();
});

test('half-close the other way: the server ends first, the client still writes', async () => {
  const pair = await quicPair();
  const serverSide = once(pair.serverConn, 'stream') as Promise<[QuicStream]>;
  const client = await pair.client.openStream();
  client.write('hello');
  const [server] = await serverSide;
  server.end('bye');
  const clientGot = readAll(client);
  const serverGot = readAll(server);
  assert.equal((await clientGot).toString(), 'bye');
  client.end(' and more after your FIN');
  assert.equal((await serverGot).toString(), 'hello and more after your FIN');
  await pair.close();
});

/** Opens a stream from `opener`, writes `first`, and returns it with the acceptor's side. */
async function openedPair(
  opener: QuicConnection,
  acceptor: QuicConnection,
  first: string,
): Promise<[QuicStream, QuicStream]> {
  const accepted = once(acceptor, 'stream') as Promise<[QuicStream]>;
  const s = await opener.openStream();
  s.write(first);
  const [peer] = await accepted;
  return [s, peer];
}

test('reset with a code reaches the peer as QuicStreamResetError, both directions', async () => {
  const pair = await quicPair();
  for (const [opener, acceptor, code] of [
    [pair.client, pair.serverConn, 7],
    [pair.serverConn, pair.client, 0x1234],
  ] as const) {
    const [s, peer] = await openedPair(opener, acceptor, 'partial');
    const failed = once(peer, 'error');
    peer.resume();
    s.reset(code);
    const [err] = await failed;
    assert.ok(err instanceof QuicStreamResetError, String(err));
    assert.equal(err.errorCode, code);
    assert.equal(err.code, 'CFT_ERR_QUIC_STREAM_RESET');
    s.destroy();
  }
  await pair.close();
});

test("stop-sending with a code reaches the writer as QuicStreamStoppedError ('stopped', then 'error' once the read side ended), both directions", async () => {
  const pair = await quicPair();
  for (const [opener, acceptor, code] of [
    [pair.client, pair.serverConn, 9],
    [pair.serverConn, pair.client, 0x77],
  ] as const) {
    const [s, peer] = await openedPair(opener, acceptor, 'start');
    const stopped = once(s, 'stopped');
    const failed = once(s, 'error');
    peer.stopSending(code);
    const [early] = await stopped;
    assert.ok(early instanceof QuicStreamStoppedError, String(early));
    assert.equal(early.errorCode, code);
    // STOP_SENDING stops the sending side only (RFC 9000 §3.5): the stream fails once the peer's side has ended too.
    s.resume();
    peer.end();
    const [err] = await failed;
    assert.ok(err instanceof QuicStreamStoppedError, String(err));
    assert.equal(err.errorCode, code);
    peer.destroy();
  }
  await pair.close();
});

test('backpressure: a paused reader stops the writer, resuming delivers every byte', async () => {
  const window = 64 * 1024;
  const pair = await quicPair({}, { initialStreamWindow: window, maxStreamWindow: window });
  const accepted = once(pair.serverConn, 'stream') as Promise<[QuicStream]>;
  const s = await pair.client.openStream();
  const payload = randomBytes(4 * 1024 * 1024);
  let finished = false;
  const accepting = s.write(payload);
  s.end(() => (finished = true));
  assert.equal(accepting, false, 'write() reports backpressure for a payload above the high-water mark');
  const [peer] = await accepted;
  peer.pause();
  // Let many round trips happen on another stream: the writer has every chance to push more than it may.
  const pinger = await pair.client.openStream();
  const echoed = once(pair.serverConn, 'stream') as Promise<[QuicStream]>;
  pinger.write('p');
  const [echo] = await echoed;
  echo.pipe(echo);
  for (let i = 0; i < 30; i++) {
    await once(pinger, 'data');
    pinger.write('p');
  }
  await once(pinger, 'data');
  assert.equal(finished, false, 'the writer must not complete while the reader is paused');
  const limit = peer.readableHighWaterMark + 2 * window;
  assert.ok(peer.readableLength <= limit, `reader buffered ${peer.readableLength} bytes, more than ${limit}`);
  assert.ok(s.writableLength >= payload.length - limit - window, `writer only has ${s.writableLength} bytes queued`);
  const got = readAll(peer);
  peer.resume();
  assert.equal(sha256(await got), sha256(payload));
  peer.end();
  await readAll(s);
  pinger.end();
  await readAll(pinger);
  await pair.close();
});

test('openStream waits for stream credit instead of failing', async () => {
  const pair = await quicPair({}, { maxStreamsBidi: 2 });
  echoStreams(pair.serverConn);
  const a = await pair.client.openStream();
  const b = await pair.client.openStream();
  let thirdOpened = false;
  const third = pair.client.openStream().then((s) => {
    thirdOpened = true;
    return s;
  });
  // Both streams must carry data: the server only counts (and later replaces) streams it has seen.
  a.write('x');
  b.write('y');
  const [echoA] = (await once(a, 'data')) as [Buffer];
  const [echoB] = (await once(b, 'data')) as [Buffer];
  assert.equal(echoA.toString() + echoB.toString(), 'xy');
  assert.equal(thirdOpened, false, 'no credit for a third stream yet');
  a.end();
  await readAll(a);
  const c = await third;
  c.end('third');
  assert.equal((await readAll(c)).toString(), 'third');
  b.end();
  await readAll(b);
  await pair.close();
});

// A connector answering early (a 413 to an upload) sends its answer, FIN, then STOP_SENDING for the unread upload
// (docs/protocol.md §7.4). The uploading side must still read that answer to its end: STOP_SENDING stops its sending
// side only (RFC 9000 §3.5). It used to fail the whole stream, losing the FIN (a slow visitor's upload hung).
test('stop-sending after the peer FIN: the reader still gets every byte and the end, queued writes are dropped, then the error', async () => {
  const window = 64 * 1024;
  const pair = await quicPair({}, { initialStreamWindow: window, maxStreamWindow: window });
  const accepted = once(pair.serverConn, 'stream') as Promise<[QuicStream]>;
  const s = await pair.client.openStream();
  s.on('error', () => undefined);
  // Far above the peer's stream window: the write stays queued, and nobody reads `s` yet.
  s.end(randomBytes(4 * 1024 * 1024));
  const [peer] = await accepted;
  peer.on('error', () => undefined);
  try {
    // Either order may reach `s` first: the FIN is not guaranteed to arrive before the STOP_SENDING.
    await new Promise<void>((resolve) => peer.end('413 answer', resolve));
    peer.stopSending(0);
    // The write side settles first (its queued bytes dropped); before the fix the stream closed with nothing read.
    const settled = await new Promise<string>((resolve) => {
      s.once('finish', () => resolve('finish'));
      s.once('close', () => resolve('close'));
    });
    assert.equal(settled, 'finish');
    const closed = new Promise((resolve) => s.once('close', resolve));
    assert.equal((await readAll(s)).toString(), '413 answer');
    await closed;
    assert.ok(s.errored instanceof QuicStreamStoppedError, String(s.errored));
  } finally {
    peer.destroy();
    s.destroy();
    await pair.close();
  }
});
