/**
 * Synchronous lazy loading of CommonJS dependencies that only some tunnels use (a WebSocket library for
 * TCP-over-WebSocket, YAML for config files, DNS wire encoding for the DNS-over-TLS fallback). Each adds megabytes of
 * RSS once loaded; a static `import` would make every process pay for all of them at start.
 */
import { createRequire } from 'node:module';

const requireFromHere = createRequire(import.meta.url);

/** Returns a getter that `require`s `specifier` on its first call and caches it. */
export function lazyRequire<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireFromHere(specifier) as T);
}
