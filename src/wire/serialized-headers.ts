/**
 * HTTP/2-mode header conventions (docs/protocol.md §8.2, §8.5): the serialized `Cf-Cloudflared-Response-Headers`
 * value, which response headers go into it, the `Cf-Cloudflared-Response-Meta` values, and the internal request
 * headers that must not reach the origin.
 */
import { CftunnelError } from '../errors.js';

/** Response header carrying every origin header, serialized (docs/protocol.md §8.5). */
export const RESPONSE_HEADERS_HEADER = 'cf-cloudflared-response-headers';
/** Response header saying who produced the response (docs/protocol.md §8.5, §8.7). */
export const RESPONSE_META_HEADER = 'cf-cloudflared-response-meta';
/** Request header classifying HTTP/2 requests; removed before proxying (docs/protocol.md §8.2, §10.6). */
export const PROXY_CONNECTION_UPGRADE_HEADER = 'cf-cloudflared-proxy-connection-upgrade';
/** Request header marking a private-network TCP request over HTTP/2 (docs/protocol.md §8.2). */
export const PROXY_SRC_HEADER = 'cf-cloudflared-proxy-src';
/** Request tracing header, consumed by the connector (docs/protocol.md §10.6, §10.7). */
export const TRACE_ID_HEADER = 'cf-trace-id';
/** Tracing response header sent as a real HTTP/2 header rather than serialized (docs/protocol.md §8.5). */
export const TRACING_RESPONSE_HEADER = 'cf-int-cloudflared-tracing';

/** Meta value for responses from the origin or an `http_status:` rule (docs/protocol.md §8.5, §11). */
export const RESPONSE_META_ORIGIN = '{"src":"origin"}';
/** Meta value for the connector's own 502 (docs/protocol.md §8.7, §11). */
export const RESPONSE_META_CLOUDFLARED = '{"src":"cloudflared"}';

/**
 * Lower-case name prefixes never serialized. HEAD's list (docs/protocol.md §8.5), which adds `cf-proxy-` to the three
 * prefixes of 2023.7.3: such headers are edge-internal either way.
 */
export const UNSERIALIZED_RESPONSE_PREFIXES: readonly string[] = [':', 'cf-int-', 'cf-cloudflared-', 'cf-proxy-'];
/** Serialized whatever the prefix rules say (docs/protocol.md §8.5). */
const ALWAYS_SERIALIZED = new Set(['sec-websocket-accept', 'connection', 'upgrade']);

/** A header pair in order; repeated names allowed. */
export type HeaderPair = [name: string, value: string];

/** The `Cf-Cloudflared-Response-Headers` value is not `b64:b64;…` with raw standard base64; message as cloudflared's. */
export class SerializedHeadersError extends CftunnelError {
  constructor(message: string) {
    super('CFT_ERR_SERIALIZED_HEADERS', message);
  }
}

const RAW_STD_BASE64 = /^[A-Za-z0-9+/]*$/;

const NON_LATIN1 = /[^\x00-\xff]/;

/** Byte strings (one char per byte) as latin1; any text with a char above 0xFF as UTF-8. */
function encodeRaw(text: string, byteString = false): string {
  const encoding = byteString && !NON_LATIN1.test(text) ? 'latin1' : 'utf8';
  const padded = Buffer.from(text, encoding).toString('base64');
  // At most two `=` of padding, dropped without a regular expression (measurable per response, issue 19).
  let end = padded.length;
  while (end > 0 && padded.charCodeAt(end - 1) === 61 /* '=' */) end--;
  return end === padded.length ? padded : padded.slice(0, end);
}

function decodeRaw(text: string, what: string, index: number, byteString = false): string {
  // Length 4k+1 cannot come from any byte string.
  if (!RAW_STD_BASE64.test(text) || text.length % 4 === 1) {
    throw new SerializedHeadersError(
      `Unable to deserialize headers: pair ${index} ${what} is not unpadded standard base64`,
    );
  }
  return Buffer.from(text, 'base64').toString(byteString ? 'latin1' : 'utf8');
}

