/**
 * AbortControllers for the requests of one connection, reused (issue 19: a fresh AbortController with one listener
 * added and removed cost ~4.6 µs against ~0.7 µs reused, measured in a 200,000-iteration loop). A controller is taken
 * back only when its request is over, it never aborted, and nothing listens to its signal any more — the origin
 * services remove their listeners once the request is done, so no one can still be told of a later request's abort.
 */
import { getEventListeners } from 'node:events';

/** Most idle controllers kept per connection. */
export const ABORT_POOL_MAX = 64;

/** Idle AbortControllers of one connection. */
export class AbortControllerPool {
  private readonly idle: AbortController[] = [];

  /** A controller whose signal has not aborted and has no listeners. */
  take(): AbortController {
    return this.idle.pop() ?? new AbortController();
  }

  /** Hands back the controller of a finished request; kept only when unused by anyone (see the module comment). */
  give(controller: AbortController): void {
    const signal = controller.signal;
    if (signal.aborted || this.idle.length >= ABORT_POOL_MAX) return;
    if (getEventListeners(signal, 'abort').length > 0) return;
    this.idle.push(controller);
  }

  /** Idle controllers right now. */
  get size(): number {
    return this.idle.length;
  }
}
