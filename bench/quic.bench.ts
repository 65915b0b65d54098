/**
 * QUIC transport benchmark: client here, server in a forked process, each pinned to a core of its own (see PIN); the
 * lossy relay lives in the server process (see RELAY_PLACE). Every QUIC figure is printed beside node:http2 over TLS
 * doing the same work in the same run, and beside the floor model (raw node:dgram + quiche's own per-packet cost).
 *
 * Wall-clock rates on a shared 2-core box swing with the load, so each phase also reports CPU time per unit of work
 * in both processes (`process.cpuUsage()` deltas; the peer reports its own over IPC): CPU s per GB for bulk, CPU µs
 * per request/response stream, and for QUIC CPU µs per UDP packet (sent + received by that side). These hardly move
 * with contention. A raw node:dgram run (same packet size, windowed, no QUIC) gives the machine's UDP ceiling in the same
 * run. Usage: node --import tsx bench/quic.bench.ts [runs] [bulk MB] [lossy: 1|0|only]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateEdgeCertificates } from '../src/local-edge/certs.js';
import { connectQuic, type QuicConnection } from '../src/transport/quic/index.js';
import { MAX_SEND_UDP_PAYLOAD_V4 } from '../src/transport/quic/config.js';
import { measureQuicheWork } from './quic/quiche-work.js';
import { DOWNLOAD_PREFIX, UDP_ACK_EVERY, countBytes, pinProcesses, writeBulk, type PeerSample } from './quic/shared.js';

const RUNS = Number(process.argv[2] ?? 3);
const BULK_BYTES = Number(process.argv[3] ?? 128) * 1024 * 1024;
const LOSSY_ARG = process.argv[4] ?? '1';
const WITH_LOSSY = LOSSY_ARG !== '0';
/** `only`: just the 1 %-loss bulk runs. */
const ONLY_LOSSY = LOSSY_ARG === 'only';
/**
 * Pin client and server to a core each (see `pinProcesses`; unpinned clean bulk runs were ~52 or ~80 MB/s, same code).
 * Each side owning a core is also closer to production, where the edge is another machine. QUIC_BENCH_PIN=0 turns it
 * off (both placements were measured and are in RESULTS.md).
 */
const PIN = process.env.QUIC_BENCH_PIN !== '0';
/**
 * Where the lossy relay runs: inside the `peer` (server) process (default) or its `own` process. The lossy rate is
 * bound by the congestion window and so by the round trip, and a third busy process on two cores adds scheduling delay
 * to every round trip: measured slower than the relay sharing the server's event loop.
 */
const RELAY_PLACE = process.env.QUIC_BENCH_RELAY === 'own' ? 'own' : 'peer';
const LOSSY_BULK_BYTES = 64 * 1024 * 1024;
const STREAMS = 10_000;
/** Bytes moved by the in-memory quiche pair of the floor model. */
const QUICHE_WORK_BYTES = 64 * 1024 * 1024;

const IN_FLIGHT = 50;
const RTT_SAMPLES = 2_000;
const SMALL = Buffer.from('GET /hello HTTP/1.1 small request');

/** One transport under test: open a request, send a body, get the whole answer back. */
interface Transport {
  name: string;
  /** Sends `body` (or `uploadBytes` of filler) and resolves with the response byte count. */
  exchange(body: Buffer | string, uploadBytes?: number): Promise<number>;
  /** UDP packets sent + received by the client so far (QUIC only). */
  packets?(): number;
  close(): Promise<void>;
}

function quicTransport(conn: QuicConnection, name: string): Transport {
  return {
    name,
    async exchange(body, uploadBytes) {
      const s = await conn.openStream();
      const answer = countBytes(s);
      if (uploadBytes === undefined) s.end(body);
      else await writeBulk(s, uploadBytes);
      return answer;
    },
    packets: () => conn.packetsSent + conn.packetsReceived,
    close: () => conn.close(),
  };
}

