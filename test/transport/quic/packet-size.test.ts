/**
 * The connector's packet size by edge family (docs/protocol.md §5.1, HEAD `supervisor/tunnel.go`): 1232-byte UDP
 * payloads towards IPv4 edges and 1252 towards IPv6 edges. A recording UDP relay between the real client and a real
 * server measures the largest datagram the client sends while it uploads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { once } from 'node:events';
import { connectQuic, listenQuic, type QuicConnection, type QuicStream } from '../../../src/transport/quic/index.js';
import { edgeCerts, readAll } from './helpers.js';

/** Forwards datagrams between one client and `target`, remembering the largest one the client sent. */
async function recordingRelay(
  host: string,
  target: number,
): Promise<{ port: number; largestFromClient: () => number; close: () => void }> {
  const family = host.includes(':') ? 'udp6' : 'udp4';
  const front = createSocket(family);
  const back = createSocket(family);
  let client: RemoteInfo | undefined;
  let largest = 0;
  front.on('message', (msg, rinfo) => {
    client = rinfo;
    largest = Math.max(largest, msg.length);
    back.send(msg, target, host);
  });
  back.on('message', (msg) => {
    if (client !== undefined) front.send(msg, client.port, client.address);
  });
  front.bind(0, host);
  back.bind(0, host);
  await Promise.all([once(front, 'listening'), once(back, 'listening')]);
  return {
    port: front.address().port,
    largestFromClient: () => largest,
    close: () => {
      front.close();
      back.close();
    },
  };
}

for (const [host, expected] of [
  ['127.0.0.1', 1232],
  ['::1', 1252],
] as const) {
  test(
    `UDP payloads towards an ${host === '::1' ? 'IPv6' : 'IPv4'} edge are at most ${expected} bytes, and full packets reach that size`,
    { timeout: 30_000 },
    async (t) => {
      const c = await edgeCerts();
      const server = await listenQuic({ host, port: 0, cert: c.certPem, key: c.keyPem });
      const relay = await recordingRelay(host, server.address().port);
      let client: QuicConnection | undefined;
      t.after(async () => {
        await client?.close();
        await server.close();
        relay.close();
      });
      const accepted = once(server, 'connection') as Promise<[QuicConnection]>;
      client = await connectQuic({ host, port: relay.port, serverName: 'quic.cftunnel.com', ca: c.caPem });
      const [serverConn] = await accepted;
      const received = once(serverConn, 'stream') as Promise<[QuicStream]>;
      const stream = await client.openStream();
      stream.on('error', () => undefined);
      stream.end(Buffer.alloc(256 * 1024, 7));
      const [peer] = await received;
      peer.on('error', () => undefined);
      assert.equal((await readAll(peer)).length, 256 * 1024);
      peer.end();
      assert.equal(relay.largestFromClient(), expected);
    },
  );
}
