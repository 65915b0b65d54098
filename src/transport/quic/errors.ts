/**
 * Typed failures of the QUIC transport. Connection-level failures share {@link QuicConnectionError} so that a
 * `'close'` listener can switch on the class or the stable `code`.
 */
import { CftunnelError, type CftunnelErrorOptions } from '../../errors.js';

/** The native QUIC binding cannot be loaded on this platform. */
export class QuicUnavailableError extends CftunnelError {
  constructor(reason: string) {
    super('CFT_ERR_QUIC_UNAVAILABLE', reason, { retryable: false });
  }
}

/** Invalid transport options (for example an unparseable CA bundle). */
export class QuicConfigError extends CftunnelError {
  constructor(message: string, options: CftunnelErrorOptions = {}) {
    super('CFT_ERR_QUIC_CONFIG', message, options);
  }
}

/** Base class of everything that ends a QUIC connection. */
export class QuicConnectionError extends CftunnelError {}

/** Which check of the TLS handshake failed. */
export type QuicTlsFailure =
  'unknown-authority' | 'bad-certificate' | 'expired-certificate' | 'no-application-protocol' | 'other';

/** TLS alert numbers as quiche reports them: CRYPTO_ERROR = 0x100 + TLS alert (RFC 9001 §4.8). */
const CRYPTO_ERROR_BASE = 0x100;
const CRYPTO_ERROR_END = 0x1ff;
const ALERT_BAD_CERTIFICATE = 42;
const ALERT_CERTIFICATE_EXPIRED = 45;
const ALERT_UNKNOWN_CA = 48;
const ALERT_NO_APPLICATION_PROTOCOL = 120;

/** True when a transport error code is a TLS alert (CRYPTO_ERROR range). */
export function isCryptoError(code: number): boolean {
  return code >= CRYPTO_ERROR_BASE && code <= CRYPTO_ERROR_END;
}

function describeAlert(alert: number): [QuicTlsFailure, string] {
  switch (alert) {
    case ALERT_UNKNOWN_CA:
      return ['unknown-authority', 'certificate signed by unknown authority'];
    case ALERT_BAD_CERTIFICATE:
      return ['bad-certificate', 'bad certificate (name mismatch or invalid certificate)'];
    case ALERT_CERTIFICATE_EXPIRED:
      return ['expired-certificate', 'certificate has expired or is not yet valid'];
    case ALERT_NO_APPLICATION_PROTOCOL:
      return ['no-application-protocol', 'no application protocol in common (ALPN mismatch)'];
    default:
      return ['other', `TLS alert ${alert}`];
  }
}

/** The TLS handshake failed; `alert` is the TLS alert, `failure` says which check failed. */
export class QuicTlsError extends QuicConnectionError {
  /** TLS alert description number (RFC 8446 §6). */
  readonly alert: number;
  /** Which verification failed. */
  readonly failure: QuicTlsFailure;
  /** True when the peer sent the alert, false when this side rejected the peer. */
  readonly remote: boolean;

  constructor(transportCode: number, remote: boolean) {
    const alert = transportCode - CRYPTO_ERROR_BASE;
    const [failure, text] = describeAlert(alert);
    super(
      'CFT_ERR_QUIC_TLS',
      `QUIC TLS handshake failed: ${text} (${remote ? 'reported by peer' : 'local check'}, alert ${alert})`,
      {
        retryable: false,
      },
    );
    this.alert = alert;
    this.failure = failure;
    this.remote = remote;
  }
}

/** The handshake did not complete within the handshake timeout. */
export class QuicHandshakeTimeoutError extends QuicConnectionError {
  /** @param timeoutMs - the handshake timeout that fired; undefined when QUIC's own idle timer ended the handshake. */
  constructor(timeoutMs?: number) {
    super(
      'CFT_ERR_QUIC_HANDSHAKE_TIMEOUT',
      timeoutMs === undefined
        ? 'QUIC handshake did not complete: the peer went silent (idle timeout)'
        : `QUIC handshake did not complete within ${timeoutMs} ms`,
      { retryable: true },
    );
  }
}

/** `errno` codes a UDP socket reports when the path to the peer refuses or forbids datagrams. */
export const UDP_UNREACHABLE_ERRNOS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EPERM',
  'EACCES',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

/**
 * The handshake's UDP socket reported the peer unreachable: an ICMP port/host/network unreachable (`ECONNREFUSED`,
 * `EHOSTUNREACH`, `ENETUNREACH`) or a local firewall refusing the datagram (`EPERM`, `EACCES`).
 */
