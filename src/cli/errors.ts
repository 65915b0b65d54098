/** Errors of the command line: each maps to the process exit code the CLI sets. */
import { CftunnelError } from '../errors.js';

/** Exit code of a usage error (bad or unsupported flag), like cloudflared's flag parser. */
export const EXIT_USAGE = 2;
/** Exit code of a startup or runtime failure. */
export const EXIT_FAILURE = 1;

/** The command line is wrong: unknown flag, bad value, missing argument. Exit code 2. */
export class UsageError extends CftunnelError {
  constructor(message: string) {
    super('CFT_ERR_USAGE', message, { retryable: false });
  }
}

/** A flag cloudflared has but cftunnel does not implement. Exit code 2. */
export class UnsupportedFlagError extends CftunnelError {
  constructor(message: string) {
    super('CFT_ERR_UNSUPPORTED_FLAG', message, { retryable: false });
  }
}

/** The `--logfile` cannot be opened for appending (the message names the flag and the path). Exit code 1. */
export class LogFileError extends CftunnelError {
  constructor(path: string, cause: unknown) {
    super('CFT_ERR_LOG_FILE', `cannot open --logfile ${path}`, { retryable: false, cause });
  }
}

/** The exit code for an error thrown by a command. */
export function exitCodeFor(err: unknown): number {
  return err instanceof UsageError || err instanceof UnsupportedFlagError ? EXIT_USAGE : EXIT_FAILURE;
}
