/** Runs the CLI's `main` in this process with captured streams, for exit codes and one-line messages. */
import { main } from '../../src/cli/main.js';

/** What a `main` run printed and the exit code it set. */
export type MainResult = { code: number; stdout: string; stderr: string };

/** Runs `main(argv)` with `env`; returns the exit code it set (restoring this process's own). */
export async function runMain(argv: string[], env: Record<string, string> = {}): Promise<MainResult> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await main(argv, {
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => err.push(s) },
      env,
    });
    return { code: Number(process.exitCode ?? 0), stdout: out.join('').trimEnd(), stderr: err.join('').trimEnd() };
  } finally {
    process.exitCode = saved;
  }
}
