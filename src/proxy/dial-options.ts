/**
 * Socket options for dialling an origin (docs/protocol.md §10.5): connect timeout, TCP keep-alive period and the
 * dual-stack policy. HTTP and TCP-over-WebSocket origins dial with the same settings, as cloudflared's one
 * `net.Dialer` per rule does.
 */
import type { OriginRequestConfig } from '../ingress/origin-request.js';

/**
 * Go's keep-alive period when `net.Dialer.KeepAlive` is zero (Go `net/dial.go`, `defaultTCPKeepAlive`); cloudflared
 * passes `tcpKeepAlive` straight into that field (§10.5).
 */
export const GO_DEFAULT_TCP_KEEPALIVE_MS = 15_000;

/** Largest timer delay Node accepts; stands in for "no deadline". */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The `net.connect` / undici connector options that carry the §10.5 dial settings. */
export interface OriginDialOptions {
  /** Connect deadline in ms; 0 = none (Go: a zero `Dialer.Timeout` means no timeout). */
  readonly timeout: number;
  /** False only for a negative `tcpKeepAlive` (Go: negative disables keep-alive). */
  readonly keepAlive: boolean;
  /** Idle time before the first keep-alive probe, in ms. */
  readonly keepAliveInitialDelay: number;
  /** Always true: every resolved address may be tried, like Go's dialer. */
  readonly autoSelectFamily: true;
  /**
   * With `noHappyEyeballs`, the whole connect budget: the next address is tried only after the previous one
   * failed (Go dials serially when `FallbackDelay` is negative). Otherwise unset, so Node races the families.
   */
  readonly autoSelectFamilyAttemptTimeout?: number;
}

/** Dial options for a rule's resolved `originRequest`. */
export function originDialOptions(
  o: Pick<OriginRequestConfig, 'connectTimeout' | 'tcpKeepAlive' | 'noHappyEyeballs'>,
): OriginDialOptions {
  const timeout = Math.max(0, o.connectTimeout * 1000);
  const keepAliveMs = o.tcpKeepAlive === 0 ? GO_DEFAULT_TCP_KEEPALIVE_MS : o.tcpKeepAlive * 1000;
  return {
    timeout,
    keepAlive: keepAliveMs > 0,
    keepAliveInitialDelay: Math.max(0, keepAliveMs),
    autoSelectFamily: true,
    ...(o.noHappyEyeballs
      ? { autoSelectFamilyAttemptTimeout: timeout === 0 ? MAX_TIMER_MS : Math.min(timeout, MAX_TIMER_MS) }
      : {}),
  };
}
