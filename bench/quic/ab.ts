/**
 * A/B CPU cost of two QUIC driver implementations (directories holding an `index.ts` like src/transport/quic, e.g. a
 * `git show`-extracted copy of an older version), measured interleaved so that both see the same machine load.
 * Usage: node --import tsx bench/quic/ab.ts dirA dirB [rounds]; env AB_MB (bulk size), AB_ONLY=down, AB_VERBOSE,
 * AB_PIN=0 (leave both processes unpinned), AB_PEER_ARGS (extra node flags for the server process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { generateEdgeCertificates } from '../../src/local-edge/certs.js';
import type { connectQuic as ConnectQuic } from '../../src/transport/quic/index.js';
import { DOWNLOAD_PREFIX, countBytes, pinProcesses, writeBulk, type PeerSample } from './shared.js';

const [dirA, dirB, roundsArg] = process.argv.slice(2);
const BYTES = Number(process.env.AB_MB ?? 32) * 1024 * 1024;
const STREAMS = 5000;
const certs = await generateEdgeCertificates();
const cpu = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function measure(dir: string): Promise<Record<string, number>> {
  const impl = pathToFileURL(resolve(dir, 'index.ts')).href;
  const { connectQuic } = (await import(impl)) as { connectQuic: typeof ConnectQuic };
  const peer = fork(fileURLToPath(new URL('./ab-peer.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx', ...(process.env.AB_PEER_ARGS?.split(' ').filter(Boolean) ?? [])],
  });
  peer.send({ certPem: certs.certPem, keyPem: certs.keyPem, impl });
  // Each side on its own core, as in bench/quic.bench.ts.
  if (process.env.AB_PIN !== '0') pinProcesses(peer);
  const [{ port }] = (await once(peer, 'message')) as [{ port: number }];
  const conn = await connectQuic({ host: '127.0.0.1', port, serverName: 'quic.cftunnel.com', ca: certs.caPem });
  const sample = async (): Promise<PeerSample> => {
    const r = once(peer, 'message') as Promise<[PeerSample]>;
    peer.send({ cmd: 'sample' });
    return (await r)[0];
  };
  const out: Record<string, number> = {};
  const phase = async (name: string, units: number, unitName: string, work: () => Promise<unknown>): Promise<void> => {
    const p0 = await sample();
    const c0 = cpu();
    const k0 = (conn.packetsSent ?? 0) + (conn.packetsReceived ?? 0);
    await work();
    const c = cpu() - c0;
    const k = (conn.packetsSent ?? 0) + (conn.packetsReceived ?? 0) - k0;
    const p1 = await sample();
    const s = p1.cpu.user + p1.cpu.system - p0.cpu.user - p0.cpu.system;
    out[`${name} client ${unitName}`] = c / units;
    out[`${name} server ${unitName}`] = s / units;
    if (k > 0) out[`${name} client µs/pkt`] = c / k;
    if (process.env.AB_VERBOSE !== undefined)
      console.log(name, 'client sent', conn.packetsSent, 'received', conn.packetsReceived);
    if (p1.packets - p0.packets > 0) out[`${name} server µs/pkt`] = s / (p1.packets - p0.packets);
  };
  const exchange = async (body: string | Buffer, up?: number): Promise<number> => {
    const st = await conn.openStream();
    const a = countBytes(st);
    if (up === undefined) st.end(body);
    else await writeBulk(st, up);
    return a;
  };
  if (process.env.AB_ONLY === undefined || process.env.AB_ONLY === 'down')
    await phase('down', (BYTES / 1e9) * 1e6, 's/GB', () => exchange(`${DOWNLOAD_PREFIX}${BYTES}`));
  if (process.env.AB_ONLY === undefined) await phase('up', (BYTES / 1e9) * 1e6, 's/GB', () => exchange('', BYTES));
  const streams = async (): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next++ < STREAMS) await exchange('GET /hello HTTP/1.1 small request');
      }),
    );
  };
  if (process.env.AB_ONLY === undefined) {
    await streams();
    await phase('streams', STREAMS, 'µs/stream', streams);
  }
  await conn.close();
  const exited = once(peer, 'exit');
  peer.disconnect();
  await exited;
  return out;
}

const rounds = Number(roundsArg ?? 2);
const all: Record<string, Record<string, number[]>> = { A: {}, B: {} };
for (let r = 0; r < rounds; r++) {
  for (const [label, dir] of [
    ['A', dirA!],
    ['B', dirB!],
  ] as const) {
    const m = await measure(dir);
    for (const [k, v] of Object.entries(m)) (all[label]![k] ??= []).push(v);
  }
}
const med = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
console.log(
  `${'metric'.padEnd(28)} ${'A'.padStart(8)} ${'B'.padStart(8)}   (A=${dirA}, B=${dirB}, ${rounds} rounds, medians)`,
);
for (const k of Object.keys(all.B!))
  console.log(
    `${k.padEnd(28)} ${(all.A![k] ? med(all.A![k]!) : NaN).toFixed(2).padStart(8)} ${med(all.B![k]!).toFixed(2).padStart(8)}`,
  );
