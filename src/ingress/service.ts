/**
 * Parsing of ingress `service` strings (PROTOCOL.md §10.2) into a typed description. Creating the live origin for a
 * service is the proxy layer's job; this module only validates and canonicalises.
 */
import { IngressConfigError } from './errors.js';

/** Default ports of the TCP-over-WebSocket schemes (§10.2). */
export const TCP_SCHEME_DEFAULT_PORTS: Readonly<Record<string, number>> = { ssh: 22, rdp: 3389, smb: 445, tcp: 7864 };

/** A validated ingress service. */
export type IngressService =
  | { kind: 'http'; url: URL; canonical: string }
  | { kind: 'unix'; path: string; tls: boolean; canonical: string }
  | { kind: 'status'; status: number; canonical: string }
  | { kind: 'hello_world'; canonical: 'hello_world' }
  | { kind: 'tcp_over_ws'; host: string; port: number; canonical: string }
  | { kind: 'bastion'; canonical: 'bastion' }
  | { kind: 'socks_proxy'; canonical: 'socks-proxy' };

const HTTP_SCHEMES: Readonly<Record<string, string>> = { 'http:': 'http:', 'https:': 'https:', 'ws:': 'http:', 'wss:': 'https:' };

/** Parses one service string; throws {@link IngressConfigError} with cloudflared's wording when invalid. */
export function parseIngressService(raw: string): IngressService {
  const service = raw.trim();
  if (service.startsWith('http_status:')) {
    const digits = service.slice('http_status:'.length);
    const status = /^\d+$/.test(digits) ? Number(digits) : NaN;
    if (!Number.isInteger(status) || status < 100 || status > 999) {
      throw new IngressConfigError(`invalid HTTP status code: ${digits}`);
    }
    return { kind: 'status', status, canonical: `http_status:${status}` };
  }
  if (service === 'hello_world' || service === 'hello-world') return { kind: 'hello_world', canonical: 'hello_world' };
  if (service === 'bastion') return { kind: 'bastion', canonical: 'bastion' };
  if (service === 'socks-proxy') return { kind: 'socks_proxy', canonical: 'socks-proxy' };
  if (service.startsWith('unix+tls:')) return { kind: 'unix', path: service.slice(9), tls: true, canonical: service };
  if (service.startsWith('unix:')) return { kind: 'unix', path: service.slice(5), tls: false, canonical: service };

  let url: URL;
  try {
    url = new URL(service);
  } catch (cause) {
    throw new IngressConfigError(`${service} is an invalid address, please make sure it has a scheme and a hostname`, { cause });
  }
  if (url.hostname === '') {
    throw new IngressConfigError(`${service} is an invalid address, please make sure it has a scheme and a hostname`);
  }
  const httpScheme = HTTP_SCHEMES[url.protocol];
  if (httpScheme !== undefined) {
    // `new URL` turns an empty path into "/", so look at the raw text: cloudflared rejects even a trailing slash.
    const afterAuthority = service.slice(service.indexOf('//') + 2);
    if (/[/?#]/.test(afterAuthority)) {
      throw new IngressConfigError(
        `${service} is an invalid address, ingress rules don't support proxying to a different path on the origin service. The path will be the same as the eyeball request's path`,
      );
    }
    const target = new URL(`${httpScheme}//${url.host}`);
    return { kind: 'http', url: target, canonical: service };
  }
  const scheme = url.protocol.slice(0, -1);
  const port = url.port === '' ? TCP_SCHEME_DEFAULT_PORTS[scheme] : Number(url.port);
  if (port === undefined) {
    throw new IngressConfigError(`${service} is an invalid address, it needs a port because ${scheme} has no default`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { kind: 'tcp_over_ws', host, port, canonical: `${scheme}://${url.hostname}:${port}` };
}
