/** Typed errors of the origin proxy (docs/protocol.md §11). */
import { CftunnelError } from '../errors.js';

/** cloudflared's prefix for every round-trip failure (docs/protocol.md §7.3, §11). */
export const ORIGIN_UNREACHABLE_PREFIX =
  'Unable to reach the origin service. The service may be down or it may not be responding to traffic from cloudflared';
/** cloudflared's prefix when the eyeball request is cancelled while waiting (docs/protocol.md §11). */
export const REQUEST_ENDED_PREFIX = 'Incoming request ended abruptly';

/**
 * The origin could not be reached or failed before answering. `message` is the text cloudflared puts into
 * `ConnectResponse.error`; the HTTP/2 layer answers 502 with `{"src":"cloudflared"}`.
 */
export class OriginError extends CftunnelError {
  constructor(detail: string, cause?: unknown) {
    super('CFT_ERR_ORIGIN_UNREACHABLE', `${ORIGIN_UNREACHABLE_PREFIX}: ${detail}`, { retryable: true, cause });
  }
}

/** The request was aborted (edge stream cancelled) before the origin answered. */
export class OriginRequestCancelledError extends CftunnelError {
  constructor(cause?: unknown) {
    super('CFT_ERR_ORIGIN_REQUEST_CANCELLED', `${REQUEST_ENDED_PREFIX}: context canceled`, { cause });
  }
}

/** A service string that is not one of the supported forms (docs/protocol.md §10.2). */
export class InvalidOriginServiceError extends CftunnelError {
  constructor(message: string) {
    super('CFT_ERR_ORIGIN_SERVICE', message);
  }
}

/** Dialling the origin (TCP, then TLS) took longer than `connectTimeout` (+ `tlsTimeout`, docs/protocol.md §10.5). */
export class OriginConnectTimeoutError extends CftunnelError {
  constructor() {
    super('CFT_ERR_ORIGIN_CONNECT_TIMEOUT', 'origin connect timed out', { retryable: true });
  }
}

/**
 * A request failed with an error that carries no code of cftunnel's (a Node.js stream or socket error, e.g. while the
 * response was written to the edge): what the `request` and `error` events report, with the original error as
 * `cause`.
 */
export class RequestFailedError extends CftunnelError {
  constructor(cause: unknown) {
    super('CFT_ERR_REQUEST_FAILED', 'request failed', { retryable: false, cause });
  }
}
