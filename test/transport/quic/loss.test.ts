import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { startUdpRelay, type UdpRelay } from '../../helpers/udp-relay.js';
import {
  connectQuic,
  listenQuic,
  type QuicConnection,
  type QuicServer,
  type QuicStream,
} from '../../../src/transport/quic/index.js';
import { edgeCerts, readAll } from './helpers.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const BULK_BYTES = 20 * 1024 * 1024;
const REQUESTS = 1000;
const IN_FLIGHT = 50;

/** Server that echoes small requests, and answers "bulk" with BULK_BYTES of `bulk`. */
async function impairedPair(
  dropRate: number,
  seed: number,
  bulk: Buffer,
): Promise<{ server: QuicServer; relay: UdpRelay; client: QuicConnection }> {
  const certs = await edgeCerts();
  const server = await listenQuic({ host: '127.0.0.1', port: 0, cert: certs.certPem, key: certs.keyPem });
  server.on('connection', (conn: QuicConnection) =>
    conn.on('stream', (s: QuicStream) => {
      s.on('error', () => undefined);
      void readAll(s).then((req) => s.end(req.toString() === 'bulk' ? bulk : req));
    }),
  );
  // Loss, plus some reordering and duplication, in both directions.
  const relay = await startUdpRelay({
    target: { host: '127.0.0.1', port: server.address().port },
    dropRate,
    reorderRate: 0.01,
    duplicateRate: 0.005,
    seed,
  });
  const client = await connectQuic({
    host: '127.0.0.1',
    port: relay.address().port,
    serverName: 'quic.cftunnel.com',
    ca: certs.caPem,
  });
  return { server, relay, client };
}

async function request(client: QuicConnection, body: string): Promise<Buffer> {
  const s = await client.openStream();
  s.end(body);
  return readAll(s);
}

for (const dropRate of [0.01, 0.05]) {
  test(`${dropRate * 100} % loss: 1000 request/response streams and a 20 MB transfer complete intact`, async () => {
    const bulk = randomBytes(BULK_BYTES);
    const { server, relay, client } = await impairedPair(dropRate, 1000 + dropRate * 100, bulk);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < REQUESTS) {
        const i = next++;
        const reply = await request(client, `request ${i} ${'x'.repeat(i % 200)}`);
        assert.equal(reply.toString(), `request ${i} ${'x'.repeat(i % 200)}`);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    // Download and upload at the same time.
    const down = request(client, 'bulk');
    const upStream = await client.openStream();
    const up = readAll(upStream);
    upStream.end(bulk);
    assert.equal(sha256(await down), sha256(bulk));
    assert.equal(sha256(await up), sha256(bulk));
    assert.ok(
      relay.stats.dropped > 0 && relay.stats.duplicated > 0 && relay.stats.reordered > 0,
      JSON.stringify(relay.stats),
    );
    assert.equal(client.closed, false);
    const closed = once(client, 'close');
    await client.close();
    await closed;
    await server.close();
    await relay.close();
  });
}