export class QuicUdpUnreachableError extends QuicConnectionError {
  /** The socket's `errno` code, e.g. `ECONNREFUSED`. */
  readonly errno: string;
  constructor(cause: NodeJS.ErrnoException) {
    const errno = cause.code ?? 'EUNKNOWN';
    super('CFT_ERR_QUIC_UDP_UNREACHABLE', `UDP path to the QUIC peer is blocked (${errno})`, {
      retryable: true,
      cause,
    });
    this.errno = errno;
  }
}

/** Nothing was heard from the peer for the idle timeout. */
export class QuicIdleTimeoutError extends QuicConnectionError {
  constructor() {
    super('CFT_ERR_QUIC_IDLE_TIMEOUT', 'QUIC connection idle timeout: peer silent', { retryable: true });
  }
}

/** The peer closed the connection (CONNECTION_CLOSE) with a code and reason. */
export class QuicPeerClosedError extends QuicConnectionError {
  /** The peer's error code. */
  readonly errorCode: number;
  /** The peer's reason phrase (UTF-8 decoded). */
  readonly reason: string;
  /** True for an application close (frame 0x1d), false for a transport close (0x1c). */
  readonly isApplication: boolean;

  constructor(errorCode: number, reason: string, isApplication: boolean) {
    super(
      'CFT_ERR_QUIC_PEER_CLOSED',
      `QUIC connection closed by peer (${isApplication ? 'application' : 'transport'} code ${errorCode}${reason ? `: ${reason}` : ''})`,
      { retryable: true },
    );
    this.errorCode = errorCode;
    this.reason = reason;
    this.isApplication = isApplication;
  }
}

/** Names of the QUIC transport error codes (RFC 9000 §20.1), for messages a user can search for. */
const TRANSPORT_ERROR_NAMES: readonly string[] = [
  'NO_ERROR',
  'INTERNAL_ERROR',
  'CONNECTION_REFUSED',
  'FLOW_CONTROL_ERROR',
  'STREAM_LIMIT_ERROR',
  'STREAM_STATE_ERROR',
  'FINAL_SIZE_ERROR',
  'FRAME_ENCODING_ERROR',
  'TRANSPORT_PARAMETER_ERROR',
  'CONNECTION_ID_LIMIT_ERROR',
  'PROTOCOL_VIOLATION',
  'INVALID_TOKEN',
  'APPLICATION_ERROR',
  'CRYPTO_BUFFER_EXCEEDED',
  'KEY_UPDATE_ERROR',
  'AEAD_LIMIT_REACHED',
  'NO_VIABLE_PATH',
];

/** A transport error detected locally (protocol violation, flow control, …) ended the connection. */
export class QuicTransportError extends QuicConnectionError {
  /** The QUIC transport error code (RFC 9000 §20.1). */
  readonly errorCode: number;

  constructor(errorCode: number) {
    const name = TRANSPORT_ERROR_NAMES[errorCode] ?? 'unknown';
    super(
      'CFT_ERR_QUIC_TRANSPORT',
      `QUIC transport error ${name} (0x${errorCode.toString(16)}) detected locally: the peer broke the QUIC protocol or this side failed`,
      {
        retryable: true,
      },
    );
    this.errorCode = errorCode;
  }
}

/** The connection was closed by this side; pending operations fail with this. */
export class QuicLocalCloseError extends QuicConnectionError {
  constructor() {
    super('CFT_ERR_QUIC_LOCAL_CLOSE', 'QUIC connection closed locally', { retryable: false });
  }
}

/** Base class of the peer's per-stream aborts; carries the stream id and the application error code. */
export class QuicStreamError extends CftunnelError {
  /** Application error code from the peer's frame. */
  readonly errorCode: number;
  /** The stream id. */
  readonly streamId: number;

  constructor(code: string, what: string, streamId: number, errorCode: number) {
    super(code, `QUIC stream ${streamId} ${what} by peer (code ${errorCode})`, { retryable: false });
    this.errorCode = errorCode;
    this.streamId = streamId;
  }
}

/** The peer reset its sending side of the stream (RESET_STREAM). */
export class QuicStreamResetError extends QuicStreamError {
  constructor(streamId: number, errorCode: number) {
    super('CFT_ERR_QUIC_STREAM_RESET', 'reset', streamId, errorCode);
  }
}

/** The peer asked this side to stop sending on the stream (STOP_SENDING). */
export class QuicStreamStoppedError extends QuicStreamError {
  constructor(streamId: number, errorCode: number) {
    super('CFT_ERR_QUIC_STREAM_STOPPED', 'stopped', streamId, errorCode);
  }
}

/** A stream call of the QUIC binding failed for a reason other than the peer's abort; `cause` is the binding's error. */
export class QuicStreamFailedError extends CftunnelError {
  constructor(streamId: number, cause: unknown) {
    super('CFT_ERR_QUIC_STREAM_FAILED', `QUIC stream ${streamId} failed`, { retryable: false, cause });
  }
}
