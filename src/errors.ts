/**
 * Error base class shared by every layer of cftunnel.
 *
 * Each failure has a stable `code` (never reworded once published), a `retryable` flag telling the supervisor
 * whether trying again can help, and the underlying `cause`. Messages never contain secrets.
 */

/** Options accepted by {@link CftunnelError} and its subclasses. */
export interface CftunnelErrorOptions {
  /** Whether retrying the operation (for example reconnecting) may succeed. Defaults to `false`. */
  retryable?: boolean;
  /** The lower-level error that caused this one. */
  cause?: unknown;
}

/** Base class of every error cftunnel throws or emits. */
export class CftunnelError extends Error {
  /** Stable machine-readable code, e.g. `CFT_ERR_TOKEN_INVALID`. */
  readonly code: string;
  /** Whether retrying the operation may succeed. */
  readonly retryable: boolean;

  constructor(code: string, message: string, options: CftunnelErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** True when `err` is a {@link CftunnelError} with the given code. */
export function hasErrorCode(err: unknown, code: string): boolean {
  return err instanceof CftunnelError && err.code === code;
}
