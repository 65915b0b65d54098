/**
 * Timing knobs tests shorten, kept out of the public `TunnelOptions`: they are attached to an options object with
 * {@link withTestHooks} and read by the Tunnel. Not exported from the package entry point.
 */

/** Timings a test may shorten. */
export interface TunnelTestHooks {
  /** QUIC handshake timeout (default 5000 ms, docs/protocol.md §5.1). */
  readonly quicHandshakeTimeoutMs?: number;
  /** HTTP/2 liveness PING interval (default 10 s, §8.1). */
  readonly http2PingIntervalMs?: number;
}

const hooks = new WeakMap<object, TunnelTestHooks>();

/** Attaches `testHooks` to `options` (the object later passed to the Tunnel) and returns `options`. */
export function withTestHooks<T extends object>(options: T, testHooks: TunnelTestHooks): T {
  for (const [name, value] of Object.entries(testHooks)) {
    if (
      value !== undefined &&
      (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > 2 ** 31 - 1)
    ) {
      throw new RangeError(`test hook ${name} must be a number of milliseconds in 1..${2 ** 31 - 1}`);
    }
  }
  hooks.set(options, testHooks);
  return options;
}

/** The hooks attached to `options`, if any. */
export function testHooksOf(options: object): TunnelTestHooks {
  return hooks.get(options) ?? {};
}
