/**
 * Loopback UDP relay that impairs traffic: drops, reorders and duplicates datagrams at given rates, decided by a
 * seeded PRNG so a failing run can be replayed. Each client address gets its own upstream socket, so the server
 * sees one peer per client, as through a NAT.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { literalLookup } from '../../src/transport/quic/socket.js';

/** Impairment applied to every datagram, both directions. Rates are probabilities in [0, 1]. */
export interface UdpRelayOptions {
  /** Where datagrams from clients go. */
  target: { host: string; port: number };
  dropRate?: number;
  /** Probability a datagram is held back and sent after the next one in the same direction. */
  reorderRate?: number;
  duplicateRate?: number;
  /** PRNG seed (default 1). */
  seed?: number;
}

/** Counters of what the relay did. */
export interface UdpRelayStats {
  received: number;
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
}

/** A running relay. */
export interface UdpRelay {
  /** The address clients should send to. */
  address(): { address: string; port: number };
  readonly stats: UdpRelayStats;
  /** Changes the impairment on the fly. */
  setRates(rates: Pick<UdpRelayOptions, 'dropRate' | 'reorderRate' | 'duplicateRate'>): void;
  close(): Promise<void>;
}

/** mulberry32: small, fast, good enough for test impairment decisions. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Socket buffer size: large, so that the kernel drops nothing beyond what the relay decides. */
const RELAY_SOCKET_BUFFER = 4 * 1024 * 1024;

function enlargeBuffers(socket: Socket): void {
  try {
    socket.setRecvBufferSize(RELAY_SOCKET_BUFFER);
    socket.setSendBufferSize(RELAY_SOCKET_BUFFER);
  } catch {
    // Capped by the OS: the relay still works, with some extra loss under bursts.
  }
}

/** One direction of one client flow: where to send, and the datagram held back for reordering. */
class Lane {
  held: Buffer | null = null;
  constructor(
    readonly socket: Socket,
    readonly port: number,
    readonly host: string,
  ) {}
}

/** Starts a relay on 127.0.0.1 (or ::1 when the target is IPv6) forwarding to `options.target`. */
export async function startUdpRelay(options: UdpRelayOptions): Promise<UdpRelay> {
  const v6 = options.target.host.includes(':');
  const type = v6 ? 'udp6' : 'udp4';
  const loopback = v6 ? '::1' : '127.0.0.1';
  const random = seededRandom(options.seed ?? 1);
  let dropRate = options.dropRate ?? 0;
  let reorderRate = options.reorderRate ?? 0;
  let duplicateRate = options.duplicateRate ?? 0;
  const stats: UdpRelayStats = { received: 0, forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 };
  // dgram's default lookup defers every send to the next tick, even to an IP literal: a per-datagram cost that made
  // the relay, not the QUIC peers, the bottleneck of lossy benchmarks.
  const socketOptions = { type, lookup: literalLookup as never } as const;
  const front = createSocket(socketOptions);
  const upstreams = new Map<string, Socket>();
  const pendingLanes = new Set<Lane>();
  let releaseScheduled = false;

  const releaseHeld = (): void => {
    releaseScheduled = false;
    for (const lane of pendingLanes) {
      if (lane.held !== null) send(lane, lane.held);
      lane.held = null;
    }
    pendingLanes.clear();
  };

  function send(lane: Lane, packet: Buffer): void {
    stats.forwarded++;
    lane.socket.send(packet, lane.port, lane.host);
  }

  function relay(lane: Lane, packet: Buffer): void {
    stats.received++;
    if (random() < dropRate) {
      stats.dropped++;
      return;
    }
    const duplicate = random() < duplicateRate;
    if (lane.held === null && random() < reorderRate) {
      stats.reordered++;
      lane.held = packet;
      pendingLanes.add(lane);
      // Released after the next datagram of this lane, or at the end of this I/O turn if none comes.
      if (!releaseScheduled) {
        releaseScheduled = true;
        setImmediate(releaseHeld);
      }
    } else {
      send(lane, packet);
      if (lane.held !== null) {
        send(lane, lane.held);
        lane.held = null;
        pendingLanes.delete(lane);
      }
    }
    if (duplicate) {
      stats.duplicated++;
      send(lane, packet);
    }
  }

  const clientLanes = new Map<string, { toServer: Lane; toClient: Lane }>();
  front.on('message', (packet: Buffer, rinfo: RemoteInfo) => {
    const key = `${rinfo.address}|${rinfo.port}`;
    let lanes = clientLanes.get(key);
    if (lanes === undefined) {
      const upstream = createSocket(socketOptions);
      upstream.bind(0, loopback, () => enlargeBuffers(upstream));
      upstream.on('error', () => undefined);
      upstreams.set(key, upstream);
      const toClient = new Lane(front, rinfo.port, rinfo.address);
      lanes = { toServer: new Lane(upstream, options.target.port, options.target.host), toClient };
      clientLanes.set(key, lanes);
      upstream.on('message', (reply: Buffer) => relay(toClient, reply));
    }
    relay(lanes.toServer, packet);
  });
  front.on('error', () => undefined);
  // With a synchronous lookup, 'listening' can be emitted inside bind(): listen first.
  const listening = once(front, 'listening');
  front.bind(0, loopback);
  await listening;
  enlargeBuffers(front);

  return {
    address: () => {
      const a = front.address();
      return { address: a.address, port: a.port };
    },
    stats,
    setRates(rates) {
      dropRate = rates.dropRate ?? dropRate;
      reorderRate = rates.reorderRate ?? reorderRate;
      duplicateRate = rates.duplicateRate ?? duplicateRate;
    },
    async close() {
      const all = [front, ...upstreams.values()];
      await Promise.all(all.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
