/** Errors shared by the transports towards the edge. */
import { CftunnelError } from '../errors.js';

/** TCP/UDP-level failure to reach an edge address (refused, unreachable, timed out). Retryable. */
export class EdgeDialError extends CftunnelError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_EDGE_DIAL', message, { retryable: true, ...options });
  }
}

/** Why the edge's certificate was refused. */
export type EdgeTlsReason = 'unknown-authority' | 'name-mismatch' | 'expired' | 'alpn' | 'handshake';

/**
 * The edge's TLS identity could not be verified, or the handshake failed. Not retryable against the same address:
 * a certificate problem does not fix itself by redialling.
 */
export class EdgeTlsError extends CftunnelError {
  /** Which check failed. */
  readonly reason: EdgeTlsReason;
  constructor(reason: EdgeTlsReason, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super('CFT_ERR_EDGE_TLS', message, { retryable: options.retryable ?? false, cause: options.cause });
    this.reason = reason;
  }
}

const TLS_REASON_BY_NODE_CODE: Record<string, EdgeTlsReason> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown-authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown-authority',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown-authority',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown-authority',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown-authority',
  CERT_SIGNATURE_FAILURE: 'unknown-authority',
  ERR_TLS_CERT_ALTNAME_INVALID: 'name-mismatch',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'expired',
};

/** Maps a Node TLS verification error to an {@link EdgeTlsError}, or returns undefined for non-TLS errors. */
export function edgeTlsErrorFromNode(err: unknown, serverName: string): EdgeTlsError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return undefined;
  const reason = TLS_REASON_BY_NODE_CODE[code];
  if (reason === 'unknown-authority') {
    return new EdgeTlsError(reason, `edge certificate for ${serverName} is signed by an unknown authority`, {
      cause: err,
    });
  }
  if (reason === 'name-mismatch') {
    return new EdgeTlsError(reason, `edge certificate is not valid for ${serverName}`, { cause: err });
  }
  if (reason === 'expired') {
    return new EdgeTlsError(reason, `edge certificate for ${serverName} is expired or not yet valid`, { cause: err });
  }
  if (code.startsWith('ERR_SSL_') || code === 'ECONNRESET') {
    return new EdgeTlsError('handshake', `TLS handshake with the edge failed: ${(err as Error).message}`, {
      cause: err,
      retryable: true,
    });
  }
  return undefined;
}
