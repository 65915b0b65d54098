/**
 * `bulk`: one big download and one big upload through one stream. Baselines: the same transfer straight at the
 * origin, raw node:tls and raw node:http2 over TLS (the legs a tunnel stream rides on).
 */
import { closeH2Sessions, connectH2Sessions } from '../harness/h2-load.js';
import { withRawServer } from '../harness/raw.js';
import { RawTlsOp } from '../harness/raw-tls.js';
import type { Figure } from '../harness/report.js';
import {
  MB,
  measured,
  memoryFigures,
  processFigures,
  withStack,
  type Scenario,
  type ScenarioContext,
} from '../harness/scenario.js';
import { h2Transfer, httpDownload, httpUpload, tlsTransfer, type TransferFigures } from '../harness/transfer.js';

/** The 1 GB each way; `--size` shrinks it for quick runs. */
const DEFAULT_SIZE_BYTES = 1000 * MB;
/** Issue target, both directions. */
const TARGET_MB_PER_SEC = 100;
/** Issue #19 target for the 1,000-WebSocket and bulk scenarios. */
const TARGET_RSS_UNDER_LOAD_MB = 150;

type Direction = 'download' | 'upload';
const DIRECTIONS: Direction[] = ['download', 'upload'];

async function baselines(ctx: ScenarioContext, bytes: number): Promise<Record<Direction, Record<string, number>>> {
  const out: Record<Direction, Record<string, number>> = { download: {}, upload: {} };
  await withRawServer(ctx, async (raw) => {
    for (const direction of DIRECTIONS) {
      ctx.log(`node:tls ${direction} baseline, ${bytes / MB} MB`);
      out[direction]['node:tls'] = (
        await tlsTransfer(raw.tlsPort, raw.caPem, direction === 'download' ? RawTlsOp.Download : RawTlsOp.Upload, bytes)
      ).mbPerSec;
      const [session] = await connectH2Sessions(raw.h2Port, raw.caPem, 1);
      try {
        ctx.log(`node:http2 ${direction} baseline, ${bytes / MB} MB`);
        out[direction]['node:http2'] = (await h2Transfer(session!, direction, bytes)).mbPerSec;
      } finally {
        await closeH2Sessions([session!]);
      }
    }
  });
  return out;
}

const transfer = (direction: Direction, baseUrl: string, bytes: number): Promise<TransferFigures> =>
  direction === 'download' ? httpDownload(baseUrl, bytes) : httpUpload(baseUrl, bytes);

async function run(ctx: ScenarioContext): Promise<Figure[]> {
  const bytes = ctx.sizeBytes ?? DEFAULT_SIZE_BYTES;
  const base = await baselines(ctx, bytes);
  const out: Figure[] = [];
  for (const protocol of ctx.protocols) {
    await withStack(ctx, { protocol, origin: 'large' }, async (stack) => {
      for (const direction of DIRECTIONS) {
        if (base[direction]['origin direct'] === undefined) {
          ctx.log(`origin direct ${direction}, ${bytes / MB} MB`);
          base[direction]['origin direct'] = (await transfer(direction, stack.originUrl, bytes)).mbPerSec;
        }
        ctx.log(`${protocol} tunnel ${direction}, ${bytes / MB} MB`);
        const { result, procs } = await measured(stack, () => transfer(direction, stack.visitorUrl, bytes));
        const leg = { scenario: 'bulk', leg: direction, protocol };
        out.push({
          ...leg,
          metric: 'throughput',
          unit: 'MB/s',
          value: result.mbPerSec,
          baselines: base[direction],
          target: { op: '>=', value: TARGET_MB_PER_SEC },
        });
        const cpu = procs.connector?.cpuSeconds;
        if (cpu !== undefined)
          out.push({ ...leg, metric: 'connector CPU per GB', unit: 's/GB', value: cpu / (bytes / 1e9), baselines: {} });
        out.push(...processFigures(leg, procs, result.seconds, TARGET_RSS_UNDER_LOAD_MB));
        out.push(...memoryFigures(leg, await stack.connectorMemory()));
      }
    });
  }
  return out;
}

/** The `bulk` scenario. */
export const bulk: Scenario = {
  name: 'bulk',
  description: '1 GB download and 1 GB upload through one stream (MB/s, connector CPU s/GB)',
  run,
};
