/**
 * `versus`: cftunnel beside a real cloudflared in the same run, through the same local edge, to the same origin
 * (issue #19). Per protocol: both connectors idle with their HA connections (idle RSS), then small GETs at 32 visitor
 * connections (req/s, p99, connector CPU per request, connector peak RSS). The two take turns within a run, and
 * `--runs n` repeats the pair for medians. Without `CFTUNNEL_CLOUDFLARED` the cloudflared side is skipped with a
 * message and the cftunnel figures are printed alone.
 */
import { cloudflaredBinary } from '../harness/cloudflared.js';
import { readProc } from '../harness/procfs.js';
import type { Figure } from '../harness/report.js';
import { MB, memoryFigures, withStack, type ScenarioContext, type Scenario } from '../harness/scenario.js';
import { SMALL_LOAD_CONNECTIONS, warmedSmallLoad } from '../harness/small-load.js';
import type { Stack, StackOptions } from '../harness/stack.js';

/** Registration, config and the first keep-alives settle before idle RSS is read. */
const IDLE_SETTLE_MS = 5000;

/** Issue #19 targets, as ratios to cloudflared and absolute memory. */
const TARGET_CPU_RATIO = 0.8;
const TARGET_RATE_RATIO = 1.1;
const TARGET_IDLE_RSS_MB = 60;
const TARGET_PEAK_RSS_MB = 100;

/** What one connector did in one round. */
interface Round {
  idleRssMb: number;
  reqPerSec: number;
  p99: number;
  cpuPerReqUs: number;
  peakRssMb: number;
  errors: number;
  memory: NodeJS.MemoryUsage | undefined;
}

async function round(
  ctx: ScenarioContext,
  options: Omit<StackOptions, 'haConnections' | 'profile' | 'mode'>,
  label: string,
): Promise<Round> {
  return withStack(ctx, options, async (stack: Stack) => {
    await new Promise<void>((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
    const idleRss = readProc(stack.pids.connector)?.rss ?? NaN;
    const { result, procs } = await warmedSmallLoad(ctx, stack, label);
    const c = procs.connector!;
    return {
      idleRssMb: idleRss / MB,
      reqPerSec: result.reqPerSec,
      p99: result.p99,
      cpuPerReqUs: (c.cpuSeconds * 1e6) / Math.max(1, result.requests),
      peakRssMb: c.rss.max / MB,
      errors: result.errors,
      memory: await stack.connectorMemory(),
    };
  });
}

async function run(ctx: ScenarioContext): Promise<Figure[]> {
  const binary = cloudflaredBinary();
  if ('skipped' in binary) ctx.log(`cloudflared baseline skipped: ${binary.skipped}`);
  const out: Figure[] = [];
  for (const protocol of ctx.protocols) {
    const theirs =
      'path' in binary
        ? await round(
            ctx,
            { protocol, origin: 'small', connector: { kind: 'cloudflared', binary: binary.path } },
            'cloudflared',
          )
        : undefined;
    const ours = await round(ctx, { protocol, origin: 'small' }, 'cftunnel');
    const base = { scenario: 'versus', leg: `c=${SMALL_LOAD_CONNECTIONS}`, protocol };
    const vs = (k: keyof Omit<Round, 'memory'>): Record<string, number> =>
      theirs === undefined ? {} : { cloudflared: theirs[k] };
    const ratioTarget = (k: 'reqPerSec' | 'cpuPerReqUs' | 'p99', op: '>=' | '<=', ratio: number): Figure['target'] =>
      theirs === undefined ? undefined : { op, value: theirs[k] * ratio };
    out.push(
      {
        ...base,
        metric: 'req/s',
        unit: 'req/s',
        value: ours.reqPerSec,
        baselines: vs('reqPerSec'),
        target: ratioTarget('reqPerSec', '>=', TARGET_RATE_RATIO),
      },
      {
        ...base,
        metric: 'p99',
        unit: 'ms',
        value: ours.p99,
        baselines: vs('p99'),
        target: ratioTarget('p99', '<=', 1),
      },
      {
        ...base,
        metric: 'connector CPU per req',
        unit: 'µs/req',
        value: ours.cpuPerReqUs,
        baselines: vs('cpuPerReqUs'),
        target: ratioTarget('cpuPerReqUs', '<=', TARGET_CPU_RATIO),
      },
      {
        ...base,
        metric: 'connector idle RSS',
        unit: 'MB',
        value: ours.idleRssMb,
        baselines: vs('idleRssMb'),
        target: { op: '<=', value: TARGET_IDLE_RSS_MB },
      },
      {
        ...base,
        metric: 'connector peak RSS under load',
        unit: 'MB',
        value: ours.peakRssMb,
        baselines: vs('peakRssMb'),
        target: { op: '<=', value: TARGET_PEAK_RSS_MB },
      },
      { ...base, metric: 'errors', unit: '', value: ours.errors, baselines: vs('errors') },
      ...memoryFigures(base, ours.memory),
    );
  }
  return out;
}

/** The `versus` scenario. */
export const versus: Scenario = {
  name: 'versus',
  description:
    'cftunnel beside cloudflared (CFTUNNEL_CLOUDFLARED): small GETs c=32, CPU per request, idle and peak RSS',
  run,
};
