/**
 * `idle`: the connector with its HA connections and no traffic for a minute. Memory and CPU from /proc; the bytes
 * on the wire from a counting relay between connector and edge. Baselines: a bare Node process's memory, and the
 * traffic cloudflared's 1 s QUIC keep-alive costs.
 */
import { startChild } from '../harness/children.js';
import { ProcSampler, readProc } from '../harness/procfs.js';
import type { Figure } from '../harness/report.js';
import { MB, memoryFigures, withStack, type Scenario, type ScenarioContext } from '../harness/scenario.js';

const DEFAULT_DURATION_SECONDS = 60;
/** Let registration, the config push and the first keep-alives settle before the window opens. */
const SETTLE_MS = 3000;
/** Issue #19 target (bare Node is ~45 MB). */
const TARGET_IDLE_RSS_MB = 60;
/**
 * cloudflared issue #1415: an idle 4-connection tunnel moves ~20 MB/day, almost all of it the 1 s QUIC keep-alive
 * (docs/protocol.md §5.1: keep-alive period 1 s) — PING frames and their ACKs.
 */
const CLOUDFLARED_IDLE_BYTES_PER_DAY = 20e6;
const CLOUDFLARED_IDLE_BYTES_PER_MINUTE = CLOUDFLARED_IDLE_BYTES_PER_DAY / (24 * 60);
/** A keep-alive round: the PING and the ACK it elicits. */
const KEEPALIVE_DATAGRAMS_PER_SECOND = 2;
/** IPv4 (20) + UDP (8) header bytes a datagram adds on the wire beyond its payload. */
const UDP_IPV4_OVERHEAD = 28;

async function bareNodeRss(ctx: ScenarioContext): Promise<number> {
  const bare = await startChild<Record<string, never>, Record<string, never>>('bare', {}, { mode: ctx.mode });
  try {
    await new Promise<void>((resolve) => setTimeout(resolve, SETTLE_MS));
    return readProc(bare.pid)?.rss ?? NaN;
  } finally {
    await bare.stop();
  }
}

async function run(ctx: ScenarioContext): Promise<Figure[]> {
  const seconds = ctx.durationSeconds ?? DEFAULT_DURATION_SECONDS;
  const bareRss = await bareNodeRss(ctx);
  const out: Figure[] = [];
  for (const protocol of ctx.protocols) {
    await withStack(ctx, { protocol, origin: 'small', relay: true }, async (stack) => {
      await new Promise<void>((resolve) => setTimeout(resolve, SETTLE_MS));
      ctx.log(`${protocol}: idle for ${seconds} s`);
      const relay = stack.relay!;
      const before = relay.snapshot();
      const sampler = new ProcSampler({ connector: stack.pids.connector, edge: stack.pids.edge });
      await new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000));
      const procs = sampler.stop();
      const after = relay.snapshot();
      const perMinute = (n: number): number => (n * 60) / seconds;
      const up = after.toEdgeBytes - before.toEdgeBytes;
      const down = after.toConnectorBytes - before.toConnectorBytes;
      const upDatagrams = after.toEdgeDatagrams - before.toEdgeDatagrams;
      const datagrams = upDatagrams + (after.toConnectorDatagrams - before.toConnectorDatagrams);
      const leg = { scenario: 'idle', leg: `${ctx.haConnections} conns, ${seconds} s`, protocol };
      // What a 1 s keep-alive implies at the packet sizes seen: one PING out and one ACK back per connection per second.
      const meanPayload = datagrams === 0 ? 0 : (up + down) / datagrams;
      const keepAliveDatagramsPerMinute = ctx.haConnections * KEEPALIVE_DATAGRAMS_PER_SECOND * 60;
      // Only a datagram transport has packet sizes to scale by (HTTP/2 sends no keep-alives at all, §8.1).
      const implied = (perDatagram: number): Record<string, number> =>
        datagrams === 0 ? {} : { '1 s keep-alive implies': keepAliveDatagramsPerMinute * perDatagram };
      const payloadBase = { ...implied(meanPayload), 'cloudflared #1415': CLOUDFLARED_IDLE_BYTES_PER_MINUTE };
      const wireBase = {
        ...implied(meanPayload + UDP_IPV4_OVERHEAD),
        'cloudflared #1415': CLOUDFLARED_IDLE_BYTES_PER_MINUTE,
      };
      out.push(
        {
          ...leg,
          metric: 'wire bytes/min (payload)',
          unit: 'B/min',
          value: perMinute(up + down),
          baselines: payloadBase,
        },
        {
          ...leg,
          metric: 'wire bytes/min (+IP/UDP headers)',
          unit: 'B/min',
          value: perMinute(up + down + datagrams * UDP_IPV4_OVERHEAD),
          baselines: wireBase,
        },
        { ...leg, metric: 'connector→edge bytes/min', unit: 'B/min', value: perMinute(up), baselines: {} },
        {
          ...leg,
          metric: 'datagrams/min (both ways)',
          unit: '/min',
          value: perMinute(datagrams),
          baselines: datagrams === 0 ? {} : { '1 s keep-alive implies': keepAliveDatagramsPerMinute },
        },
        { ...leg, metric: 'connector→edge datagrams/min', unit: '/min', value: perMinute(upDatagrams), baselines: {} },
      );
      const c = procs.connector;
      if (c !== undefined) {
        out.push(
          {
            ...leg,
            metric: 'connector RSS',
            unit: 'MB',
            value: c.rss.last / MB,
            baselines: { 'bare node': bareRss / MB },
            target: { op: '<=', value: TARGET_IDLE_RSS_MB },
          },
          { ...leg, metric: 'connector RSS peak (VmHWM)', unit: 'MB', value: c.hwm / MB, baselines: {} },
          {
            ...leg,
            metric: 'connector CPU',
            unit: 'ms/min',
            value: (c.cpuSeconds * 1000 * 60) / seconds,
            baselines: {},
          },
        );
      }
      out.push(...memoryFigures(leg, await stack.connectorMemory()));
      if (procs.edge !== undefined)
        out.push({
          ...leg,
          metric: 'edge CPU',
          unit: 'ms/min',
          value: (procs.edge.cpuSeconds * 1000 * 60) / seconds,
          baselines: {},
        });
    });
  }
  return out;
}

/** The `idle` scenario. */
export const idle: Scenario = {
  name: 'idle',
  description: '4 connections idle for 60 s (connector RSS, CPU, wire bytes/min)',
  run,
};
