/** `websocket`: 1000 concurrent WebSockets through the tunnel echoing messages. Baseline: the same straight at the origin. */
import type { Figure } from '../harness/report.js';
import { memoryFigures, processFigures, withStack, type Scenario, type ScenarioContext } from '../harness/scenario.js';
import type { Stack } from '../harness/stack.js';
import { websocketLoad } from '../harness/ws-load.js';
import { ProcSampler } from '../harness/procfs.js';

const DEFAULT_SOCKETS = 1000;
const DEFAULT_DURATION_SECONDS = 10;
/** Issue #19 target for the 1,000-WebSocket and bulk scenarios. */
const TARGET_RSS_UNDER_LOAD_MB = 150;

const wsUrl = (httpUrl: string): string => `${httpUrl.replace(/^http/, 'ws')}/ws`;

async function run(ctx: ScenarioContext): Promise<Figure[]> {
  const sockets = ctx.count ?? DEFAULT_SOCKETS;
  const seconds = ctx.durationSeconds ?? DEFAULT_DURATION_SECONDS;
  const baselines: Record<string, number> = {};
  const out: Figure[] = [];
  for (const protocol of ctx.protocols) {
    await withStack(ctx, { protocol, origin: 'large' }, async (stack) => {
      if (baselines['origin direct'] === undefined) {
        ctx.log(`origin direct, ${sockets} WebSockets, ${seconds} s`);
        baselines['origin direct'] = (await websocketLoad(wsUrl(stack.originUrl), sockets, seconds)).msgsPerSec;
      }
      ctx.log(`${protocol} tunnel, ${sockets} WebSockets, ${seconds} s`);
      // Sample only once every socket is open: the ramp-up measures upgrades, not message flow.
      let sampler: ProcSampler | undefined;
      // Where the connector's memory goes with every socket open (read as the message flow starts).
      let memory: ReturnType<Stack['connectorMemory']> | undefined;
      const result = await websocketLoad(wsUrl(stack.visitorUrl), sockets, seconds, () => {
        sampler = new ProcSampler({ ...stack.pids, driver: process.pid });
        memory = stack.connectorMemory();
      });
      const procs = sampler?.stop() ?? {};
      const leg = { scenario: 'websocket', leg: `${sockets} sockets`, protocol };
      out.push({ ...leg, metric: 'messages', unit: 'msg/s', value: result.msgsPerSec, baselines });
      out.push(
        ...processFigures(leg, procs, result.seconds, TARGET_RSS_UNDER_LOAD_MB, {
          count: result.messages,
          unit: 'msg',
        }),
        ...memoryFigures(leg, await memory),
      );
    });
  }
  return out;
}

/** The `websocket` scenario. */
export const websocket: Scenario = {
  name: 'websocket',
  description: '1000 concurrent WebSockets echoing messages (msg/s, connector RSS)',
  run,
};
