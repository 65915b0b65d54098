/**
 * Parsing of ingress `service` strings (docs/protocol.md §10.2) into a typed description, in cloudflared's order of
 * checks (`ingress/ingress.go` validateIngress). This is the only service-string parser: the proxy builds live origins
 * from the {@link IngressService} it returns.
 */
import { IngressConfigError, UnsupportedServiceError } from './errors.js';
import { parseCidr, type OriginRequestConfig } from './origin-request.js';

/** Default ports of the TCP-over-WebSocket schemes (§10.2). */
export const TCP_SCHEME_DEFAULT_PORTS: Readonly<Record<string, number>> = { ssh: 22, rdp: 3389, smb: 445, tcp: 7864 };

/** Names cloudflared accepts for the built-in test server (§10.2). */
export const HELLO_WORLD_NAMES: readonly string[] = ['hello_world', 'hello-world'];

/** A validated ingress service. `canonical` is the string form of §10.2 (logs, §9.4). */
export type IngressService =
  | { readonly kind: 'http'; readonly url: URL; readonly canonical: string }
  | { readonly kind: 'unix'; readonly path: string; readonly tls: boolean; readonly canonical: string }
  | { readonly kind: 'status'; readonly status: number; readonly canonical: string }
  | { readonly kind: 'hello_world'; readonly canonical: 'hello_world' }
  | {
      readonly kind: 'tcp_over_ws';
      readonly host: string;
      readonly port: number | undefined;
      readonly canonical: string;
    }
  | { readonly kind: 'bastion'; readonly canonical: 'bastion' };

/** Scheme mapping of HTTP services: WebSocket schemes are dialled as HTTP(S) (§10.2). */
const HTTP_SCHEMES: Readonly<Record<string, string>> = {
  'http:': 'http:',
  'https:': 'https:',
  'ws:': 'http:',
  'wss:': 'https:',
};

function invalidAddress(service: string, cause?: unknown): IngressConfigError {
  return new IngressConfigError(`${service} is an invalid address, please make sure it has a scheme and a hostname`, {
    cause,
  });
}

function parseStatus(service: string, digits: string): IngressService {
  // Go's strconv.Atoi accepts an optional sign and decimal digits only.
  if (!/^[+-]?\d+$/.test(digits)) {
    throw new IngressConfigError(
      `invalid HTTP status code: strconv.Atoi: parsing ${JSON.stringify(digits)}: invalid syntax`,
    );
  }
  const status = Number(digits);
  if (status < 100 || status > 999) throw new IngressConfigError(`invalid HTTP status code: ${status}`);
  return { kind: 'status', status, canonical: `http_status:${status}` };
}

function parseUrlService(service: string): IngressService {
  let url: URL;
  try {
    url = new URL(service);
  } catch (cause) {
    throw invalidAddress(service, cause);
  }
  const afterScheme = service.slice(url.protocol.length);
  if (!afterScheme.startsWith('//') || url.hostname === '') throw invalidAddress(service);
  // WHATWG URL turns an empty path into "/", so look at the text: cloudflared rejects any path, even "/".
  const rest = afterScheme.slice(2);
  const pathStart = rest.search(/[/?#]/);
  if (pathStart >= 0 && rest[pathStart] === '/') {
    throw new IngressConfigError(
      `${service} is an invalid address, ingress rules don't support proxying to a different path on the origin service. The path will be the same as the eyeball request's path`,
    );
  }
  const httpScheme = HTTP_SCHEMES[url.protocol];
  if (httpScheme !== undefined) return { kind: 'http', url: new URL(`${httpScheme}//${url.host}`), canonical: service };
  const scheme = url.protocol.slice(0, -1);
  const port = url.port === '' ? TCP_SCHEME_DEFAULT_PORTS[scheme] : Number(url.port);
  const hostText = url.hostname;
  return {
    kind: 'tcp_over_ws',
    host: hostText.replace(/^\[(.*)\]$/, '$1'),
    port,
    canonical: `${scheme}://${hostText}${port === undefined ? '' : `:${port}`}`,
  };
}

/**
 * Parses one service string; `options` is the rule's resolved `originRequest` (bastionMode / proxyType matter).
 *
 * @throws {IngressConfigError} with cloudflared's wording when invalid.
 * @throws {UnsupportedServiceError} for `socks-proxy` and `proxyType: socks` (not implemented, by decision).
 */
export function parseIngressService(service: string, options: OriginRequestConfig): IngressService {
  if (service.startsWith('unix:')) return { kind: 'unix', path: service.slice(5), tls: false, canonical: service };
  if (service.startsWith('unix+tls:')) return { kind: 'unix', path: service.slice(9), tls: true, canonical: service };
  if (service.startsWith('http_status:')) return parseStatus(service, service.slice('http_status:'.length));
  if (HELLO_WORLD_NAMES.includes(service)) return { kind: 'hello_world', canonical: 'hello_world' };
  if (service === 'socks-proxy') {
    // The rule's ipRules are checked first, with cloudflared's messages, so a bad rule reads the same.
    for (const r of options.ipRules) {
      if (r.prefix === '') throw new IngressConfigError(`unable to create ip rule for ${service}: no prefix provided`);
      if (parseCidr(r.prefix) === undefined)
        throw new IngressConfigError(`unable to create ip rule for ${service}: unable to parse cidr: ${r.prefix}`);
    }
    throw new UnsupportedServiceError(service);
  }
  if (service === 'bastion' || options.bastionMode) return { kind: 'bastion', canonical: 'bastion' };
  const parsed = parseUrlService(service);
  if (parsed.kind === 'tcp_over_ws' && options.proxyType === 'socks')
    throw new UnsupportedServiceError('originRequest.proxyType "socks"');
  return parsed;
}
