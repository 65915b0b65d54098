/**
 * undici, loaded on first use: only `http2Origin` services need it (HTTP/1.1 origins go through node:http), and
 * loading it costs a connector ~19 MB of resident memory it would otherwise never use (issue #19).
 */
import { createRequire } from 'node:module';

type Undici = typeof import('undici');

let loaded: Undici | undefined;

/** The undici module, loaded synchronously the first time it is asked for. */
export function undici(): Undici {
  loaded ??= createRequire(import.meta.url)('undici') as Undici;
  return loaded;
}
