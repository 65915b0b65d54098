/**
 * One connection attempt: dial the edge with a transport, then register (docs/protocol.md §12.4 step 2).
 */
import { startHttp2TunnelConnection } from '../connection/http2-connection.js';
import { startQuicTunnelConnection } from '../connection/quic-connection.js';
import type { TunnelConnection } from '../connection/tunnel-connection.js';
import type { ConnectionContext, TunnelProtocol } from '../connection/types.js';
import type { EdgeAddress as PoolEdgeAddress } from '../edge-discovery/index.js';
import { dialEdgeTls } from '../transport/tls/edge-dial.js';
import { EdgeDialError, EdgeTlsError, type EdgeTlsReason } from '../transport/errors.js';
import {
  connectQuic,
  QUIC_SERVER_NAME,
  QuicTlsError,
  QuicUnavailableError,
  type QuicFlowControl,
  type QuicTlsFailure,
} from '../transport/quic/index.js';
import { edgeTrustAnchors } from '../transport/tls/trust.js';

const TLS_REASON: Readonly<Record<QuicTlsFailure, EdgeTlsReason>> = {
  'unknown-authority': 'unknown-authority',
  'bad-certificate': 'name-mismatch',
  'expired-certificate': 'expired',
  'no-application-protocol': 'alpn',
  other: 'handshake',
};

/**
 * Wraps a QUIC dial failure like cloudflared (`failed to dial to edge with quic: …`, docs/protocol.md §5.3), as the
 * transport-neutral error classes the supervisor classifies (§2.6: a dial error rotates the address).
 */
function quicDialError(err: unknown): Error {
  if (err instanceof QuicUnavailableError) return err;
  if (err instanceof QuicTlsError) {
    return new EdgeTlsError(TLS_REASON[err.failure], `failed to dial to edge with quic: ${err.message}`, {
      cause: err,
    });
  }
  return new EdgeDialError(`failed to dial to edge with quic: ${(err as Error).message}`, { cause: err });
}

/** An edge address (only host and port matter for dialling). */
export type EdgeAddress = Pick<PoolEdgeAddress, 'host' | 'port'>;

/**
 * Transport settings shared by every attempt: the `dial` group of the resolved tunnel settings (`tunnel-options.ts`),
 * read by reference.
 */
export interface DialSettings {
  /** PEM bundle replacing the default edge trust anchors (`--cacert`). */
  readonly caCert?: string | Buffer;
  /** `--edge-bind-address`. */
  readonly bindAddress?: string;
  /** QUIC handshake timeout (docs/protocol.md §5.1; the transport's default when absent); tests shorten it. */
  readonly quicHandshakeTimeoutMs?: number;
  /** QUIC receive-window caps (§5.1). */
  readonly quicFlowControl?: QuicFlowControl;
}

/** What one attempt adds to the shared {@link DialSettings}. */
export interface DialAttempt {
  /** Key-exchange groups offered on HTTP/2 (OpenSSL syntax, §4.4). */
  readonly ecdhCurve?: string;
  /** UDP port to try first for QUIC (the index's previous port, §5.2); a random one when taken. */
  readonly quicLocalPort?: number;
  readonly signal?: AbortSignal;
}

/** Dials `address` with `protocol` and registers connection `ctx.connIndex`. */
export async function dialTunnelConnection(
  protocol: TunnelProtocol,
  address: EdgeAddress,
  ctx: ConnectionContext,
  settings: DialSettings,
  attempt: DialAttempt = {},
): Promise<TunnelConnection> {
  if (protocol === 'quic') {
    // connectQuic closes the connection when its signal aborts even after the handshake; the caller's signal is
    // meant for the dial only (shutdown closes registered connections gracefully), so link it for the dial alone.
    const dialAbort = new AbortController();
    const onAbort = (): void => dialAbort.abort(attempt.signal?.reason);
    attempt.signal?.addEventListener('abort', onAbort, { once: true });
    let quic;
    try {
      quic = await connectQuic({
        host: address.host,
        port: address.port,
        serverName: QUIC_SERVER_NAME,
        ca: edgeTrustAnchors(settings.caCert).join('\n'),
        bindAddress: settings.bindAddress,
        handshakeTimeoutMs: settings.quicHandshakeTimeoutMs,
        maxConnectionWindow: settings.quicFlowControl?.maxConnectionWindow,
        maxStreamWindow: settings.quicFlowControl?.maxStreamWindow,
        localPort: attempt.quicLocalPort,
        signal: dialAbort.signal,
      });
    } catch (err) {
      throw quicDialError(err);
    } finally {
      attempt.signal?.removeEventListener('abort', onAbort);
    }
    return startQuicTunnelConnection(quic, ctx);
  }
  const socket = await dialEdgeTls({
    host: address.host,
    port: address.port,
    caCert: settings.caCert,
    localAddress: settings.bindAddress,
    ecdhCurve: attempt.ecdhCurve,
    signal: attempt.signal,
  });
  return startHttp2TunnelConnection(socket, ctx);
}
