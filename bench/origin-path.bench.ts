/**
 * The origin side of one small request, in one process, A/B interleaved (issue #19): the same `node:http` app reached
 * (a) in-process through the direct exchange (`createNodeOriginService`), (b) in-process through an HTTP client
 * writing HTTP/1.1 into an in-memory socket the server parses again (the previous path, still used for upgrades) and
 * (c) on a loopback port through cftunnel's URL origin client. 32 requests in flight, body read to the end. CPU per
 * request is this process's CPU (client and app together); rounds alternate so machine load hits all three alike.
 *
 * Run: node --import tsx bench/origin-path.bench.ts [rounds] [requestsPerRound]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpOriginService } from '../src/proxy/http-origin.js';
import { createNodeOriginService, inProcessConnector } from '../src/proxy/in-process/node-origin.js';
import type { OriginService } from '../src/proxy/types.js';
import { interleavedRounds, median, ORIGIN_LOAD_CONCURRENCY as CONCURRENCY } from './harness/origin-load.js';

const rounds = Number(process.argv[2] ?? 5);
const perRound = Number(process.argv[3] ?? 20_000);

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`hello ${req.url}\n`);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;

const paths: Record<string, OriginService> = {
  'in-process, direct exchange': createNodeOriginService(server),
  'in-process, HTTP/1.1 over an in-memory socket (before)': new HttpOriginService({
    origin: 'http://in-process.invalid',
    connect: inProcessConnector(server),
  }),
  'app on a port, URL origin client': new HttpOriginService({ origin: `http://127.0.0.1:${port}` }),
};
const results = await interleavedRounds(paths, rounds, perRound);
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
