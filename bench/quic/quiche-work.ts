/**
 * What quiche and its napi binding cost per packet with no sockets at all: a client and a server connection in this
 * process, packets handed from one to the other in memory, one stream carrying `bytes` from sender to receiver. The
 * time spent in the sender's calls (`streamSend`, `send`, processing ACKs with `recv`) and in the receiver's calls
 * (`recv`, `streamRecv`, sending ACKs with `send`) is summed separately. Added to the same-run node:dgram cost per
 * datagram, it gives the fastest any driver on this binding and node:dgram could move 1252-byte packets here.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { buildConfig, MAX_SEND_UDP_PAYLOAD_V4 } from '../../src/transport/quic/config.js';
import { loadQuiche, type NativeConnection } from '../../src/transport/quic/native.js';

/** Per-packet CPU of each side, µs (wall time inside the binding's calls, single thread). */
export interface QuicheWork {
  senderUsPerPacket: number;
  receiverUsPerPacket: number;
  packets: number;
  /** Stream bytes carried per packet (payload of a full packet, ACK packets of the sender included). */
  streamBytesPerPacket: number;
}

const A = { host: '127.0.0.1', port: 40001 };
const B = { host: '127.0.0.1', port: 40002 };

/** Moves `bytes` over one stream between two in-memory quiche connections. */
export function measureQuicheWork(
  certs: { certPem: string; keyPem: string; caPem: string },
  bytes: number,
): QuicheWork {
  const quiche = loadQuiche();
  const clientConfig = buildConfig(quiche, {
    ca: Buffer.from(certs.caPem),
    maxSendUdpPayload: MAX_SEND_UDP_PAYLOAD_V4,
  });
  const serverConfig = buildConfig(quiche, {
    cert: Buffer.from(certs.certPem),
    key: Buffer.from(certs.keyPem),
    maxSendUdpPayload: MAX_SEND_UDP_PAYLOAD_V4,
  });
  const client = quiche.Connection.connect('quic.cftunnel.com', randomBytes(16), A, B, clientConfig);
  let server: NativeConnection | undefined;
  const toClient = { from: B, to: A };
  const toServer = { from: A, to: B };
  const out = Buffer.allocUnsafe(65_535);
  // Handshake: shuttle until both are established.
  for (let i = 0; i < 100 && !(client.isEstablished() && server?.isEstablished()); i++) {
    for (let r; (r = client.send(out)) !== null;) {
      server ??= quiche.Connection.accept(randomBytes(16), null, B, A, serverConfig);
      server.recv(out.subarray(0, r[0]), toServer);
    }
    if (server !== undefined)
      for (let r; (r = server.send(out)) !== null;) client.recv(out.subarray(0, r[0]), toClient);
  }
  if (server === undefined || !client.isEstablished()) throw new Error('in-memory handshake failed');
  // The sender is the server (a download), stream 0 opened by the client.
  client.streamSend(0, Buffer.from('x'), false);
  for (let r; (r = client.send(out)) !== null;) server.recv(out.subarray(0, r[0]), toServer);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const readBuf = Buffer.allocUnsafe(256 * 1024);
  const flight: Buffer[] = [];
  let senderMs = 0;
  let receiverMs = 0;
  let packets = 0;
  let sent = 0;
  let received = 0;
  while (received < bytes) {
    // Sender: fill the stream as far as credit allows, then packetise everything the congestion window allows.
    let t = performance.now();
    while (sent < bytes) {
      const n = server.streamSend(0, chunk.subarray(0, Math.min(chunk.length, bytes - sent)), false);
      if (n === null || n === 0) break;
      sent += n;
    }
    for (let r; (r = server.send(out)) !== null;) flight.push(Buffer.from(out.subarray(0, r[0])));
    senderMs += performance.now() - t;
    packets += flight.length;
    // Receiver: take the flight, read the stream, answer with ACKs / window updates.
    t = performance.now();
    for (const p of flight) client.recv(p, toClient);
    for (let r; (r = client.streamRecv(0, readBuf)) !== null;) received += r[0];
    const acks: Buffer[] = [];
    for (let r; (r = client.send(out)) !== null;) acks.push(Buffer.from(out.subarray(0, r[0])));
    receiverMs += performance.now() - t;
    flight.length = 0;
    t = performance.now();
    for (const a of acks) server.recv(a, toServer);
    senderMs += performance.now() - t;
    if (acks.length === 0 && received < bytes && server.timeout() === null)
      throw new Error('in-memory transfer stalled');
  }
  return {
    senderUsPerPacket: (senderMs * 1000) / packets,
    receiverUsPerPacket: (receiverMs * 1000) / packets,
    packets,
    streamBytesPerPacket: bytes / packets,
  };
}
