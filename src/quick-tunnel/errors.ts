/** Errors of the quick-tunnel service request (docs/protocol.md §20.2, §20.3). */
import { CftunnelError } from '../errors.js';

/** One entry of the service's `errors` list. */
export interface QuickTunnelServiceMessage {
  code: number | undefined;
  message: string;
}

/** The quick-tunnel service could not be reached, or did not answer within the timeout. Retryable. */
export class QuickTunnelUnreachableError extends CftunnelError {
  constructor(serviceUrl: string, cause: unknown) {
    // The cause chain (fetch's "fetch failed" and the socket error below it) is appended by errorText and the logger.
    super('CFT_ERR_QUICK_SERVICE_UNREACHABLE', `failed to request quick Tunnel from ${serviceUrl}`, {
      retryable: true,
      cause,
    });
  }
}

/** The service answered HTTP 429: too many quick tunnels were requested from this address. Retryable later. */
export class QuickTunnelRateLimitedError extends CftunnelError {
  /** Seconds from the `Retry-After` header, when the service sent one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(serviceUrl: string, retryAfterSeconds: number | undefined, body: string) {
    const wait = retryAfterSeconds === undefined ? 'try again later' : `retry after ${retryAfterSeconds} s`;
    super(
      'CFT_ERR_QUICK_RATE_LIMITED',
      `the quick Tunnel service ${serviceUrl} answered 429 Too Many Requests (${wait})${body ? `: ${body}` : ''}`,
      {
        retryable: true,
      },
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The service's answer is not the expected JSON document (cloudflared: `failed to unmarshal quick Tunnel`). */
export class QuickTunnelResponseError extends CftunnelError {
  /** HTTP status of the answer. */
  readonly status: number;

  constructor(status: number, detail: string, cause?: unknown) {
    super('CFT_ERR_QUICK_RESPONSE', `failed to unmarshal quick Tunnel (HTTP ${status}): ${detail}`, {
      retryable: false,
      cause,
    });
    this.status = status;
  }
}

/** The service answered `"success": false`; `errors` holds what it said. */
export class QuickTunnelRefusedError extends CftunnelError {
  readonly status: number;
  readonly errors: readonly QuickTunnelServiceMessage[];

  constructor(status: number, errors: readonly QuickTunnelServiceMessage[]) {
    const listed =
      errors.length === 0
        ? 'no reason given'
        : errors.map((e) => (e.code === undefined ? e.message : `${e.code}: ${e.message}`)).join('; ');
    super('CFT_ERR_QUICK_REFUSED', `the quick Tunnel service refused to create a tunnel (HTTP ${status}): ${listed}`, {
      retryable: false,
    });
    this.status = status;
    this.errors = errors;
  }
}
