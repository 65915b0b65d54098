/** Header rules for requests to and responses from HTTP origins (docs/protocol.md §7.2, §10.6). */
import { stripInternalRequestHeaders } from '../wire/serialized-headers.js';
import { canonicalHeaderKey, headerValues } from '../util/headers.js';

/** Header the connector ID is sent in: Go-canonical `Cf-Warp-Tag-` + `ID` (docs/protocol.md §1.4, §10.6). */
export const WARP_TAG_PREFIX = 'Cf-Warp-Tag-';
/** WebSocket version cloudflared sets on upgrade requests (docs/protocol.md §10.6). */
export const WEBSOCKET_VERSION = '13';

/**
 * cloudflared's body rule (docs/protocol.md §7.2): a body is attached only when `Content-Length` > 0, when
 * `Transfer-Encoding` contains `chunked`, or for WebSocket requests.
 */
export function requestHasBody(headers: ReadonlyArray<readonly [string, string]>, isWebsocket: boolean): boolean {
  if (isWebsocket) return true;
  if (headerValues(headers, 'transfer-encoding').some((v) => v.toLowerCase().includes('chunked'))) return true;
  const length = headerValues(headers, 'content-length')[0];
  return length !== undefined && /^\d+$/.test(length.trim()) && Number(length) > 0;
}

/**
 * Request headers that the HTTP client sets itself from the request shape (undici refuses some of them):
 * hop-by-hop fields, `Host` (set separately), and framing fields.
 */
const CLIENT_MANAGED = new Set([
  'host',
  'connection',
  'keep-alive',
  'upgrade',
  'transfer-encoding',
  'expect',
  'te',
  'proxy-connection',
]);

/** Inputs of {@link buildOriginRequestHeaders}. */
export interface OriginHeaderInput {
  headers: ReadonlyArray<readonly [string, string]>;
  host: string;
  isWebsocket: boolean;
  hasBody: boolean;
  connectorId: string;
  httpHostHeader?: string;
  tags?: ReadonlyArray<readonly [string, string]>;
}

/** Result of {@link buildOriginRequestHeaders}: the `Host` value and the other headers in order. */
export interface OriginHeaders {
  host: string;
  headers: Array<[string, string]>;
}

/**
 * Headers for the origin request (docs/protocol.md §10.6): edge headers minus internal and client-managed ones, names
 * Go-canonical, `Cf-Warp-Tag-Id` and tags appended, `X-Forwarded-Host` when `httpHostHeader` is set, and
 * `Sec-Websocket-Version: 13` for WebSocket. `Connection`/`Upgrade` are written by the HTTP client.
 */
export function buildOriginRequestHeaders(input: OriginHeaderInput): OriginHeaders {
  const out: Array<[string, string]> = [];
  for (const [name, value] of stripInternalRequestHeaders(input.headers)) {
    const lower = name.toLowerCase();
    if (CLIENT_MANAGED.has(lower)) continue;
    if (lower === 'content-length' && (!input.hasBody || input.isWebsocket)) continue;
    if (input.isWebsocket && lower === 'sec-websocket-version') continue;
    out.push([canonicalHeaderKey(name), value]);
  }
  let host = input.host;
  if (input.httpHostHeader) {
    out.push(['X-Forwarded-Host', input.host]);
    host = input.httpHostHeader;
  }
  out.push([canonicalHeaderKey(`${WARP_TAG_PREFIX}ID`), input.connectorId]);
  for (const [name, value] of input.tags ?? []) out.push([canonicalHeaderKey(`${WARP_TAG_PREFIX}${name}`), value]);
  if (input.isWebsocket) out.push(['Sec-Websocket-Version', WEBSOCKET_VERSION]);
  return { host, headers: out };
}

/**
 * Header names an origin nominates as hop-by-hop in its `Connection` header (RFC 9110 §7.6.1), lower-case.
 * `close`, `keep-alive` and `upgrade` as tokens name no other header worth keeping either.
 */
function nominatedByConnection(pairs: ReadonlyArray<readonly [string, string]>): Set<string> | null {
  let out: Set<string> | null = null;
  for (const [name, value] of pairs) {
    // Names are Go-canonical here.
    if (name !== 'Connection') continue;
    out ??= new Set<string>();
    for (const token of value.split(',')) {
      const t = token.trim().toLowerCase();
      if (t !== '') out.add(t);
    }
  }
  return out;
}

/**
 * Origin response headers from a raw `[name, value, …]` list whose values are byte strings (one char per byte, as
 * Node's HTTP parser reports them): Go-canonical names, order kept, `Transfer-Encoding` removed, and the headers the
 * origin nominated in `Connection` removed (RFC 9110 §7.6.1) except on a 101 upgrade, whose `Upgrade` the edge needs.
 * Values stay byte strings, so bytes outside ASCII reach the edge unchanged (docs/protocol.md §7.3, §8.5).
 */
export function originResponseHeaders(raw: readonly string[], upgrade: boolean): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = canonicalHeaderKey(raw[i]!);
    if (name === 'Transfer-Encoding') continue;
    pairs.push([name, raw[i + 1]!]);
  }
  if (upgrade) return pairs;
  const nominated = nominatedByConnection(pairs);
  if (nominated === null || nominated.size === 0) return pairs;
  return pairs.filter(([name]) => !nominated.has(name.toLowerCase()));
}

/**
 * Final statuses passed on: any 3-digit status from 200 up (and 101 for upgrades), as cloudflared relays what Go's
 * HTTP client accepts (§7.3, §8.5); the HTTP/2 transport sends what node:http2 refuses itself (`http2-any-status.ts`).
 */
export function validFinalStatus(status: number): boolean {
  return status === 101 || (status >= 200 && status <= 999);
}

/** Response headers from undici's raw list (HTTP/2 origins): as {@link originResponseHeaders}, bytes kept. */
export function responseHeadersFromRaw(
  raw: ReadonlyArray<Buffer | string> | null,
  upgrade = false,
): Array<[string, string]> {
  if (raw === null) return [];
  const flat: string[] = [];
  for (const item of raw) flat.push(typeof item === 'string' ? item : item.toString('latin1'));
  return originResponseHeaders(flat, upgrade);
}

/**
 * Trailers as undici reports them (raw `[name, value, …]` over HTTP/1.1, a node:http2 headers object over HTTP/2):
 * Go-canonical names, pseudo-headers dropped.
 */
export function trailersFromUndici(
  raw: ReadonlyArray<Buffer | string> | Record<string, string | string[] | undefined> | null,
): Array<[string, string]> {
  if (raw === null) return [];
  if (Array.isArray(raw)) return responseHeadersFromRaw(raw as ReadonlyArray<Buffer | string>);
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(raw as Record<string, string | string[] | undefined>)) {
    if (name.startsWith(':') || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push([canonicalHeaderKey(name), v]);
  }
  return out;
}
