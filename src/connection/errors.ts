/** Errors of a registered tunnel connection, as the supervisor's `disconnected` and `reconnecting` events show them. */
import { CftunnelError } from '../errors.js';

/**
 * The edge ended a registered connection without saying why (the transport closed, the edge sent GOAWAY, a liveness
 * PING went unanswered). `cause` carries the transport's own error when it gave one. The supervisor reconnects.
 */
export class EdgeConnectionClosedError extends CftunnelError {
  constructor(cause?: unknown) {
    super('CFT_ERR_CONNECTION_CLOSED', 'connection with edge closed', { retryable: true, cause });
  }
}

/** A response could not be sent to the end: the origin body or the edge stream ended or failed on the way. */
export class ResponseIncompleteError extends CftunnelError {
  constructor(message: string, cause?: unknown) {
    super('CFT_ERR_RESPONSE_INCOMPLETE', message, { retryable: false, cause });
  }
}