function h2Transport(session: ClientHttp2Session): Transport {
  return {
    name: 'node:http2+TLS',
    async exchange(body, uploadBytes) {
      const req = session.request({ ':method': 'POST', ':path': '/' });
      const answer = countBytes(req);
      if (uploadBytes === undefined) req.end(body);
      else await writeBulk(req, uploadBytes);
      return answer;
    },
    close: () => new Promise<void>((resolve) => session.close(() => resolve())),
  };
}

async function bulkDown(t: Transport, bytes: number): Promise<number> {
  const start = performance.now();
  const got = await t.exchange(`${DOWNLOAD_PREFIX}${bytes}`);
  if (got !== bytes) throw new Error(`${t.name}: got ${got} of ${bytes} bytes`);
  return bytes / 1e6 / ((performance.now() - start) / 1000);
}

async function bulkUp(t: Transport, bytes: number): Promise<number> {
  const start = performance.now();
  await t.exchange('', bytes);
  return bytes / 1e6 / ((performance.now() - start) / 1000);
}

async function streamsPerSecond(t: Transport): Promise<number> {
  let next = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (next++ < STREAMS) await t.exchange(SMALL);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return STREAMS / ((performance.now() - start) / 1000);
}

async function idleRtt(t: Transport): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < RTT_SAMPLES; i++) {
    const start = performance.now();
    await t.exchange(SMALL);
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length * 0.5)]!, p99: samples[Math.floor(samples.length * 0.99)]! };
}

/** Datagrams kept unacknowledged by the raw UDP baseline (about what quiche's congestion window holds on loopback). */
const UDP_WINDOW = 256;

/**
 * The machine's UDP ceiling: raw node:dgram datagrams of the connector's QUIC packet size (docs/protocol.md §5.1), sent
 * with a window acknowledged by the peer, no QUIC work at all. QUIC's CPU per packet minus this is what quiche and the
 * driver cost; the MB/s is the most any QUIC driver on node:dgram could reach here with this packet size.
 */
async function udpCeiling(
  peer: ChildProcess,
  port: number,
  bytes: number,
): Promise<{ mbps: number; clientUs: number; serverUs: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.connect(port, '127.0.0.1', resolve));
  socket.setSendBufferSize(4 * 1024 * 1024);
  socket.setRecvBufferSize(4 * 1024 * 1024);
  const datagram = Buffer.alloc(MAX_SEND_UDP_PAYLOAD_V4, 0x61);
  const total = Math.ceil(bytes / datagram.length);
  const samplePeer = async (): Promise<PeerSample> => {
    const reply = once(peer, 'message') as Promise<[PeerSample]>;
    peer.send({ cmd: 'sample' });
    return (await reply)[0];
  };
  const before = await samplePeer();
  const cpuBefore = cpuMicros();
  const start = performance.now();
  let sent = 0;
  let acked = 0;
  await new Promise<void>((resolve) => {
    let stuck: NodeJS.Timeout | undefined;
    let done = false;
    const pump = (): void => {
      while (sent < total && sent - acked < UDP_WINDOW) {
        socket.send(datagram);
        sent++;
      }
      if (sent >= total && acked + UDP_ACK_EVERY > total) return finish();
      // A lost datagram would hold the window shut forever: after 20 ms of silence, count the window as delivered.
      clearTimeout(stuck);
      stuck = setTimeout(() => {
        acked = sent;
        pump();
      }, 20);
    };
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(stuck);
      socket.off('message', onAck);
      resolve();
    };
    const onAck = (): void => {
      acked += UDP_ACK_EVERY;
      pump();
    };
    socket.on('message', onAck);
    pump();
  });
  const clientUs = cpuMicros() - cpuBefore;
  const seconds = (performance.now() - start) / 1000;
  const after = await samplePeer();
  socket.close();
  const received = (after.datagrams ?? 0) - (before.datagrams ?? 0);
  const serverUs = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
  return {
    mbps: (received * datagram.length) / 1e6 / seconds,
    clientUs: clientUs / total,
    serverUs: serverUs / Math.max(1, received),
  };
}

