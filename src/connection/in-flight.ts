/** Counts requests being served on a connection so graceful shutdown can wait for them (docs/protocol.md §12.5). */

/** Tracks in-flight work; {@link InFlight.idle} resolves when none is left. */
export class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];

  /** Number of requests being served. */
  get size(): number {
    return this.count;
  }

  /** Runs `work`, counting it while it runs. Never rejects: failures are the handler's to report. */
  run(work: () => Promise<void>): void {
    this.count++;
    work()
      .catch(() => undefined)
      .finally(() => {
        this.count--;
        if (this.count === 0) {
          const waiters = this.waiters;
          this.waiters = [];
          for (const w of waiters) w();
        }
      });
  }

  /** Resolves `true` once nothing is in flight, or `false` when `timeoutMs` passes first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.waiters.push(done);
    });
  }
}
