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

/** Transport options shared by every attempt. */
export interface DialOptions {
  /** PEM bundle replacing the default edge trust anchors (`--cacert`). */
  caCert?: string | Buffer;
  /** `--edge-bind-address`. */
  bindAddress?: string;
  /** QUIC handshake timeout (default 5 s, docs/protocol.md §5.1); tests shorten it. */
  quicHandshakeTimeoutMs?: number;
  /** QUIC receive-window caps (§5.1). */
  quicFlowControl?: QuicFlowControl;
  /** Key-exchange groups offered on HTTP/2 (OpenSSL syntax, §4.4). */
  ecdhCurve?: string;
  /** UDP port to try first for QUIC (the index's previous port, §5.2); a random one when taken. */
  quicLocalPort?: number;
  signal?: AbortSignal;
}

/** Dials `address` with `protocol` and registers connection `ctx.connIndex`. */
export async function dialTunnelConnection(
  protocol: TunnelProtocol,
  address: EdgeAddress,
  ctx: ConnectionContext,
  options: DialOptions,
): Promise<TunnelConnection> {
  if (protocol === 'quic') {
    // connectQuic closes the connection when its signal aborts even after the handshake; the caller's signal is
    // meant for the dial only (shutdown closes registered connections gracefully), so link it for the dial alone.
    const dialAbort = new AbortController();
    const onAbort = (): void => dialAbort.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let quic;
    try {
      quic = await connectQuic({
        host: address.host,
        port: address.port,
        serverName: QUIC_SERVER_NAME,
        ca: edgeTrustAnchors(options.caCert).join('\n'),
        bindAddress: options.bindAddress,
        handshakeTimeoutMs: options.quicHandshakeTimeoutMs,
        maxConnectionWindow: options.quicFlowControl?.maxConnectionWindow,
        maxStreamWindow: options.quicFlowControl?.maxStreamWindow,
        localPort: options.quicLocalPort,
        signal: dialAbort.signal,
      });
    } catch (err) {
      throw quicDialError(err);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    return startQuicTunnelConnection(quic, ctx);
  }
  const socket = await dialEdgeTls({
    host: address.host,
    port: address.port,
    caCert: options.caCert,
    localAddress: options.bindAddress,
    ecdhCurve: options.ecdhCurve,
    signal: options.signal,
  });
  return startHttp2TunnelConnection(socket, ctx);
}