/** CPU µs of this process (user + system). */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** CPU spent by both processes (and QUIC packets handled by each) while `work` ran. */
interface Cost {
  clientUs: number;
  serverUs: number;
  clientPackets: number;
  serverPackets: number;
}

async function measured<T>(peer: ChildProcess, t: Transport, work: () => Promise<T>): Promise<[T, Cost]> {
  const samplePeer = async (): Promise<PeerSample> => {
    const reply = once(peer, 'message') as Promise<[PeerSample]>;
    peer.send({ cmd: 'sample' });
    return (await reply)[0];
  };
  const peerBefore = await samplePeer();
  const packetsBefore = t.packets?.() ?? 0;
  const cpuBefore = cpuMicros();
  const result = await work();
  const clientUs = cpuMicros() - cpuBefore;
  const clientPackets = (t.packets?.() ?? 0) - packetsBefore;
  const peerAfter = await samplePeer();
  const serverUs = peerAfter.cpu.user + peerAfter.cpu.system - peerBefore.cpu.user - peerBefore.cpu.system;
  return [result, { clientUs, serverUs, clientPackets, serverPackets: peerAfter.packets - peerBefore.packets }];
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
const fmt = (x: number, d = 1): string => x.toFixed(d);

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}

async function main(): Promise<void> {
  console.log(`load at start: ${loadAverage()}`);
  const certs = await generateEdgeCertificates();
  // QUIC_BENCH_PEER_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the server side.
  const peerArgs = process.env.QUIC_BENCH_PEER_ARGS?.split(' ').filter(Boolean) ?? [];
  const peer = fork(fileURLToPath(new URL('./quic/peer.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx', ...peerArgs],
  });
  peer.send({ certPem: certs.certPem, keyPem: certs.keyPem, relayDropRate: 0.01 });
  const [ports] = (await once(peer, 'message')) as [
    { quicPort: number; h2Port: number; relayPort: number; udpPort: number },
  ];
  console.log(
    `placement: ${PIN ? pinProcesses(peer) : 'unpinned (QUIC_BENCH_PIN=0)'}, lossy relay in ${RELAY_PLACE === 'own' ? 'its own process' : 'the server process'}`,
  );
  const dial = (port: number): Promise<QuicConnection> =>
    connectQuic({ host: '127.0.0.1', port, serverName: 'quic.cftunnel.com', ca: certs.caPem });

  const results: Record<string, number[]> = {};
  const record = (key: string, value: number): void => void (results[key] ??= []).push(value);
  let relayPort = ports.relayPort;
  let relayProcess: ChildProcess | undefined;
  if (WITH_LOSSY && RELAY_PLACE === 'own') {
    relayProcess = fork(fileURLToPath(new URL('./quic/relay-process.ts', import.meta.url)), {
      execArgv: ['--import', 'tsx'],
    });
    relayProcess.send({ targetPort: ports.quicPort, dropRate: 0.01, seed: 7 });
    relayPort = ((await once(relayProcess, 'message')) as [{ port: number }])[0].port;
  }
  for (let run = 0; run < RUNS; run++) {
    if (!ONLY_LOSSY) await transportRuns();
    if (WITH_LOSSY) {
      const lossy = quicTransport(await dial(relayPort), 'quic');
      record('quic bulk down MB/s, 1 % loss', await bulkDown(lossy, LOSSY_BULK_BYTES));
      record('quic bulk up MB/s, 1 % loss', await bulkUp(lossy, LOSSY_BULK_BYTES));
      await lossy.close();
    }
    console.log(
      `run ${run + 1}: ${Object.entries(results)
        .map(([k, v]) => `${k}=${fmt(v[v.length - 1]!, 2)}`)
        .join(', ')}`,
    );
  }
  relayProcess?.disconnect();
  async function transportRuns(): Promise<void> {
    const udp = await udpCeiling(peer, ports.udpPort, BULK_BYTES);
    record('raw node:dgram ceiling MB/s (no QUIC)', udp.mbps);
    record('raw node:dgram CPU µs/datagram sender', udp.clientUs);
    record('raw node:dgram CPU µs/datagram receiver', udp.serverUs);
    // The floor model: the fastest a driver on this binding and node:dgram could go here is one packet per
    // (dgram cost + quiche/binding cost) on the busier side, each measured in this run.
    const work = measureQuicheWork(certs, QUICHE_WORK_BYTES);
    record('quiche+binding µs/packet sender (no sockets)', work.senderUsPerPacket);
    record('quiche+binding µs/packet receiver (no sockets)', work.receiverUsPerPacket);
    const floorUs = Math.max(udp.clientUs + work.senderUsPerPacket, udp.serverUs + work.receiverUsPerPacket);
    record('model ceiling MB/s (dgram + quiche per packet)', work.streamBytesPerPacket / floorUs);
    const quic = quicTransport(await dial(ports.quicPort), 'quic');
    const session = h2connect(`https://127.0.0.1:${ports.h2Port}`, { ca: certs.caPem, servername: 'h2.cftunnel.com' });
    await once(session, 'connect');
    const h2 = h2Transport(session);
    for (const t of [quic, h2]) {
      const recordBulk = (dir: string, rate: number, cost: Cost): void => {
        const gb = BULK_BYTES / 1e9;
        record(`${t.name} bulk ${dir} MB/s`, rate);
        record(`${t.name} bulk ${dir} CPU s/GB client`, cost.clientUs / 1e6 / gb);
        record(`${t.name} bulk ${dir} CPU s/GB server`, cost.serverUs / 1e6 / gb);
        // Packet counts exist for QUIC only (the peer's count covers its QUIC connections).
        if (cost.clientPackets > 0) {
          record(`${t.name} bulk ${dir} CPU µs/packet client`, cost.clientUs / cost.clientPackets);
          record(`${t.name} bulk ${dir} CPU µs/packet server`, cost.serverUs / cost.serverPackets);
        }
      };
      recordBulk('down', ...(await measured(peer, t, () => bulkDown(t, BULK_BYTES))));
      recordBulk('up', ...(await measured(peer, t, () => bulkUp(t, BULK_BYTES))));
      await streamsPerSecond(t); // warm-up
      const [rate, cost] = await measured(peer, t, () => streamsPerSecond(t));
      record(`${t.name} streams/s (50 in flight)`, rate);
      record(`${t.name} CPU µs/stream client`, cost.clientUs / STREAMS);
      record(`${t.name} CPU µs/stream server`, cost.serverUs / STREAMS);
      if (cost.clientPackets > 0) {
        record(`${t.name} streams CPU µs/packet client`, cost.clientUs / cost.clientPackets);
        record(`${t.name} streams CPU µs/packet server`, cost.serverUs / cost.serverPackets);
      }
      const rtt = await idleRtt(t);
      record(`${t.name} idle RTT p50 ms`, rtt.p50);
      record(`${t.name} idle RTT p99 ms`, rtt.p99);
    }
    await quic.close();
    await h2.close();
  }
  console.log(`\nmedians of ${RUNS} runs (client and server in separate processes, loopback; load ${loadAverage()}):`);
  for (const [key, values] of Object.entries(results)) {
    const digits = key.includes('CPU') || key.includes('µs') || key.includes(' ms') ? 2 : 0;
    console.log(`  ${key.padEnd(44)} ${fmt(median(values), digits).padStart(10)}`);
  }
  // The peer exits on disconnect (so that a --cpu-prof profile gets written).
  const exited = once(peer, 'exit');
  peer.disconnect();
  await exited;
}

await main();
