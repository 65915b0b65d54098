/**
 * Sends an HTTP/2 response whose `:status` node:http2 refuses (docs/protocol.md §8.5).
 *
 * Why this exists: cloudflared's Go HTTP/2 server writes any final status 100-999, so an origin's 999 reaches the
 * edge as 999. node:http2's `respond()` throws `ERR_HTTP2_STATUS_INVALID` for a `:status` outside 200-599; that is
 * a check in Node's JavaScript layer only (nghttp2 below it and the edge's HTTP/2 client take any three-digit
 * status). For such a status this module does what `respond()` does after that check: it encodes the header list
 * as node:http2 hands it to the stream's native handle (`name\0value\0<flag byte>` per field, pseudo-headers
 * first, with the field count), marks the stream's headers as sent (so a later write cannot respond again and the
 * body and trailers flow as after `respond()`), and submits the HEADERS through that handle.
 *
 * Node keeps these internals behind symbols: they are found by their descriptions and checked on the first use (the
 * headers-sent bit must flip the public `headersSent`); the layout was read in Node 20, 22 and 24's
 * `internal/http2/core`. Where they are not as expected this answers `false` and the caller keeps the origin
 * failure (502) it used before. Statuses node:http2 accepts never come here: they go through `respond()`.
 */
import http2 from 'node:http2';

/** `respond()`'s options this module honours. */
export interface AnyStatusOptions {
  readonly endStream: boolean;
  readonly waitForTrailers: boolean;
}

/** The native stream handle's `respond(headerList, streamOptions)`; a negative answer is an nghttp2 error. */
interface NativeStreamHandle {
  respond(headerList: [string, number], streamOptions: number): number;
}

interface StreamState {
  flags: number;
}

/** Where node:http2 keeps a stream's native handle and its state (the symbols' descriptions in `core.js`). */
interface StreamInternals {
  readonly handle: symbol;
  readonly state: symbol;
  readonly emptyPayload: number;
  readonly getTrailers: number;
  /** The flag byte of a field without flags. */
  readonly noFlags: string;
}

// Bits of the stream state's `flags` (`STREAM_FLAGS_HEADERS_SENT`, `STREAM_FLAGS_HAS_TRAILERS` in core.js).
const FLAG_HEADERS_SENT = 0x4;
const FLAG_HAS_TRAILERS = 0x20;
// Exported by node:http2's `constants` (untyped): `respond()`'s stream options and the field flag for "none".
const nativeConstants = http2.constants as unknown as Record<string, number | undefined>;
const EMPTY_PAYLOAD = nativeConstants.STREAM_OPTION_EMPTY_PAYLOAD;
const GET_TRAILERS = nativeConstants.STREAM_OPTION_GET_TRAILERS;
const NV_FLAG_NONE = nativeConstants.NGHTTP2_NV_FLAG_NONE;

/** Bytes no field may carry: NUL splits the native list, CR and LF are refused by HTTP/2 (RFC 9113 §8.2.1). */
const FORBIDDEN = /[\0\r\n]/;

/** `undefined` until the first use; `null` when this Node's internals are not the expected ones. */
let internals: StreamInternals | null | undefined;

/** Whether node:http2's `respond()` sends `status` (it refuses a `:status` outside 200-599). */
export function nodeHttp2SendsStatus(status: number): boolean {
  return status >= 200 && status <= 599;
}

/**
 * Sends `headers` (lower-case names, `:status` first) as the response HEADERS of `stream`, whatever the status,
 * like `stream.respond(headers, options)`. Answers `false`, having sent nothing, where this Node's internals are
 * not as expected or a field cannot be encoded.
 */
export function respondWithAnyStatus(
  stream: http2.ServerHttp2Stream,
  headers: http2.OutgoingHttpHeaders,
  options: AnyStatusOptions,
): boolean {
  if (stream.destroyed || stream.closed || stream.headersSent) return false;
  const found = internals === undefined ? (internals = findInternals(stream)) : internals;
  if (found === null) return false;
  const handle = Reflect.get(stream, found.handle) as NativeStreamHandle;
  const state = Reflect.get(stream, found.state) as StreamState;
  const fields = { ...headers };
  // respond() adds a Date unless told not to; Go's server too (§8.5).
  fields.date ??= new Date().toUTCString();
  const list = encodeHeaderList(fields, found.noFlags);
  if (list === null) return false;
  let streamOptions = 0;
  if (options.endStream) streamOptions |= found.emptyPayload;
  if (options.waitForTrailers) {
    streamOptions |= found.getTrailers;
    state.flags |= FLAG_HAS_TRAILERS;
  }
  state.flags |= FLAG_HEADERS_SENT;
  // As respond(): the writable side ends with the HEADERS when there is no body (or the request was a HEAD).
  if (options.endStream || (stream as { headRequest?: boolean }).headRequest === true) stream.end();
  if (handle.respond(list, streamOptions) < 0) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  return true;
}

/**
 * Locates the native handle and the state of `stream` (a stream that has not responded yet) and checks that the
 * headers-sent bit is the one the public `headersSent` reads; leaves the stream as it found it.
 */
function findInternals(stream: http2.ServerHttp2Stream): StreamInternals | null {
  if (typeof EMPTY_PAYLOAD !== 'number' || typeof GET_TRAILERS !== 'number' || typeof NV_FLAG_NONE !== 'number') {
    return null;
  }
  const symbols = Object.getOwnPropertySymbols(stream);
  const handle = onlySymbol(symbols, 'kHandle');
  const state = onlySymbol(symbols, 'state');
  if (handle === undefined || state === undefined) return null;
  const handleValue: unknown = Reflect.get(stream, handle);
  const stateValue: unknown = Reflect.get(stream, state);
  if (typeof (handleValue as Partial<NativeStreamHandle> | null)?.respond !== 'function') return null;
  const flags = (stateValue as Partial<StreamState> | null)?.flags;
  if (typeof flags !== 'number' || (flags & FLAG_HEADERS_SENT) !== 0 || stream.headersSent) return null;
  (stateValue as StreamState).flags = flags | FLAG_HEADERS_SENT;
  const flips = stream.headersSent;
  (stateValue as StreamState).flags = flags;
  if (!flips) return null;
  return {
    handle,
    state,
    emptyPayload: EMPTY_PAYLOAD,
    getTrailers: GET_TRAILERS,
    noFlags: String.fromCharCode(NV_FLAG_NONE),
  };
}

function onlySymbol(symbols: symbol[], description: string): symbol | undefined {
  const matching = symbols.filter((s) => s.description === description);
  return matching.length === 1 ? matching[0] : undefined;
}

/**
 * The header list as node:http2 passes it to its native handle: one string of `name\0value\0<flag byte>` fields,
 * pseudo-headers first, and the number of fields. The native side splits at NUL bytes, and nothing below
 * `respond()`'s checks refuses a CR or LF (an origin's header value, e.g. its tracing header, could carry one): a field
 * carrying any of them is not sent (`null`; the caller keeps the 502).
 */
function encodeHeaderList(headers: http2.OutgoingHttpHeaders, noFlags: string): [string, number] | null {
  let pseudo = '';
  let regular = '';
  let count = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === '') continue;
    const key = name.toLowerCase();
    for (const v of Array.isArray(value) ? value : [value]) {
      const text = String(v);
      if (FORBIDDEN.test(key) || FORBIDDEN.test(text)) return null;
      const field = `${key}\0${text}\0${noFlags}`;
      if (key.startsWith(':')) pseudo += field;
      else regular += field;
      count++;
    }
  }
  return [pseudo + regular, count];
}
