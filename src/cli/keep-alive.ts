/**
 * Keeps the process alive while a command runs. The connector core unrefs its reconnect-backoff timers (a library
 * must not hold its host process open), so during a backoff wait nothing else may keep the event loop busy and a
 * CLI run would end silently (Node exit code 13, unsettled top-level await).
 */

/** Longest interval Node timers accept; the callback does nothing, only the ref'd handle matters. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Holds a ref'd timer until the returned function is called. */
export function keepProcessAlive(): () => void {
  const timer = setInterval(() => undefined, MAX_TIMER_MS);
  return () => clearInterval(timer);
}
