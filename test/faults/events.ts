/** Waiting for counted events without sleeps: resolves once `count` matching events arrived. */
import type { EventEmitter } from 'node:events';

/** Resolves with the first `count` arguments-tuples of `event` that pass `filter`. Attach before causing them. */
export function nextEvents<T extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  count: number,
  filter: (...args: T) => boolean = () => true,
): Promise<T[]> {
  return new Promise((resolve) => {
    const seen: T[] = [];
    const on = (...args: unknown[]): void => {
      if (!filter(...(args as T))) return;
      seen.push(args as T);
      if (seen.length === count) {
        emitter.off(event, on);
        resolve(seen);
      }
    };
    emitter.on(event, on);
  });
}
