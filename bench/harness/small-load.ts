/**
 * The measured window of issue 19's same-run comparisons (`versus`, `inprocess`): small GETs at 32 visitor
 * connections after a warm-up, with the stack's processes sampled over the window.
 */
import { autocannonLoad } from './http-load.js';
import type { RateFigures } from './latency.js';
import type { ProcWindow } from './procfs.js';
import { measured, type Role, type ScenarioContext } from './scenario.js';
import type { Stack } from './stack.js';

/** Visitor connections of the comparisons. */
export const SMALL_LOAD_CONNECTIONS = 32;
const DEFAULT_DURATION_SECONDS = 10;
/** JIT and connection pools warm up before anything is measured. */
const WARMUP_SECONDS = 2;

/** Warms up, then measures `--duration` seconds (10 by default) of small GETs through `stack`. */
export async function warmedSmallLoad(
  ctx: ScenarioContext,
  stack: Stack,
  label: string,
): Promise<{ result: RateFigures; procs: Partial<Record<Role, ProcWindow>> }> {
  const seconds = ctx.durationSeconds ?? DEFAULT_DURATION_SECONDS;
  const load = (durationSeconds: number): Promise<RateFigures> =>
    autocannonLoad({ url: stack.visitorUrl, connections: SMALL_LOAD_CONNECTIONS, durationSeconds });
  await load(WARMUP_SECONDS);
  ctx.log(`${label}: ${stack.protocol}, ${SMALL_LOAD_CONNECTIONS} connections, ${seconds} s`);
  return measured(stack, () => load(seconds));
}
