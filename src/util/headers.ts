/**
 * HTTP header names the way Go treats them: the canonical form of `textproto.CanonicalMIMEHeaderKey`, and
 * case-insensitive lookup in `[name, value]` lists (header order and duplicates kept, docs/protocol.md §7.2).
 */

/** A header list in wire order. */
export type HeaderList = ReadonlyArray<readonly [string, string]>;

/** A valid header name: one or more RFC 9110 token characters. */
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Canonical forms already computed: the same few dozen names come with every request. Bounded in entries and name
 * length, since the names come from visitors (at most 64 KiB of keys).
 */
const canonicalCache = new Map<string, string>();
const CANONICAL_CACHE_ENTRIES = 1024;
const CANONICAL_CACHE_NAME_LENGTH = 64;

/** Go's `textproto.CanonicalMIMEHeaderKey`: `content-type` → `Content-Type`; invalid names are left alone. */
export function canonicalHeaderKey(name: string): string {
  const cached = canonicalCache.get(name);
  if (cached !== undefined) return cached;
  if (!HTTP_TOKEN.test(name)) return name;
  let out = '';
  let upper = true;
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  if (name.length <= CANONICAL_CACHE_NAME_LENGTH && canonicalCache.size < CANONICAL_CACHE_ENTRIES)
    canonicalCache.set(name, out);
  return out;
}

/** Index of the first header named `lowerName` (given in lower case) in any case, or -1. */
export function headerIndex(headers: HeaderList, lowerName: string): number {
  return headers.findIndex(([n]) => n.length === lowerName.length && n.toLowerCase() === lowerName);
}

/** Value of the first header named `lowerName` (given in lower case) in any case. */
export function headerValue(headers: HeaderList, lowerName: string): string | undefined {
  const i = headerIndex(headers, lowerName);
  return i < 0 ? undefined : headers[i]![1];
}

/** Values of every header named `lowerName` (given in lower case) in any case, in order. */
export function headerValues(headers: HeaderList, lowerName: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) if (n.length === lowerName.length && n.toLowerCase() === lowerName) out.push(v);
  return out;
}

/**
 * A header value without the optional whitespace around it: spaces and tabs only (RFC 9110 §5.5, as Go's
 * `textproto.TrimString` and llhttp). `String.prototype.trim` would also strip 0xA0 (a UTF-8 continuation byte in a
 * latin1 byte string), \v and \f.
 */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 32 || value.charCodeAt(start) === 9)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 32 || value.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}
