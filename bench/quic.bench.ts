/**
 * QUIC transport benchmark: client here, server in a forked process (a second process for the lossy relay would
 * steal a core on a 2-core box; the relay lives in the peer process). Every QUIC figure is printed beside
 * node:http2 over TLS doing the same work in the same run. Usage: node --import tsx bench/quic.bench.ts [runs]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateEdgeCertificates } from '../src/edge-local/certs.js';
import { connectQuic, type QuicConnection } from '../src/transport/quic/index.js';
import { DOWNLOAD_PREFIX, countBytes, writeBulk } from './quic/shared.js';

const RUNS = Number(process.argv[2] ?? 3);
const BULK_BYTES = 128 * 1024 * 1024;
const LOSSY_BULK_BYTES = 64 * 1024 * 1024;
const STREAMS = 10_000;
const IN_FLIGHT = 50;
const RTT_SAMPLES = 2_000;
const SMALL = Buffer.from('GET /hello HTTP/1.1 small request');

/** One transport under test: open a request, send a body, get the whole answer back. */
interface Transport {
  name: string;
  /** Sends `body` (or `uploadBytes` of filler) and resolves with the response byte count. */
  exchange(body: Buffer | string, uploadBytes?: number): Promise<number>;
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

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number, d = 1): string => x.toFixed(d);

async function main(): Promise<void> {
  const certs = await generateEdgeCertificates();
  const peer = fork(fileURLToPath(new URL('./quic/peer.ts', import.meta.url)), { execArgv: ['--import', 'tsx'] });
  peer.send({ certPem: certs.certPem, keyPem: certs.keyPem, relayDropRate: 0.01 });
  const [ports] = (await once(peer, 'message')) as [{ quicPort: number; h2Port: number; relayPort: number }];
  const dial = (port: number): Promise<QuicConnection> =>
    connectQuic({ host: '127.0.0.1', port, serverName: 'quic.cftunnel.com', ca: certs.caPem });

  const results: Record<string, number[]> = {};
  const record = (key: string, value: number): void => void (results[key] ??= []).push(value);
  for (let run = 0; run < RUNS; run++) {
    const quic = quicTransport(await dial(ports.quicPort), 'quic');
    const session = h2connect(`https://127.0.0.1:${ports.h2Port}`, { ca: certs.caPem, servername: 'h2.cftunnel.com' });
    await once(session, 'connect');
    const h2 = h2Transport(session);
    for (const t of [quic, h2]) {
      record(`${t.name} bulk down MB/s`, await bulkDown(t, BULK_BYTES));
      record(`${t.name} bulk up MB/s`, await bulkUp(t, BULK_BYTES));
      await streamsPerSecond(t); // warm-up
      record(`${t.name} streams/s (50 in flight)`, await streamsPerSecond(t));
      const rtt = await idleRtt(t);
      record(`${t.name} idle RTT p50 ms`, rtt.p50);
      record(`${t.name} idle RTT p99 ms`, rtt.p99);
    }
    await quic.close();
    await h2.close();
    const lossy = quicTransport(await dial(ports.relayPort), 'quic');
    record('quic bulk down MB/s, 1 % loss', await bulkDown(lossy, LOSSY_BULK_BYTES));
    record('quic bulk up MB/s, 1 % loss', await bulkUp(lossy, LOSSY_BULK_BYTES));
    await lossy.close();
    console.log(`run ${run + 1}: ${Object.entries(results).map(([k, v]) => `${k}=${fmt(v[v.length - 1]!, 2)}`).join(', ')}`);
  }
  console.log(`\nmedians of ${RUNS} runs (client and server in separate processes, loopback):`);
  for (const [key, values] of Object.entries(results)) console.log(`  ${key.padEnd(40)} ${fmt(median(values), key.includes('ms') ? 2 : 0).padStart(10)}`);
  peer.disconnect();
  peer.kill();
}

await main();
