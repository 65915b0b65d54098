/**
 * `bodies`: 10k requests carrying 1 MB bodies (half uploads, half downloads) through the tunnel; the connector's RSS
 * is sampled through the run and must stay flat. Baseline: the same load straight at the origin.
 */
import { autocannonLoad, type HttpLoadOptions } from '../harness/http-load.js';
import type { Figure } from '../harness/report.js';
import { UPLOAD_PATH, downloadPath } from '../harness/routes.js';
import {
  MB,
  measured,
  memoryFigures,
  processFigures,
  withStack,
  type Scenario,
  type ScenarioContext,
} from '../harness/scenario.js';

const DEFAULT_REQUESTS = 10_000;
const BODY_BYTES = 1 * MB;
/** Visitor connections: enough to keep every HA connection busy with several bodies at once. */
const CONNECTIONS = 16;
const TARGET_RSS_UNDER_LOAD_MB = 90;
/** Where in the run the warmed-up RSS is read. */
const WARM_FRACTION = 0.2;

function sampleAt(samples: number[], fraction: number): number {
  return samples[Math.min(samples.length - 1, Math.floor(samples.length * fraction))] ?? NaN;
}

function load(url: string, amount: number): HttpLoadOptions {
  const body = Buffer.alloc(BODY_BYTES, 0x62);
  return {
    url,
    connections: CONNECTIONS,
    amount,
    timeoutSeconds: 60,
    requests: [
      { method: 'POST', path: UPLOAD_PATH, body, headers: { 'content-type': 'application/octet-stream' } },
      { method: 'GET', path: downloadPath(BODY_BYTES) },
    ],
  };
}

async function run(ctx: ScenarioContext): Promise<Figure[]> {
  const amount = ctx.count ?? DEFAULT_REQUESTS;
  const baselines: Record<string, number> = {};
  const out: Figure[] = [];
  for (const protocol of ctx.protocols) {
    await withStack(ctx, { protocol, origin: 'large' }, async (stack) => {
      if (baselines['origin direct'] === undefined) {
        ctx.log(`origin direct, ${amount} requests with 1 MB bodies`);
        baselines['origin direct'] = (await autocannonLoad(load(stack.originUrl, amount))).reqPerSec;
      }
      ctx.log(`${protocol} tunnel, ${amount} requests with 1 MB bodies`);
      const { result, procs } = await measured(stack, () => autocannonLoad(load(stack.visitorUrl, amount)));
      const leg = { scenario: 'bodies', leg: `${amount} × 1 MB`, protocol };
      out.push(
        { ...leg, metric: 'req/s', unit: 'req/s', value: result.reqPerSec, baselines },
        {
          ...leg,
          metric: 'body MB/s',
          unit: 'MB/s',
          value: (result.reqPerSec * BODY_BYTES) / MB,
          baselines: { 'origin direct': (baselines['origin direct']! * BODY_BYTES) / MB },
        },
        { ...leg, metric: 'errors', unit: '', value: result.errors, baselines: {} },
      );
      const c = procs.connector;
      if (c !== undefined) {
        out.push(
          { ...leg, metric: 'connector RSS first', unit: 'MB', value: c.rss.first / MB, baselines: {} },
          // Past the warm-up (pools, JIT, heap sizing): growth from here to `last` is what "flat" is about.
          {
            ...leg,
            metric: 'connector RSS at 20 % of the run',
            unit: 'MB',
            value: sampleAt(c.rss.samples, WARM_FRACTION) / MB,
            baselines: {},
          },
          { ...leg, metric: 'connector RSS last', unit: 'MB', value: c.rss.last / MB, baselines: {} },
        );
      }
      out.push(
        ...processFigures(leg, procs, result.seconds, TARGET_RSS_UNDER_LOAD_MB, {
          count: result.requests,
          unit: 'req',
        }),
        ...memoryFigures(leg, await stack.connectorMemory()),
      );
    });
  }
  return out;
}

/** The `bodies` scenario. */
export const bodies: Scenario = {
  name: 'bodies',
  description: '10k requests with 1 MB bodies (RSS first/last/max must stay flat)',
  run,
};