/** True when an origin response header goes into `Cf-Cloudflared-Response-Headers` (docs/protocol.md §8.5). */
export function isSerializedResponseHeader(name: string): boolean {
  const lower = name.toLowerCase();
  if (ALWAYS_SERIALIZED.has(lower)) return true;
  return !UNSERIALIZED_RESPONSE_PREFIXES.some((p) => lower.startsWith(p));
}

/**
 * Encodes pairs as `base64raw(name):base64raw(value)` joined by `;`, with no filtering. With `byteStringValues`,
 * values are byte strings (origin header bytes as received, e.g. 0xFF) and are encoded byte for byte.
 */
export function encodeSerializedHeaders(
  headers: Iterable<readonly [string, string]>,
  byteStringValues = false,
): string {
  const parts: string[] = [];
  for (const [name, value] of headers) parts.push(`${encodeRaw(name)}:${encodeRaw(value, byteStringValues)}`);
  return parts.join(';');
}

/**
 * Decodes a `Cf-Cloudflared-Response-Headers` value: split on `;`, skip empty parts, split each on `:` into
 * exactly two parts, raw-base64-decode both (docs/protocol.md §8.5). With `byteStringValues`, values come back as
 * byte strings (one char per byte) instead of UTF-8 text.
 * @throws {SerializedHeadersError}
 */
export function decodeSerializedHeaders(value: string, byteStringValues = false): HeaderPair[] {
  const out: HeaderPair[] = [];
  const parts = value.split(';');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '') continue;
    const fields = part.split(':');
    if (fields.length !== 2)
      throw new SerializedHeadersError(`Unable to deserialize headers: pair ${i} is not name:value`);
    out.push([decodeRaw(fields[0]!, 'name', i), decodeRaw(fields[1]!, 'value', i, byteStringValues)]);
  }
  return out;
}

/**
 * Filters origin response headers per {@link isSerializedResponseHeader} and encodes them; values are byte strings
 * (see `OriginResponse.headers`).
 */
export function serializeResponseHeaders(headers: Iterable<readonly [string, string]>): string {
  let out = '';
  let first = true;
  for (const [name, value] of headers) {
    const encodedName = serializedName(name);
    if (encodedName === null) continue;
    out += `${first ? '' : ';'}${encodedName}:${encodeRaw(value, true)}`;
    first = false;
  }
  return out;
}

/**
 * Encoded response header names, `null` for names never serialized: the same few names come with every response.
 * Bounded in entries and name length, since the names come from origins.
 */
const serializedNames = new Map<string, string | null>();
const SERIALIZED_NAMES_ENTRIES = 1024;
const SERIALIZED_NAME_LENGTH = 64;

/** `base64raw(name)` when the header is serialized (§8.5), else `null`. */
function serializedName(name: string): string | null {
  let encoded = serializedNames.get(name);
  if (encoded !== undefined) return encoded;
  encoded = isSerializedResponseHeader(name) ? encodeRaw(name) : null;
  if (name.length <= SERIALIZED_NAME_LENGTH && serializedNames.size < SERIALIZED_NAMES_ENTRIES)
    serializedNames.set(name, encoded);
  return encoded;
}

/**
 * Request headers from the edge with the connector-internal ones removed before proxying: the upgrade
 * classifier, the private-network source marker and the trace id (docs/protocol.md §8.2, §10.6).
 */
export function stripInternalRequestHeaders(headers: Iterable<readonly [string, string]>): HeaderPair[] {
  const out: HeaderPair[] = [];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === PROXY_CONNECTION_UPGRADE_HEADER || lower === PROXY_SRC_HEADER || lower === TRACE_ID_HEADER) continue;
    out.push([name, value]);
  }
  return out;
}
