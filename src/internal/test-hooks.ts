/**
 * Knobs kept out of the public `TunnelOptions`: timings tests shorten, the loopback DNS server tests (and the CLI's
 * test DNS path) discover the edge with, and the version the CLI's `--client-version` reports. They are attached to an
 * options object with {@link withTestHooks} and folded into the resolved settings once (`tunnel-options.ts`). Not
 * exported from the package entry point.
 */
import type { EdgeResolver } from '../edge-discovery/resolver.js';

/** What a test (or the CLI) may set beside the public options. */
export interface TunnelTestHooks {
  /** QUIC handshake timeout (default 5000 ms, docs/protocol.md §5.1). */
  readonly quicHandshakeTimeoutMs?: number;
  /** HTTP/2 liveness PING interval (default 10 s, §8.1). */
  readonly http2PingIntervalMs?: number;
  /** Milliseconds between starting HA connections (default 1000, §12.1); 0 starts them back to back. */
  readonly haSpacingMs?: number;
  /** DNS used for discovery instead of the system resolver (§2): a loopback DNS server in tests. */
  readonly dnsResolver?: EdgeResolver;
  /** Version reported in `ClientInfo.version` instead of `DEFAULT_CLIENT_VERSION` (§6.6; `--client-version`). */
  readonly clientVersion?: string;
}

const hooks = new WeakMap<object, TunnelTestHooks>();

const MAX_TIMER_MS = 2 ** 31 - 1;

function checkMilliseconds(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS)
    throw new RangeError(`test hook ${name} must be a number of milliseconds in ${min}..${MAX_TIMER_MS}`);
}

/** Attaches `testHooks` to `options` (the object later passed to the Tunnel) and returns `options`. */
export function withTestHooks<T extends object>(options: T, testHooks: TunnelTestHooks): T {
  const { quicHandshakeTimeoutMs, http2PingIntervalMs, haSpacingMs, dnsResolver, clientVersion } = testHooks;
  if (quicHandshakeTimeoutMs !== undefined) checkMilliseconds('quicHandshakeTimeoutMs', quicHandshakeTimeoutMs, 1);
  if (http2PingIntervalMs !== undefined) checkMilliseconds('http2PingIntervalMs', http2PingIntervalMs, 1);
  if (haSpacingMs !== undefined) checkMilliseconds('haSpacingMs', haSpacingMs, 0);
  if (
    dnsResolver !== undefined &&
    (typeof dnsResolver !== 'object' ||
      dnsResolver === null ||
      ['resolveSrv', 'resolveTxt', 'lookup'].some(
        (m) => typeof (dnsResolver as unknown as Record<string, unknown>)[m] !== 'function',
      ))
  ) {
    throw new TypeError('test hook dnsResolver must be an object with resolveSrv(), resolveTxt() and lookup()');
  }
  if (clientVersion !== undefined && (typeof clientVersion !== 'string' || clientVersion === ''))
    throw new TypeError('test hook clientVersion must be a non-empty string');
  hooks.set(options, testHooks);
  return options;
}

/** The hooks attached to `options`, if any. */
export function testHooksOf(options: object): TunnelTestHooks {
  return hooks.get(options) ?? {};
}
