/**
 * V8 heap sizing the `cftunnel` command sets for itself (issue #19): a long-running proxy allocates many short-lived
 * objects per request, and V8's defaults let the young generation grow to 3 × 16 MB and the old generation grow by up
 * to 4× after each full collection — tens of MB of resident memory that cloudflared (Go, GOGC=100) does not hold.
 *
 * `--max-semi-space-size` only works at process start, and a shebang cannot carry it portably (BusyBox `env`, i.e.
 * Alpine, has no `-S`; npm's Windows shims need the same `env` form). Both flags below are instead read by V8 at
 * every garbage collection, so setting them first thing in the process works: a semi-space growth factor of 1 keeps
 * the young generation at its initial 2 × 1 MB (what `--max-semi-space-size=1` gives), and a fixed 25 % growing
 * factor keeps the old generation within 1.25× of what the last full collection left alive.
 *
 * Only the CLI applies them: a library never changes its host process's V8 settings.
 */
import v8 from 'node:v8';

/** The flags, in `node --<flag>` form. */
export const CLI_V8_FLAGS: readonly string[] = ['--semi-space-growth-factor=1', '--heap-growing-percent=25'];

/**
 * Given at process start where a runtime flag does not hold the young generation: on Node 24 (V8 13) the growth
 * factor set at runtime still lets it reach 3-7 MB, while `--max-semi-space-size=1` from the start keeps it at 2 MB.
 */
export const CLI_START_FLAG = '--max-semi-space-size=1';

/** What {@link applyCliHeapFlags} reads of its process; the defaults are the running process's own. */
export interface HeapFlagsContext {
  readonly execArgv?: readonly string[];
  readonly nodeOptions?: string;
  /**
   * Replaces the process image (`process.execve`, Node 22.15+/23.11+, not on Windows); `undefined` where there is
   * none or a restart is not wanted (the bench's IPC child).
   */
  readonly execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never;
}

/**
 * Applies {@link CLI_V8_FLAGS} unless the user chose V8 heap flags of their own (on the command line or in
 * `NODE_OPTIONS`), which then win. Call it before loading anything else. Where the process can replace its own image,
 * it first restarts itself (same pid, same arguments and environment) with {@link CLI_START_FLAG} added, once.
 */
export function applyCliHeapFlags(context: HeapFlagsContext = {}): readonly string[] {
  const execArgv = context.execArgv ?? process.execArgv;
  const nodeOptions = context.nodeOptions ?? process.env.NODE_OPTIONS ?? '';
  const execve = 'execve' in context ? context.execve : process.platform === 'win32' ? undefined : processExecve();
  const restarted = execArgv.includes(CLI_START_FLAG);
  const chosen = [...execArgv, ...nodeOptions.split(/\s+/)].filter((a) =>
    /^--(max|min)-semi-space-size|^--semi-space-growth-factor|^--heap-growing-percent/.test(a.replace(/_/g, '-')),
  );
  if (!restarted && chosen.length > 0) return [];
  if (!restarted && execve !== undefined) {
    execve(process.execPath, [process.execPath, CLI_START_FLAG, ...execArgv, ...process.argv.slice(1)], process.env);
  }
  for (const flag of CLI_V8_FLAGS) v8.setFlagsFromString(flag);
  return CLI_V8_FLAGS;
}

/** `process.execve` where this Node has it (typed here: Node 20's types do not know it). */
function processExecve(): HeapFlagsContext['execve'] {
  const execve = (process as { execve?: HeapFlagsContext['execve'] }).execve;
  return typeof execve === 'function' ? execve.bind(process) : undefined;
}
