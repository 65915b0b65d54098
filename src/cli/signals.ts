/**
 * Shutdown signals (docs/protocol.md §12.5): the first SIGINT/SIGTERM starts a graceful shutdown; a second one ends the
 * process at once, like cloudflared whose handler is removed after the first signal.
 */
import { constants } from 'node:os';

/** Signals that start a graceful shutdown. */
export const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** One of {@link SHUTDOWN_SIGNALS}. */
export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];

/** Exit status of a process ended by a second `signal` (the shell's `128 + signal number`). */
export function forcedExitCode(signal: ShutdownSignal): number {
  return 128 + constants.signals[signal];
}

/** The line saying why a second signal ends the process at once. */
export function forcedExitMessage(signal: ShutdownSignal): string {
  return `Received ${signal} again: exiting at once, in-flight requests are cut (exit code ${forcedExitCode(signal)})`;
}

/** A pending first shutdown signal. */
export interface ShutdownWaiter {
  /** Resolves with the name of the first signal received. */
  readonly signal: Promise<ShutdownSignal>;
  /** Removes every handler installed by {@link waitForShutdownSignal}. */
  dispose(): void;
}

/**
 * Waits for the first SIGINT/SIGTERM. After it, a second one calls `onForcedExit` (which logs why the process ends)
 * and exits the process immediately with the shell's `128 + signal number` status (the only place the CLI calls
 * `process.exit`).
 */
export function waitForShutdownSignal(onForcedExit: (signal: ShutdownSignal) => void): ShutdownWaiter {
  const installed: Array<[ShutdownSignal, () => void]> = [];
  const install = (handler: (s: ShutdownSignal) => void): void => {
    for (const s of SHUTDOWN_SIGNALS) {
      const h = (): void => handler(s);
      installed.push([s, h]);
      process.on(s, h);
    }
  };
  const dispose = (): void => {
    for (const [s, h] of installed.splice(0)) process.off(s, h);
  };
  const signal = new Promise<ShutdownSignal>((resolve) => {
    install((first) => {
      dispose();
      install((second) => {
        onForcedExit(second);
        process.exit(forcedExitCode(second));
      });
      resolve(first);
    });
  });
  return { signal, dispose };
}
