/**
 * Plumbing shared by every benchmark child process: wait for the driver's config message, start, report `ready`
 * with what the driver needs, and stop cleanly on `stop` (a clean exit is what makes `--cpu-prof` write its file).
 */
import { readFileSync } from 'node:fs';

/** What a child's start function returns. */
export interface StartedChild<Info> {
  /** Sent to the driver in the `ready` message. */
  info: Info;
  stop(): Promise<void>;
}

/** Messages from the driver. */
export type DriverMessage<Config> = { type: 'config'; config: Config } | { type: 'stop' } | { type: 'memory' };

/** Messages to the driver. */
export type ChildMessage<Info> =
  | { type: 'ready'; info: Info }
  | { type: 'failed'; message: string }
  | { type: 'stopped' }
  | { type: 'memory'; usage: ChildMemory };

/**
 * `process.memoryUsage()` plus the kernel's split of the resident set (`/proc/self/smaps_rollup`, Linux): anonymous
 * memory is the process's own (V8 heap, malloc, buffers); file-backed pages are mostly the `node` binary's code,
 * shared with every other Node process on the machine.
 */
export interface ChildMemory extends NodeJS.MemoryUsage {
  anonymous?: number;
  fileBacked?: number;
}

function childMemory(): ChildMemory {
  const usage: ChildMemory = process.memoryUsage();
  try {
    const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1]) * 1024;
    usage.anonymous = kb('Anonymous');
    usage.fileBacked = kb('Rss') - usage.anonymous;
  } catch {
    // Not Linux: V8's figures only.
  }
  return usage;
}

/**
 * Runs `start` with the driver's config and keeps the child alive until the driver says `stop` or goes away.
 * Never prints the config (it can carry a tunnel token).
 */
export function serveChild<Config, Info>(start: (config: Config) => Promise<StartedChild<Info>>): void {
  const send = (message: ChildMessage<Info>): void => {
    if (process.connected) process.send?.(message);
  };
  if (process.send === undefined) {
    console.error('this script is a benchmark child: start it through bench/run.ts');
    process.exit(2);
  }
  let started: StartedChild<Info> | undefined;
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await started?.stop().catch(() => undefined);
    send({ type: 'stopped' });
    // process.exit (not a signal) so that --cpu-prof flushes its profile.
    process.exit(0);
  };
  process.on('message', (message: DriverMessage<Config>) => {
    if (message.type === 'stop') void stop();
    // V8's own view of the memory, to split RSS into heap, external buffers and the rest.
    else if (message.type === 'memory') send({ type: 'memory', usage: childMemory() });
    else if (message.type === 'config' && started === undefined) {
      start(message.config).then(
        (s) => {
          started = s;
          send({ type: 'ready', info: s.info });
        },
        (err: unknown) => {
          send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
          process.exit(1);
        },
      );
    }
  });
  // The driver died: do not linger as an orphan holding ports.
  process.on('disconnect', () => void stop());
}
