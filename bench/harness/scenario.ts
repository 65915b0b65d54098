/** What every scenario gets from the command line, and the helpers they share. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildMode } from './children.js';
import { ProcSampler, type ProcWindow } from './procfs.js';
import { formatProfileSummary, summariseProfile } from './profile.js';
import type { Figure } from './report.js';
import { PROFILE_DIR, startStack, type Protocol, type Stack, type StackOptions } from './stack.js';
import type { ChildMemory } from '../procs/child.js';

/** Options of one scenario run. */
export interface ScenarioContext {
  protocols: Protocol[];
  /** `--duration`: seconds per measured window (each scenario has its own default). */
  durationSeconds: number | undefined;
  /** `--size`: bytes per bulk transfer. */
  sizeBytes: number | undefined;
  /** `--count`: requests for `bodies`, sockets for `websocket`. */
  count: number | undefined;
  haConnections: number;
  profile: boolean;
  mode: ChildMode;
  log(message: string): void;
}

/** A benchmark scenario. */
export interface Scenario {
  name: string;
  description: string;
  run(ctx: ScenarioContext): Promise<Figure[]>;
}

/** Process roles sampled in every window; `driver` is this process (load generator and relay). */
export type Role = 'connector' | 'edge' | 'origin' | 'driver';

/** Runs `fn` while sampling the stack's processes (and the driver). */
export async function measured<T>(
  stack: Stack,
  fn: () => Promise<T>,
): Promise<{ result: T; procs: Partial<Record<Role, ProcWindow>> }> {
  const sampler = new ProcSampler({ ...stack.pids, driver: process.pid });
  try {
    const result = await fn();
    return { result, procs: sampler.stop() };
  } catch (err) {
    sampler.stop();
    throw err;
  }
}

/** Entries of each list printed after a profiled run (bench/profile-summary.ts prints more). */
const PRINTED_PROFILE_ENTRIES = 12;

function profiles(): Set<string> {
  try {
    return new Set(readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.cpuprofile')));
  } catch {
    return new Set();
  }
}

/** Starts a stack for `protocol`, runs `fn`, stops it; with `--profile`, prints the connector's new CPU profile. */
export async function withStack<T>(
  ctx: ScenarioContext,
  options: Omit<StackOptions, 'haConnections' | 'profile' | 'mode'>,
  fn: (stack: Stack) => Promise<T>,
): Promise<T> {
  const before = profiles();
  ctx.log(`starting origin, edge and ${options.protocol} connector (${ctx.haConnections} connections)`);
  const stack = await startStack({
    ...options,
    haConnections: ctx.haConnections,
    profile: ctx.profile,
    mode: ctx.mode,
  });
  try {
    return await fn(stack);
  } finally {
    await stack.stop();
    for (const f of profiles()) {
      if (before.has(f)) continue;
      const path = join(PROFILE_DIR, f);
      ctx.log(
        `connector CPU profile (${options.protocol}): ${path}\n${formatProfileSummary(summariseProfile(path, PRINTED_PROFILE_ENTRIES))}`,
      );
    }
  }
}

/** Work done in a window, to turn CPU time into CPU per unit (robust when other processes steal the cores). */
export interface WorkDone {
  count: number;
  /** Singular unit name: `req`, `msg`. */
  unit: string;
}

/**
 * Figures every window reports about the processes: CPU use of each (and, given the work done, the connector's and
 * the edge's CPU per unit of work), and the connector's peak memory.
 */
export function processFigures(
  base: Pick<Figure, 'scenario' | 'leg' | 'protocol'>,
  procs: Partial<Record<Role, ProcWindow>>,
  seconds: number,
  rssTarget?: number,
  work?: WorkDone,
): Figure[] {
  const out: Figure[] = [];
  for (const role of ['connector', 'edge', 'origin', 'driver'] as const) {
    const w = procs[role];
    if (w === undefined) continue;
    out.push({
      ...base,
      metric: `${role} CPU`,
      unit: '% of a core',
      value: (100 * w.cpuSeconds) / seconds,
      baselines: {},
    });
    if (role === 'connector') {
      out.push({
        ...base,
        metric: 'connector waiting for a core',
        unit: '% of the window',
        value: (100 * w.runQueueSeconds) / seconds,
        baselines: {},
      });
    }
    if (work !== undefined && work.count > 0 && (role === 'connector' || role === 'edge')) {
      out.push({
        ...base,
        metric: `${role} CPU per ${work.unit}`,
        unit: `µs/${work.unit}`,
        value: (w.cpuSeconds * 1e6) / work.count,
        baselines: {},
      });
    }
  }
  const c = procs.connector;
  if (c !== undefined) {
    const target = rssTarget === undefined ? undefined : { op: '<=' as const, value: rssTarget };
    out.push({ ...base, metric: 'connector RSS max', unit: 'MB', value: c.rss.max / MB, baselines: {}, target });
  }
  return out;
}

/** Bytes in a megabyte, as every figure here counts them. */
export const MB = 1e6;

/**
 * The connector's V8 view of its memory at the end of a window: where its RSS goes. `native and code` is what is
 * left of the RSS beside the V8 heap and external memory (the binary's code, thread stacks, malloc arenas, quiche).
 * Nothing for a connector that is not a Node process (cloudflared).
 */
export function memoryFigures(
  base: Pick<Figure, 'scenario' | 'leg' | 'protocol'>,
  mem: ChildMemory | undefined,
): Figure[] {
  if (mem === undefined) return [];
  const kernel: Figure[] =
    mem.anonymous === undefined || mem.fileBacked === undefined
      ? []
      : [
          { ...base, metric: 'connector anonymous memory', unit: 'MB', value: mem.anonymous / MB, baselines: {} },
          {
            ...base,
            metric: 'connector file-backed (node binary, shared)',
            unit: 'MB',
            value: mem.fileBacked / MB,
            baselines: {},
          },
        ];
  return [
    { ...base, metric: 'connector RSS at the end', unit: 'MB', value: mem.rss / MB, baselines: {} },
    { ...base, metric: 'connector V8 heap used', unit: 'MB', value: mem.heapUsed / MB, baselines: {} },
    { ...base, metric: 'connector V8 heap total', unit: 'MB', value: mem.heapTotal / MB, baselines: {} },
    { ...base, metric: 'connector external (incl. buffers)', unit: 'MB', value: mem.external / MB, baselines: {} },
    { ...base, metric: 'connector array buffers', unit: 'MB', value: mem.arrayBuffers / MB, baselines: {} },
    {
      ...base,
      metric: 'connector native and code',
      unit: 'MB',
      value: Math.max(0, mem.rss - mem.heapTotal - mem.external) / MB,
      baselines: {},
    },
    ...kernel,
  ];
}
