/**
 * cloudflared's per-connection backoff (docs/protocol.md §12.3): exponential with full jitter, capped exponent,
 * lazy or immediate reset. Clock, randomness and sleeping are injectable so tests drive it with a fake clock.
 */

/** Backoff base for one connection index (§12.1). */
export const CONNECTION_BACKOFF_BASE_MS = 1_000;
/** Default `--retries` (§12.1): caps the exponent, triggers protocol fallback; retrying never stops. */
export const DEFAULT_MAX_RETRIES = 5;

/** Time and randomness sources. */
export interface BackoffClock {
  now(): number;
  /** Uniform in [0, 1). */
  random(): number;
  /** Resolves after `ms`, or early (rejecting nothing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: `Date.now`, `Math.random`, unref'd timers. */
export const systemClock: BackoffClock = {
  now: () => Date.now(),
  random: () => Math.random(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** One index's backoff state. */
export class Backoff {
  private retriesValue = 0;
  private resetDeadline: number | undefined;

  constructor(
    readonly maxRetries = DEFAULT_MAX_RETRIES,
    readonly baseMs = CONNECTION_BACKOFF_BASE_MS,
    private readonly clock: BackoffClock = systemClock,
  ) {}

  /** Current retry counter; sent as `numPreviousAttempts` (§6.6). */
  get retries(): number {
    return this.retriesValue;
  }

  /** True once the counter reached `maxRetries` (§3.4 fallback trigger). */
  get reachedMaxRetries(): boolean {
    return this.retriesValue >= this.maxRetries;
  }

  /** Upper bound of the next wait, as logged in `Retrying connection in up to …`. */
  get announcedMaxMs(): number {
    if (this.resetDeadline !== undefined && this.clock.now() >= this.resetDeadline) return this.baseMs;
    return this.baseMs * 2 ** (this.retriesValue + 1);
  }

  /** Computes the next wait and advances the counter (§12.3 *Wait*). */
  nextDelayMs(): number {
    if (this.resetDeadline !== undefined && this.clock.now() >= this.resetDeadline) {
      this.retriesValue = 0;
      this.resetDeadline = undefined;
    }
    if (this.retriesValue < this.maxRetries) this.retriesValue++;
    return Math.floor(this.clock.random() * this.baseMs * 2 ** this.retriesValue);
  }

  /** Waits the next delay; returns early when `signal` aborts. */
  async wait(signal?: AbortSignal): Promise<void> {
    await this.clock.sleep(this.nextDelayMs(), signal);
  }

  /** Success (§12.3, HEAD): counter zeroed at once. */
  reset(): void {
    this.retriesValue = 0;
    this.resetDeadline = this.clock.now();
  }
}
