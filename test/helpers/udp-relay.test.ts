import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { seededRandom, startUdpRelay, type UdpRelayOptions } from './udp-relay.js';

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

/** Sends `count` numbered datagrams through a relay in one burst; returns the sequence numbers the sink received. */
async function pushThrough(count: number, impair: Omit<UdpRelayOptions, 'target'>): Promise<number[]> {
  const sink = await bound();
  const source = await bound();
  const relay = await startUdpRelay({ target: { host: '127.0.0.1', port: sink.address().port }, ...impair });
  const got: number[] = [];
  let markerSeen = false;
  // Complete once the marker arrived and everything the relay forwarded (held-back datagrams included) is in.
  const complete = new Promise<void>((resolve) => {
    sink.on('message', (m: Buffer) => {
      const n = m.readUInt32BE(0);
      if (n === MARKER) markerSeen = true;
      else got.push(n);
      if (markerSeen && got.length + 1 === relay.stats.forwarded) resolve();
    });
  });
  // Bursts small enough for the default socket buffers, each one in before the next one goes.
  for (let i = 0; i < count; i += BURST) {
    for (let j = i; j < Math.min(count, i + BURST); j++) {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(j);
      source.send(b, relay.address().port, '127.0.0.1');
    }
    const target = Math.min(count, i + BURST);
    await new Promise<void>((resolve) => {
      const check = (): void => (relay.stats.received >= target ? resolve() : void setImmediate(check));
      check();
    });
  }
  relay.setRates({ dropRate: 0, reorderRate: 0, duplicateRate: 0 });
  const end = Buffer.alloc(4);
  end.writeUInt32BE(MARKER);
  source.send(end, relay.address().port, '127.0.0.1');
  await complete;
  await relay.close();
  source.close();
  sink.close();
  return got;
}

const MARKER = 0xffffffff;
const BURST = 50;
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

test('seeded PRNG is reproducible and spread over [0, 1)', () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(
    xs,
    Array.from({ length: 1000 }, () => b()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(mean > 0.45 && mean < 0.55, `mean ${mean}`);
});

test('without impairment every datagram arrives once, in order', async () => {
  const got = await pushThrough(200, {});
  assert.deepEqual(
    got,
    Array.from({ length: 200 }, (_, i) => i),
  );
});

test('drops, duplicates and reorders at roughly the given rates, identically for the same seed', async () => {
  const impair = { dropRate: 0.1, duplicateRate: 0.05, reorderRate: 0.05, seed: 42 };
  const first = await pushThrough(1000, impair);
  const second = await pushThrough(1000, impair);
  // Which datagrams are dropped or duplicated depends only on the seed; exact reordering also on I/O batching.
  assert.deepEqual(sorted(first), sorted(second), 'same seed, same datagrams delivered');
  const unique = new Set(first);
  assert.ok(unique.size > 850 && unique.size < 950, `delivered ${unique.size} distinct of 1000`);
  assert.ok(first.length > unique.size, 'some datagrams were duplicated');
  assert.ok(
    first.some((n, i) => i > 0 && n < first[i - 1]!),
    'some datagrams were reordered',
  );
  const other = await pushThrough(1000, { ...impair, seed: 43 });
  assert.notDeepEqual(sorted(other), sorted(first), 'a different seed gives a different pattern');
});

test('relays replies back to the client', async () => {
  const server = await bound();
  server.on('message', (m: Buffer, r) => server.send(m, r.port, r.address));
  const relay = await startUdpRelay({ target: { host: '127.0.0.1', port: server.address().port } });
  const client = await bound();
  client.send(Buffer.from('ping'), relay.address().port, '127.0.0.1');
  const [reply] = (await once(client, 'message')) as [Buffer];
  assert.equal(reply.toString(), 'ping');
  await relay.close();
  client.close();
  server.close();
});
