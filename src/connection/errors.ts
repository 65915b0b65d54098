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
