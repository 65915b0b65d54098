/** Waiting for counted events without sleeps: resolves once `count` matching events arrived. */
import type { EventEmitter } from 'node:events';

/**
 * Hang guard, not a speed assertion: far longer than any reconnection here takes (one backoff < 4 s plus a
 * handshake), and shorter than the tests' own timeouts, so a missing event fails the test with a message and its
 * `finally` still cleans up (a test that hits node:test's timeout never runs its cleanup).
 */
export const EVENT_DEADLINE_MS = 25_000;

/** Resolves with the first `count` argument tuples of `event` that pass `filter`. Attach before causing them. */
export function nextEvents<T extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  count: number,
  filter: (...args: T) => boolean = () => true,
  deadlineMs = EVENT_DEADLINE_MS,
): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const seen: T[] = [];
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`only ${seen.length} of ${count} '${event}' events within ${deadlineMs} ms`));
    }, deadlineMs);
    timer.unref();
    const on = (...args: unknown[]): void => {
      if (!filter(...(args as T))) return;
      seen.push(args as T);
      if (seen.length === count) {
        clearTimeout(timer);
        emitter.off(event, on);
        resolve(seen);
      }
    };
    emitter.on(event, on);
  });
}
