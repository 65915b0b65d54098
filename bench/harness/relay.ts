/**
 * A byte-counting relay between the connector and the edge, on one loopback port for both UDP (QUIC) and TCP
 * (HTTP/2), so the idle scenario can measure what goes over the wire whatever the transport.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

/** Bytes (payload: UDP datagram or TCP stream bytes, no IP/UDP/TCP headers) and datagrams each way. */
export interface RelayCounters {
  toEdgeBytes: number;
  toConnectorBytes: number;
  /** UDP only: datagrams each way (TCP segments are not visible from user space). */
  toEdgeDatagrams: number;
  toConnectorDatagrams: number;
}

/** A running relay. */
export interface CountingRelay {
  readonly port: number;
  readonly counters: RelayCounters;
  /** A copy of the counters, for diffing across a window. */
  snapshot(): RelayCounters;
  close(): Promise<void>;
}

function bindTcp(
  target: { host: string; port: number },
  counters: RelayCounters,
): { server: net.Server; sockets: Set<net.Socket> } {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(target.port, target.host);
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => {
        down.destroy();
        up.destroy();
      });
      s.once('close', () => sockets.delete(s));
    }
    down.on('data', (c: Buffer) => (counters.toEdgeBytes += c.length));
    up.on('data', (c: Buffer) => (counters.toConnectorBytes += c.length));
    down.pipe(up);
    up.pipe(down);
  });
  return { server, sockets };
}

function bindUdp(
  target: { host: string; port: number },
  counters: RelayCounters,
): { socket: UdpSocket; upstreams: Map<string, UdpSocket> } {
  const socket = createSocket('udp4');
  // One upstream socket per connector flow, so the edge sees as many peers as there are QUIC connections.
  const upstreams = new Map<string, UdpSocket>();
  socket.on('message', (msg: Buffer, from: RemoteInfo) => {
    const key = `${from.address}:${from.port}`;
    let up = upstreams.get(key);
    if (up === undefined) {
      const created = createSocket('udp4');
      created.on('message', (back: Buffer) => {
        counters.toConnectorBytes += back.length;
        counters.toConnectorDatagrams++;
        socket.send(back, from.port, from.address);
      });
      created.on('error', () => undefined);
      upstreams.set(key, created);
      up = created;
    }
    up.send(msg, target.port, target.host);
    counters.toEdgeBytes += msg.length;
    counters.toEdgeDatagrams++;
  });
  socket.on('error', () => undefined);
  return { socket, upstreams };
}

/** Starts a counting relay on 127.0.0.1 towards `target` (TCP and UDP on the same port). */
export async function startCountingRelay(target: { host: string; port: number }): Promise<CountingRelay> {
  const counters: RelayCounters = { toEdgeBytes: 0, toConnectorBytes: 0, toEdgeDatagrams: 0, toConnectorDatagrams: 0 };
  const tcp = bindTcp(target, counters);
  tcp.server.listen(0, '127.0.0.1');
  await once(tcp.server, 'listening');
  const port = (tcp.server.address() as AddressInfo).port;
  const udp = bindUdp(target, counters);
  udp.socket.bind(port, '127.0.0.1');
  await once(udp.socket, 'listening');
  return {
    port,
    counters,
    snapshot: () => ({ ...counters }),
    async close() {
      for (const s of tcp.sockets) s.destroy();
      for (const u of udp.upstreams.values()) u.close();
      udp.socket.close();
      await new Promise<void>((resolve) => tcp.server.close(() => resolve()));
    },
  };
}
