/**
 * The edge's refusal of `registerConnection` (docs/protocol.md §6.7), in a module of its own: it is public API, and
 * the RPC client next to it would pull the Cap'n Proto library's types into the package's declarations.
 */
import { CftunnelError } from '../../errors.js';

/** What a `ConnectionError` carries (the codec's `ConnectionErrorInfo`, restated to keep this module free of it). */
export interface RegistrationRefusal {
  cause: string;
  /** Nanoseconds. */
  retryAfterNs: bigint;
  shouldRetry: boolean;
}

/** `ConnectionError.cause` meaning "already connected to this edge server" (docs/protocol.md §6.7). */
export const DUPLICATE_CONNECTION_CAUSE = 'EDUPCONN';
/** Substring of a cause cloudflared retries indefinitely on connection 0 at startup (docs/protocol.md §6.7). */
const UNAUTHORIZED_MARKER = 'Unauthorized';

/** The edge refused registerConnection with a `ConnectionError` (docs/protocol.md §6.7). */
export class RegistrationError extends CftunnelError {
  /** The edge's `cause` text. */
  readonly serverCause: string;
  /** The edge's `shouldRetry`; also `retryable`. */
  readonly shouldRetry: boolean;
  /** The edge's `retryAfter` in nanoseconds (informational; cloudflared ignores it for scheduling). */
  readonly retryAfterNs: bigint;
  /** True when `cause` is exactly `EDUPCONN`: try another edge address. */
  readonly isDuplicateConnection: boolean;
  /** True when `cause` contains `Unauthorized` (new tunnel not yet propagated). */
  readonly isUnauthorized: boolean;

  constructor(info: RegistrationRefusal) {
    const dup = info.cause === DUPLICATE_CONNECTION_CAUSE;
    super(
      dup ? 'CFT_ERR_REGISTRATION_DUPLICATE' : 'CFT_ERR_REGISTRATION_REFUSED',
      dup ? 'already connected to this server, trying another address' : `edge refused registration: ${info.cause}`,
      { retryable: info.shouldRetry },
    );
    this.serverCause = info.cause;
    this.shouldRetry = info.shouldRetry;
    this.retryAfterNs = info.retryAfterNs;
    this.isDuplicateConnection = dup;
    this.isUnauthorized = info.cause.includes(UNAUTHORIZED_MARKER);
  }

  /** `retryAfterNs` in milliseconds. */
  get retryAfterMs(): number {
    return Number(this.retryAfterNs / 1_000_000n);
  }
}
