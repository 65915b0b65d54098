/**
 * The URL origin client alone (issue #19): small GETs at c=32 to a `node:http` app in a child process, so this
 * process's CPU is the client's only. Variants run interleaved in one process (A/B); rounds alternate so machine
 * load hits them alike.
 *
 * Run: node --import tsx bench/origin-client.bench.ts [rounds] [requestsPerRound] [variant …]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpOriginService } from '../src/proxy/http-origin.js';
import type { OriginService } from '../src/proxy/types.js';
import { interleavedRounds, median, ORIGIN_LOAD_CONCURRENCY as CONCURRENCY } from './harness/origin-load.js';

if (process.argv[2] === '--origin') {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello ${req.url}\n`);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
  process.on('disconnect', () => process.exit(0));
} else {
  const rounds = Number(process.argv[2] ?? 5);
  const perRound = Number(process.argv[3] ?? 20_000);
  const child = fork(fileURLToPath(import.meta.url), ['--origin'], { execArgv: ['--import', 'tsx'] });
  const [port] = (await once(child, 'message')) as [number];

  const variants: Record<string, () => OriginService> = {
    'node:http client': () => new HttpOriginService({ origin: `http://127.0.0.1:${port}` }, { http1Client: 'node' }),
    'lean client': () => new HttpOriginService({ origin: `http://127.0.0.1:${port}` }, { http1Client: 'lean' }),
  };
  const chosen = process.argv.slice(4).length > 0 ? process.argv.slice(4) : Object.keys(variants);
  const services = Object.fromEntries(chosen.map((name) => [name, variants[name]!()]));
  const results = await interleavedRounds(services, rounds, perRound);
  console.log(
    `| origin client (${rounds} rounds × ${perRound} requests, c=${CONCURRENCY}) | client CPU µs/req (median) | runs | req/s (median) |`,
  );
  console.log('|---|---|---|---|');
  for (const [name, r] of Object.entries(results))
    console.log(
      `| ${name} | ${median(r.cpuUs).toFixed(1)} | ${r.cpuUs.map((x) => x.toFixed(1)).join(' / ')} | ${Math.round(median(r.rate))} |`,
    );
  for (const service of Object.values(services)) await service.close();
  child.disconnect();
}
