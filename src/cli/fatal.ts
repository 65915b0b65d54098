/**
 * The CLI's last resort: an exception nothing caught, or a promise rejection nothing handled, is logged once in the
 * run's log format (console line or JSON, log file included) at `fatal` level and the process exits with status 1, so
 * a service manager restarts it. Only the CLI entry points install it: the library never adds process listeners.
 */
import type { Logger } from 'pino';
import type { TextSink } from './io.js';

/** Exit status after a fatal error (the CLI's "runtime failure"). */
export const FATAL_EXIT_CODE = 1;

let currentLogger: Logger | undefined;
let installed = false;

/** The logger fatal errors go to from now on (the `tunnel run` logger once it exists); undefined for plain stderr. */
export function useFatalLogger(logger: Logger | undefined): void {
  currentLogger = logger;
}

function describe(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/** Installs the handlers (idempotent per process). */
export function installFatalHandlers(stderr: TextSink = process.stderr): void {
  if (installed) return;
  installed = true;
  let reported = false;
  const onFatal = (reason: unknown, origin: string): void => {
    // A second failure while reporting the first must not loop or hide the first.
    if (!reported) {
      reported = true;
      const what = origin === 'unhandledRejection' ? 'unhandled promise rejection' : 'uncaught exception';
      try {
        if (currentLogger !== undefined) currentLogger.fatal({ err: reason }, `cftunnel stopped after an ${what}`);
        else stderr.write(`cftunnel: fatal: ${what}: ${describe(reason)}\n`);
      } catch {
        // Nothing left to report with.
      }
    }
    process.exit(FATAL_EXIT_CODE);
  };
  process.on('uncaughtException', (err, origin) => onFatal(err, origin));
  process.on('unhandledRejection', (reason) => onFatal(reason, 'unhandledRejection'));
}
