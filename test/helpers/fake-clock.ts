/** A fake clock for backoff and scheduling tests: time moves only when the test says so. */
import type { BackoffClock } from '../../src/supervisor/backoff.js';

interface Sleeper {
  until: number;
  resolve: () => void;
}

/** Fake {@link BackoffClock} with scripted randomness. */
export class FakeClock implements BackoffClock {
  private t = 0;
  private sleepers: Sleeper[] = [];
  /** Every sleep requested, in ms, in order. */
  readonly sleeps: number[] = [];
  /** Values `random()` returns in turn (then repeats the last). */
  randoms: number[] = [0.5];
  private r = 0;

  now(): number {
    return this.t;
  }

  random(): number {
    const v = this.randoms[Math.min(this.r, this.randoms.length - 1)]!;
    this.r++;
    return v;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        resolve();
      };
      const sleeper = {
        until: this.t + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Number of sleeps not yet finished. */
  get pending(): number {
    return this.sleepers.length;
  }

  /** Moves time forward, waking every sleeper whose deadline passed. */
  advance(ms: number): void {
    this.t += ms;
    const due = this.sleepers.filter((s) => s.until <= this.t);
    this.sleepers = this.sleepers.filter((s) => s.until > this.t);
    for (const s of due) s.resolve();
  }

  /** Moves time to the earliest pending sleeper's deadline (nothing when none is pending). */
  advanceToNext(): void {
    if (this.sleepers.length === 0) return;
    this.advance(Math.max(0, Math.min(...this.sleepers.map((s) => s.until)) - this.t));
  }

  /**
   * Resolves once `count` sleeps are pending (so the test knows the scheduler reached its wait), or as soon as
   * `stop()` returns true.
   */
  async waitForSleeper(count = 1, stop: () => boolean = () => false): Promise<void> {
    while (this.sleepers.length < count && !stop()) await new Promise((r) => setImmediate(r));
  }
}
