/**
 * The origin side of one small request, in one process, A/B interleaved (issue #19): the same `node:http` app reached
 * (a) in-process through the direct exchange (`createNodeOriginService`), (b) in-process through an HTTP client
 * writing HTTP/1.1 into an in-memory socket the server parses again (the previous path, still used for upgrades) and
 * (c) on a loopback port through cftunnel's URL origin client. 32 requests in flight, body read to the end. CPU per
 * request is this process's CPU (client and app together); rounds alternate so machine load hits all three alike.
 *
 * Run: node --import tsx bench/origin-path.bench.ts [rounds] [requestsPerRound]
 */
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpOriginService } from '../src/proxy/http-origin.js';
import { createNodeOriginService, inProcessConnector } from '../src/proxy/in-process/node-origin.js';
import type { OriginRequest, OriginService } from '../src/proxy/types.js';

const CONCURRENCY = 32;
const rounds = Number(process.argv[2] ?? 5);
const perRound = Number(process.argv[3] ?? 20_000);

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`hello ${req.url}\n`);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;

const request = (): OriginRequest => ({
  method: 'GET',
  url: 'https://app.example.com/small?x=1',
  host: 'app.example.com',
  headers: [
    ['Accept', '*/*'],
    ['User-Agent', 'bench'],
    ['Cf-Connecting-Ip', '203.0.113.45'],
    ['X-Forwarded-For', '203.0.113.45'],
    ['X-Forwarded-Proto', 'https'],
  ],
  body: null,
  isWebsocket: false,
  connectorId: '00000000-0000-4000-8000-000000000000',
});

async function drive(service: OriginService, n: number): Promise<void> {
  const signal = new AbortController().signal;
  // One signal for every request in flight (each round trip listens to it until its response head).
  setMaxListeners(CONCURRENCY * 2, signal);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next++ < n) {
      const res = await service.roundTrip(request(), signal);
      if (res.body !== null) for await (const _ of res.body) void _;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

const paths: Record<string, OriginService> = {
  'in-process, direct exchange': createNodeOriginService(server),
  'in-process, HTTP/1.1 over an in-memory socket (before)': new HttpOriginService({
    origin: 'http://in-process.invalid',
    connect: inProcessConnector(server),
  }),
  'app on a port, URL origin client': new HttpOriginService({ origin: `http://127.0.0.1:${port}` }),
};
const results: Record<string, { cpuUs: number[]; rate: number[] }> = {};
for (const name of Object.keys(paths)) results[name] = { cpuUs: [], rate: [] };
for (const service of Object.values(paths)) await drive(service, 2_000);
for (let round = 0; round < rounds; round++) {
  for (const [name, service] of Object.entries(paths)) {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await drive(service, perRound);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    results[name]!.cpuUs.push((cpu.user + cpu.system) / perRound);
    results[name]!.rate.push(perRound / wall);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = results['in-process, direct exchange']!;
console.log(
  `| origin path (${rounds} rounds × ${perRound} requests, c=${CONCURRENCY}) | CPU µs/req (median) | req/s (median) | CPU vs direct |`,
);
console.log('|---|---|---|---|');
for (const [name, r] of Object.entries(results)) {
  console.log(
    `| ${name} | ${median(r.cpuUs).toFixed(1)} | ${Math.round(median(r.rate))} | x${(median(r.cpuUs) / median(base.cpuUs)).toFixed(2)} |`,
  );
}
for (const service of Object.values(paths)) await service.close();
server.close();
