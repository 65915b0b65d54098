/** Builds an {@link OriginService} from an ingress service string (PROTOCOL.md §10.2). */
import { InvalidOriginServiceError } from './errors.js';
import { HttpOriginService } from './http-origin.js';
import { StatusOriginService } from './status-origin.js';
import type { OriginRequestOptions, OriginService } from './types.js';

/** `http_status:` range accepted by cloudflared (PROTOCOL.md §10.3). */
const MIN_STATUS = 100;
const MAX_STATUS = 999;

/** Scheme rewrites for WebSocket service URLs (PROTOCOL.md §10.2). */
const HTTP_SCHEMES: Readonly<Record<string, string>> = { 'http:': 'http:', 'https:': 'https:', 'ws:': 'http:', 'wss:': 'https:' };

function parseHttpService(service: string, options: OriginRequestOptions): OriginService {
  let url: URL;
  try {
    url = new URL(service);
  } catch {
    throw new InvalidOriginServiceError(`${service} is an invalid address, please make sure it has a scheme and a hostname`);
  }
  const scheme = HTTP_SCHEMES[url.protocol];
  const afterAuthority = service.slice(service.indexOf('//') + 2);
  if (scheme === undefined || url.hostname === '') {
    throw new InvalidOriginServiceError(`${service} is an invalid address, please make sure it has a scheme and a hostname`);
  }
  if (/[/?#]/.test(afterAuthority)) {
    throw new InvalidOriginServiceError(
      `${service} is an invalid address, ingress rules don't support proxying to a different path on the origin service`,
    );
  }
  return new HttpOriginService({ origin: `${scheme}//${url.host}` }, options);
}

/**
 * Creates the origin for a service string: `http://h[:p]`, `https://…`, `ws://…`, `wss://…`, `unix:/path`,
 * `unix+tls:/path` or `http_status:NNN`.
 *
 * @throws {InvalidOriginServiceError} for other forms (including `hello_world`, not implemented here).
 */
export function createOriginService(service: string, options: OriginRequestOptions = {}): OriginService {
  if (service.startsWith('http_status:')) {
    const text = service.slice('http_status:'.length);
    const status = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(status >= MIN_STATUS && status <= MAX_STATUS)) throw new InvalidOriginServiceError('invalid HTTP status code');
    return new StatusOriginService(status);
  }
  if (service.startsWith('unix+tls:')) {
    return new HttpOriginService({ origin: 'https://localhost', socketPath: service.slice('unix+tls:'.length) }, options);
  }
  if (service.startsWith('unix:')) {
    return new HttpOriginService({ origin: 'http://localhost', socketPath: service.slice('unix:'.length) }, options);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(service)) return parseHttpService(service, options);
  throw new InvalidOriginServiceError(`unsupported origin service ${JSON.stringify(service)}`);
}
