/**
 * Dials the edge for the HTTP/2 transport (docs/protocol.md §8.1, §4.1): TCP, then TLS with SNI `h2.cftunnel.com` and
 * no ALPN, verified against the edge trust anchors. The caller runs an HTTP/2 *server* on the returned socket.
 */
import net from 'node:net';
import tls from 'node:tls';
import { EdgeDialError, EdgeTlsError, edgeTlsErrorFromNode } from '../errors.js';
import { edgeSecureContext } from './trust.js';

/** SNI and verified name of the HTTP/2 edge (§4.1). */
export const HTTP2_EDGE_SERVER_NAME = 'h2.cftunnel.com';
/** TCP connect + TLS handshake deadline (§4.3: one 15 s deadline). */
export const HTTP2_DIAL_TIMEOUT_MS = 15_000;
/** TCP keep-alive on the edge connection: Go's dialer default, which cloudflared relies on for liveness (§8.1). */
export const HTTP2_TCP_KEEPALIVE_MS = 15_000;

/** Options for {@link dialEdgeTls}. */
export interface EdgeTlsDialOptions {
  host: string;
  port: number;
  /** Name sent as SNI and verified. Defaults to {@link HTTP2_EDGE_SERVER_NAME}. */
  serverName?: string;
  /** PEM bundle replacing the default trust anchors (`--cacert`). */
  caCert?: string | Buffer;
  /** Local address to bind (`--edge-bind-address`). */
  localAddress?: string;
  /** Key-exchange groups in OpenSSL syntax (e.g. `X25519MLKEM768:P-256`), see §4.4. */
  ecdhCurve?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Opens a verified TLS connection to the edge; rejects with {@link EdgeDialError} or {@link EdgeTlsError}. */
export function dialEdgeTls(options: EdgeTlsDialOptions): Promise<tls.TLSSocket> {
  const serverName = options.serverName ?? HTTP2_EDGE_SERVER_NAME;
  // One shared context for every edge connection (validates a --cacert bundle on first use).
  const secureContext = edgeSecureContext(options.caCert, options.ecdhCurve);
  return new Promise((resolve, reject) => {
    const signal = options.signal;
    if (signal?.aborted) {
      reject(new EdgeDialError('dial aborted', { cause: signal.reason }));
      return;
    }
    let settled = false;
    // TCP first, so a refused/unreachable address is told apart from a TLS failure.
    const tcp = net.connect({ host: options.host, port: options.port, localAddress: options.localAddress });
    // HTTP/2 has no idle detection of its own here (no PINGs, §8.1): TCP keep-alive finds a dead peer.
    tcp.setKeepAlive(true, HTTP2_TCP_KEEPALIVE_MS);
    const socket = tls.connect({
      socket: tcp,
      servername: net.isIP(serverName) ? undefined : serverName,
      secureContext,
      rejectUnauthorized: true,
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(serverName, cert),
    });
    tcp.once('error', onError);
    const timer = setTimeout(
      () => fail(new EdgeDialError(`dial to ${options.host}:${options.port} timed out`)),
      options.timeoutMs ?? HTTP2_DIAL_TIMEOUT_MS,
    );
    timer.unref();
    const onAbort = (): void => fail(new EdgeDialError('dial aborted', { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    function cleanup(): void {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('secureConnect', onSecure);
      tcp.off('error', onError);
    }
    function fail(err: Error): void {
      if (settled) return;
      cleanup();
      socket.destroy();
      tcp.destroy();
      reject(err);
    }
    function onError(err: Error): void {
      const tlsErr = edgeTlsErrorFromNode(err, serverName);
      fail(
        tlsErr ??
          new EdgeDialError(`failed to dial to edge ${options.host}:${options.port}: ${err.message}`, { cause: err }),
      );
    }
    function onSecure(): void {
      if (!socket.authorized) {
        const err =
          edgeTlsErrorFromNode(socket.authorizationError, serverName) ??
          new EdgeTlsError('handshake', `edge certificate refused: ${String(socket.authorizationError)}`);
        fail(err);
        return;
      }
      cleanup();
      resolve(socket);
    }
    socket.once('error', onError);
    socket.once('secureConnect', onSecure);
  });
}
