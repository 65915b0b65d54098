/**
 * Errors raised by the Cap'n Proto RPC layer. Every pending call settles with one of these, so callers can tell a
 * broken transport (retry on a new connection) from a remote exception (the peer said no) from a local timeout.
 */
import { CftunnelError } from '../errors.js';

/** The `Exception.type` values of rpc.capnp, by name. */
export type RpcExceptionType = 'failed' | 'overloaded' | 'disconnected' | 'unimplemented';

/** Base class of every RPC-layer error. */
export class RpcError extends CftunnelError {}

/** The transport ended, errored, or the connection was closed/aborted while the call was pending. Retryable. */
export class RpcDisconnectedError extends RpcError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_RPC_DISCONNECTED', message, { retryable: true, ...options });
  }
}

/** The peer sent `Abort`; carries the peer's reason and exception type. Retryable on a new connection. */
export class RpcAbortedError extends RpcError {
  constructor(
    readonly reason: string,
    readonly type: RpcExceptionType,
  ) {
    super('CFT_ERR_RPC_ABORTED', `peer aborted the RPC connection (${type}): ${reason}`, { retryable: true });
  }
}

/** A call got no Return within its timeout. The question was finished (cancelled) on the wire. Retryable. */
export class RpcTimeoutError extends RpcError {
  constructor(timeoutMs: number) {
    super('CFT_ERR_RPC_TIMEOUT', `RPC call timed out after ${timeoutMs} ms`, { retryable: true });
  }
}

/** The caller's AbortSignal fired before the Return arrived. */
export class RpcCanceledError extends RpcError {
  constructor(options: { cause?: unknown } = {}) {
    super('CFT_ERR_RPC_CANCELED', 'RPC call canceled by the caller', { retryable: false, ...options });
  }
}

/** The peer answered with an exception (including `unimplemented`, and `Return.canceled`). */
export class RpcExceptionError extends RpcError {
  constructor(
    readonly reason: string,
    readonly type: RpcExceptionType,
  ) {
    // A remote `disconnected`/`overloaded` may go away on a new attempt; `failed`/`unimplemented` will not.
    super('CFT_ERR_RPC_EXCEPTION', `remote exception (${type}): ${reason}`, {
      retryable: type === 'disconnected' || type === 'overloaded',
    });
  }
}

/** The peer broke the RPC protocol (malformed message, unknown question, reused ID, bad frame). Fatal for the stream. */
export class RpcProtocolError extends RpcError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_RPC_PROTOCOL', message, { retryable: true, ...options });
  }
}

/** An incoming frame exceeded the size limit (or its header is malformed); the connection was closed. */
export class RpcFrameError extends RpcError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_RPC_FRAME', message, { retryable: true, ...options });
  }
}

/**
 * Throw this from a server method to choose the exception type sent to the caller (anything else thrown is sent as
 * `failed` with the error's message).
 */
export class RpcServerException extends RpcError {
  constructor(
    readonly type: RpcExceptionType,
    reason: string,
  ) {
    super('CFT_ERR_RPC_SERVER_EXCEPTION', reason, { retryable: false });
  }
}
