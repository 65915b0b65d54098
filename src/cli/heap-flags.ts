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
 * Applies {@link CLI_V8_FLAGS} unless the user chose V8 heap flags of their own (on the command line or in
 * `NODE_OPTIONS`), which then win. Call it before loading anything else.
 */
export function applyCliHeapFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): readonly string[] {
  const chosen = [...execArgv, ...nodeOptions.split(/\s+/)].filter((a) =>
    /^--(max|min)-semi-space-size|^--semi-space-growth-factor|^--heap-growing-percent/.test(a.replace(/_/g, '-')),
  );
  if (chosen.length > 0) return [];
  for (const flag of CLI_V8_FLAGS) v8.setFlagsFromString(flag);
  return CLI_V8_FLAGS;
}
