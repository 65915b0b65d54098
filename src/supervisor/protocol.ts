/**
 * Transport protocol selection and per-index fallback (docs/protocol.md §3.3, §3.4, §2.6). Pure decisions, no I/O.
 */
import type { TunnelProtocol } from '../connection/types.js';
import { RegistrationError } from '../rpc/tunnel/registration-error.js';
import { EdgeDialError, EdgeTlsError } from '../transport/errors.js';
import { QuicHandshakeTimeoutError, QuicIdleTimeoutError, QuicUdpUnreachableError } from '../transport/quic/index.js';

/** `--protocol` values (§3.3). `h2mux` is accepted and mapped to `http2`. */
export type ProtocolOption = 'auto' | 'quic' | 'http2' | 'h2mux';

/** What the selector says: the protocol to start with and the one to fall back to, if any (§3.3). */
export interface ProtocolSelection {
  initial: TunnelProtocol;
  fallback: TunnelProtocol | undefined;
}

/**
 * Chooses the initial protocol. With `auto` (token runs use the "default" selector, §3.3) QUIC first, HTTP/2 as the
 * fallback. When QUIC cannot run on this platform, HTTP/2 is the only choice (and an explicit `quic` is an error the
 * caller reports).
 */
export function selectProtocol(option: ProtocolOption, quicAvailable: boolean): ProtocolSelection {
  if (option === 'http2' || option === 'h2mux') return { initial: 'http2', fallback: undefined };
  if (option === 'quic') return { initial: 'quic', fallback: undefined };
  return quicAvailable ? { initial: 'quic', fallback: 'http2' } : { initial: 'http2', fallback: undefined };
}

/** How an attempt's error steers address rotation and fallback (§2.6, §3.4 rule 1). */
export interface ErrorClass {
  /** Rotate to another edge address. */
  rotateAddress: boolean;
  /** A dial/handshake failure: counts towards `--max-edge-addr-retries`. */
  connectivity: boolean;
  /** The "recoverable" flag that allows fallback. */
  recoverable: boolean;
  /** QUIC idle timeout in the chain (§3.4 rule 4). */
  quicIdleTimeout: boolean;
}

/** Classifies an attempt's error. */
export function classifyError(err: unknown): ErrorClass {
  if (err instanceof RegistrationError) {
    if (err.isDuplicateConnection)
      return { rotateAddress: true, connectivity: false, recoverable: false, quicIdleTimeout: false };
    return { rotateAddress: false, connectivity: false, recoverable: err.shouldRetry, quicIdleTimeout: false };
  }
  if (err instanceof QuicIdleTimeoutError)
    return { rotateAddress: true, connectivity: false, recoverable: true, quicIdleTimeout: true };
  if (err instanceof EdgeDialError || err instanceof EdgeTlsError) {
    return { rotateAddress: true, connectivity: true, recoverable: false, quicIdleTimeout: false };
  }
  return { rotateAddress: false, connectivity: false, recoverable: true, quicIdleTimeout: false };
}

/**
 * True when a QUIC dial failed in a way that says UDP to the edge is blocked: no answer within the handshake timeout,
 * or the socket reported the path unreachable (ICMP unreachable, a local firewall's EPERM). cftunnel then falls back
 * to HTTP/2 at once instead of after cloudflared's retry counts (docs/protocol.md §3.4, cftunnel's rule).
 */
export function quicPathBlocked(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 8; depth++, e = e.cause) {
    if (e instanceof QuicHandshakeTimeoutError || e instanceof QuicUdpUnreachableError) return true;
  }
  return false;
}

/** True when the selection allows cftunnel's immediate QUIC → HTTP/2 fallback (`auto`; never an explicit `quic`). */
export function fallsBackAtOnce(selection: ProtocolSelection): boolean {
  return selection.initial === 'quic' && selection.fallback === 'http2';
}

/** Per-index protocol state (§3.4). */
export class ProtocolFallback {
  protocol: TunnelProtocol;
  inFallback = false;

  constructor(
    private readonly selection: ProtocolSelection,
    start: TunnelProtocol = selection.initial,
  ) {
    this.protocol = start;
  }

  /** Moves this index to `protocol` outside the §3.4 rules (cftunnel's UDP-blocked fallback); it stays there. */
  switchTo(protocol: TunnelProtocol): void {
    this.protocol = protocol;
    this.inFallback = protocol !== this.selection.initial;
  }

  /** Registration succeeded: leave fallback mode, keep the protocol (§3.4 last paragraph). */
  onConnected(): void {
    this.inFallback = false;
  }

  /**
   * After a failed attempt and its backoff wait: decides the protocol of the next attempt.
   * @param everConnectedWithInitial any connection of this process has registered with the selector's protocol.
   * @param reachedMaxRetries the index's backoff reached `--retries`.
   * @param maxEdgeAddrRetriesReached the address pool flagged this connectivity error as the one past
   *   `--max-edge-addr-retries` (§2.6); it overrides the recoverable flag of connectivity errors.
   */
  next(
    err: unknown,
    everConnectedWithInitial: boolean,
    reachedMaxRetries: boolean,
    maxEdgeAddrRetriesReached = false,
  ): { protocol: TunnelProtocol; switched: boolean } {
    const cls = classifyError(err);
    const shouldFallback = cls.connectivity ? maxEdgeAddrRetriesReached : cls.recoverable;
    const fallback = this.selection.fallback;
    if (!shouldFallback || everConnectedWithInitial) return { protocol: this.protocol, switched: false };
    if (fallback !== undefined && this.protocol !== fallback && (reachedMaxRetries || cls.quicIdleTimeout)) {
      this.protocol = fallback;
      this.inFallback = true;
      return { protocol: fallback, switched: true };
    }
    if (!this.inFallback && this.protocol !== this.selection.initial) {
      this.protocol = this.selection.initial;
      return { protocol: this.protocol, switched: true };
    }
    return { protocol: this.protocol, switched: false };
  }
}
