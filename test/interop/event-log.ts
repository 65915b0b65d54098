/**
 * An append-only log of things that happened (edge events, child output lines) that a test can wait on: "at least
 * n entries matching p, past or future", always bounded by a timeout so a missing event fails instead of hanging.
 */

/** Entries recorded so far, with bounded waits on them. */
export class EventLog<T> {
  private readonly entries: T[] = [];
  private readonly waiters = new Set<() => void>();

  /** Records one entry and wakes the waiters. */
  push(entry: T): void {
    this.entries.push(entry);
    for (const wake of [...this.waiters]) wake();
  }

  /** Number of entries so far; pass it as `since` to wait only on later entries. */
  get length(): number {
    return this.entries.length;
  }

  /** Every entry so far. */
  get all(): readonly T[] {
    return this.entries;
  }

  /**
   * Resolves with the matching entries (from index `since` on) once there are at least `count` of them; rejects
   * with an error naming `label` after `timeoutMs`.
   */
  waitFor(options: {
    match: (entry: T) => boolean;
    count?: number;
    since?: number;
    label: string;
    timeoutMs: number;
  }): Promise<T[]> {
    const { match, count = 1, since = 0, label, timeoutMs } = options;
    const matching = (): T[] => this.entries.slice(since).filter(match);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = matching();
        if (found.length < count) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${count} × ${label} (got ${matching().length})`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}

/** Rejects with `label` if `promise` has not settled within `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${label}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
