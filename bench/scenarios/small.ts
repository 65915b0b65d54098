/**
 * `small`: small GETs through the tunnel at 1, 32 and 256 visitor connections. Baselines: the same autocannon load
 * straight at the origin, and raw node:http2 over TLS with as many requests in flight.
 */
import { closeH2Sessions, connectH2Sessions, h2Load } from '../harness/h2-load.js';
import { autocannonLoad } from '../harness/http-load.js';
import type { RateFigures } from '../harness/latency.js';
import { withRawServer } from '../harness/raw.js';
import type { Figure } from '../harness/report.js';
import { measured, processFigures, withStack, type Scenario, type ScenarioContext } from '../harness/scenario.js';

/** Visitor connections of the three legs. */
const CONNECTIONS = [1, 32, 256];
const DEFAULT_DURATION_SECONDS = 10;
/** JIT and connection pools warm up before anything is measured. */
const WARMUP_SECONDS = 2;
/** Issue targets at 32 connections. */
const TARGET_REQ_PER_SEC = 5000;
const TARGET_P99_MS = 20;
/** Issue #19 target: peak RSS at 32 concurrent small requests. */
const TARGET_RSS_UNDER_LOAD_MB = 100;

function rateFigures(
  base: Pick<Figure, 'scenario' | 'leg' | 'protocol'>,
  r: RateFigures,
  baselines: Record<string, RateFigures>,
  c: number,
): Figure[] {
  const pick = (k: 'reqPerSec' | 'p50' | 'p99' | 'p999'): Record<string, number> =>
    Object.fromEntries(Object.entries(baselines).map(([name, b]) => [name, b[k]]));
  const at32 = c === 32;
  return [
    {
      ...base,
      metric: 'req/s',
      unit: 'req/s',
      value: r.reqPerSec,
      baselines: pick('reqPerSec'),
      target: at32 ? { op: '>=', value: TARGET_REQ_PER_SEC } : undefined,
    },
    { ...base, metric: 'p50', unit: 'ms', value: r.p50, baselines: pick('p50') },
    {
      ...base,
      metric: 'p99',
      unit: 'ms',
      value: r.p99,
      baselines: pick('p99'),
      target: at32 ? { op: '<=', value: TARGET_P99_MS } : undefined,
    },
    { ...base, metric: 'p99.9', unit: 'ms', value: r.p999, baselines: pick('p999') },
    { ...base, metric: 'errors', unit: '', value: r.errors, baselines: {} },
  ];
}

async function run(ctx: ScenarioContext): Promise<Figure[]> {
  const seconds = ctx.durationSeconds ?? DEFAULT_DURATION_SECONDS;
  const baselines = new Map<number, Record<string, RateFigures>>();
  await withRawServer(ctx, async (raw) => {
    for (const c of CONNECTIONS) {
      const sessions = await connectH2Sessions(raw.h2Port, raw.caPem, Math.min(c, ctx.haConnections));
      try {
        await h2Load(sessions, '/', c, WARMUP_SECONDS);
        ctx.log(`node:http2 baseline, ${c} in flight, ${seconds} s`);
        baselines.set(c, { 'node:http2': await h2Load(sessions, '/', c, seconds) });
      } finally {
        await closeH2Sessions(sessions);
      }
    }
  });
  const out: Figure[] = [];
  for (const protocol of ctx.protocols) {
    await withStack(ctx, { protocol, origin: 'small' }, async (stack) => {
      if (!baselines.get(CONNECTIONS[0]!)!['origin direct']) {
        for (const c of CONNECTIONS) {
          ctx.log(`origin direct, ${c} connections, ${seconds} s`);
          baselines.get(c)!['origin direct'] = await autocannonLoad({
            url: stack.originUrl,
            connections: c,
            durationSeconds: seconds,
          });
        }
      }
      await autocannonLoad({ url: stack.visitorUrl, connections: 32, durationSeconds: WARMUP_SECONDS });
      for (const c of CONNECTIONS) {
        ctx.log(`${protocol} tunnel, ${c} connections, ${seconds} s`);
        const { result, procs } = await measured(stack, () =>
          autocannonLoad({ url: stack.visitorUrl, connections: c, durationSeconds: seconds }),
        );
        const base = { scenario: 'small', leg: `c=${c}`, protocol };
        out.push(
          ...rateFigures(base, result, baselines.get(c)!, c),
          ...processFigures(base, procs, result.seconds, TARGET_RSS_UNDER_LOAD_MB, {
            count: result.requests,
            unit: 'req',
          }),
        );
      }
    });
  }
  return out;
}

/** The `small` scenario. */
export const small: Scenario = {
  name: 'small',
  description: 'small GETs at 1, 32 and 256 connections (req/s, p50/p99/p99.9)',
  run,
};
