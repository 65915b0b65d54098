/** Small-GET load straight at an origin service, shared by the origin-path and origin-client benches (issue #19). */
import { setMaxListeners } from 'node:events';
import type { OriginRequest, OriginService } from '../../src/proxy/types.js';

/** Requests in flight. */
export const ORIGIN_LOAD_CONCURRENCY = 32;

/** One small GET as the edge hands it over. */
export function smallOriginRequest(): OriginRequest {
  return {
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
  };
}

/** Sends `n` small GETs through `service`, {@link ORIGIN_LOAD_CONCURRENCY} at a time, each body read to the end. */
export async function driveOrigin(service: OriginService, n: number): Promise<void> {
  const signal = new AbortController().signal;
  // One signal for every request in flight (each round trip listens to it until its response head).
  setMaxListeners(ORIGIN_LOAD_CONCURRENCY * 2, signal);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next++ < n) {
      const res = await service.roundTrip(smallOriginRequest(), signal);
      if (res.body !== null) for await (const _ of res.body) void _;
    }
  };
  await Promise.all(Array.from({ length: ORIGIN_LOAD_CONCURRENCY }, worker));
}

/** Per service: CPU µs per request and req/s of each round. */
export type RoundFigures = Record<string, { cpuUs: number[]; rate: number[] }>;

/**
 * Warms every service up, then runs `rounds` rounds of `perRound` requests through each in turn (interleaved, so
 * machine load hits them alike), measuring this process's CPU per request and the request rate.
 */
export async function interleavedRounds(
  services: Record<string, OriginService>,
  rounds: number,
  perRound: number,
): Promise<RoundFigures> {
  const results: RoundFigures = {};
  for (const name of Object.keys(services)) results[name] = { cpuUs: [], rate: [] };
  for (const service of Object.values(services)) await driveOrigin(service, 2_000);
  for (let round = 0; round < rounds; round++) {
    for (const [name, service] of Object.entries(services)) {
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await driveOrigin(service, perRound);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      results[name]!.cpuUs.push((cpu.user + cpu.system) / perRound);
      results[name]!.rate.push(perRound / wall);
    }
  }
  return results;
}

/** Median of a non-empty list. */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
