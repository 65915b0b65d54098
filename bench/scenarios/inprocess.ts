/**
 * `inprocess`: what a Node developer chooses between (issue #19). The same small `node:http` app served three ways,
 * small GETs at 32 visitor connections through the local edge:
 * - `cloudflared → port`: the app listening on a loopback port behind a real cloudflared (`CFTUNNEL_CLOUDFLARED`);
 * - `cftunnel → port`: the same, behind cftunnel's URL origin path;
 * - `cftunnel in-process`: the app handed to cftunnel as `origin: server`, no port, no HTTP hop.
 * CPU per request counts the connector and the app together (one process in-process, two otherwise).
 */
import { cloudflaredBinary } from '../harness/cloudflared.js';
import type { Figure } from '../harness/report.js';
import { MB, withStack, type Scenario, type ScenarioContext } from '../harness/scenario.js';
import { SMALL_LOAD_CONNECTIONS, warmedSmallLoad } from '../harness/small-load.js';
import type { StackOptions } from '../harness/stack.js';

/** Issue #19: in-process ≥ 2x the app behind cloudflared, ≥ 1.5x cftunnel's own path to it through a URL. */
const TARGET_VS_CLOUDFLARED = 2;
const TARGET_VS_URL = 1.5;

interface Leg {
  reqPerSec: number;
  p99: number;
  cpuPerReqUs: number;
  peakRssMb: number;
  errors: number;
  /** CPU the local edge and the load generator (the driver) spent per request: the machine's other two processes. */
  edgeAndLoadCpuPerReqUs: number;
}

async function leg(
  ctx: ScenarioContext,
  connector: StackOptions['connector'],
  protocol: StackOptions['protocol'],
  label: string,
): Promise<Leg> {
  return withStack(ctx, { protocol, origin: 'small', connector }, async (stack) => {
    const { result, procs } = await warmedSmallLoad(ctx, stack, label);
    const cpu = (procs.connector?.cpuSeconds ?? 0) + (procs.origin?.cpuSeconds ?? 0);
    return {
      reqPerSec: result.reqPerSec,
      p99: result.p99,
      cpuPerReqUs: (cpu * 1e6) / Math.max(1, result.requests),
      peakRssMb: (procs.connector?.rss.max ?? NaN) / MB,
      errors: result.errors,
      edgeAndLoadCpuPerReqUs:
        (((procs.edge?.cpuSeconds ?? 0) + (procs.driver?.cpuSeconds ?? 0)) * 1e6) / Math.max(1, result.requests),
    };
  });
}

async function run(ctx: ScenarioContext): Promise<Figure[]> {
  const binary = cloudflaredBinary();
  if ('skipped' in binary) ctx.log(`cloudflared leg skipped: ${binary.skipped}`);
  const out: Figure[] = [];
  for (const protocol of ctx.protocols) {
    const behindCloudflared =
      'path' in binary
        ? await leg(ctx, { kind: 'cloudflared', binary: binary.path }, protocol, 'app on a port behind cloudflared')
        : undefined;
    const viaUrl = await leg(ctx, { kind: 'cftunnel' }, protocol, 'app on a port behind cftunnel');
    const inProcess = await leg(ctx, { kind: 'cftunnel', inProcess: true }, protocol, 'app in-process in cftunnel');
    const base = { scenario: 'inprocess', leg: `c=${SMALL_LOAD_CONNECTIONS}`, protocol };
    const baselines = (k: keyof Leg): Record<string, number> => ({
      ...(behindCloudflared === undefined ? {} : { 'cloudflared → port': behindCloudflared[k] }),
      'cftunnel → port': viaUrl[k],
    });
    const rateTarget = Math.max(
      viaUrl.reqPerSec * TARGET_VS_URL,
      (behindCloudflared?.reqPerSec ?? 0) * TARGET_VS_CLOUDFLARED,
    );
    out.push(
      {
        ...base,
        metric: 'in-process req/s',
        unit: 'req/s',
        value: inProcess.reqPerSec,
        baselines: baselines('reqPerSec'),
        target: { op: '>=', value: rateTarget },
      },
      {
        ...base,
        metric: 'in-process p99',
        unit: 'ms',
        value: inProcess.p99,
        baselines: baselines('p99'),
        target: behindCloudflared === undefined ? undefined : { op: '<=', value: behindCloudflared.p99 },
      },
      {
        ...base,
        metric: 'CPU per req (connector + app)',
        unit: 'µs/req',
        value: inProcess.cpuPerReqUs,
        baselines: baselines('cpuPerReqUs'),
      },
      {
        // On a 2-core machine the edge and the load generator share the cores with the connector: where their CPU per
        // request exceeds the connector's, they, not the connector, bound req/s.
        ...base,
        metric: 'CPU per req (edge + load generator)',
        unit: 'µs/req',
        value: inProcess.edgeAndLoadCpuPerReqUs,
        baselines: baselines('edgeAndLoadCpuPerReqUs'),
      },
      {
        ...base,
        metric: 'connector peak RSS',
        unit: 'MB',
        value: inProcess.peakRssMb,
        baselines: baselines('peakRssMb'),
      },
      { ...base, metric: 'errors', unit: '', value: inProcess.errors, baselines: baselines('errors') },
    );
  }
  return out;
}

/** The `inprocess` scenario. */
export const inprocess: Scenario = {
  name: 'inprocess',
  description: 'the same app in-process in cftunnel vs on a port behind cftunnel and behind cloudflared (c=32)',
  run,
};
