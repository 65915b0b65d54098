/** Errors of edge discovery and protocol-percentage lookup (docs/protocol.md §2, §3.2). */
import { CftunnelError } from '../errors.js';

/**
 * Edge discovery failed: SRV lookup (system and DNS-over-TLS), fewer than two regions, or an SRV target that does not
 * resolve. Not retryable: cloudflared treats a start-up discovery failure as fatal (§12.2 step 1).
 */
export class EdgeDiscoveryError extends CftunnelError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_EDGE_DISCOVERY', message, { retryable: false, ...options });
  }
}

/** An `--edge-ip-version`, `--region` or `--edge-bind-address` value that discovery cannot use. */
export class EdgeDiscoveryOptionError extends CftunnelError {
  constructor(message: string) {
    super('CFT_ERR_EDGE_DISCOVERY_OPTION', message, { retryable: false });
  }
}

/**
 * Every edge address of the pool is taken (§2.5). Retryable: addresses come back to the pool when other connections
 * rotate away from them.
 */
export class NoFreeEdgeAddressError extends CftunnelError {
  constructor() {
    super('CFT_ERR_EDGE_NO_FREE_ADDRESS', 'there are no free edge addresses left to resolve to', { retryable: true });
  }
}

/** The DNS-over-TLS fallback query failed (§2.2). Carried as the `cause` chain only; discovery reports the system error. */
export class DnsOverTlsError extends CftunnelError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_DNS_OVER_TLS', message, { retryable: true, ...options });
  }
}

/** The protocol TXT record is missing or malformed (§3.2). Callers log it and default to QUIC. */
export class ProtocolPercentageError extends CftunnelError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_PROTOCOL_PERCENTAGE', message, { retryable: true, ...options });
  }
}
