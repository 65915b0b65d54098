/**
 * An incremental parser of HTTP/1.x responses from an origin (RFC 9112; docs/protocol.md §10.5): status line, header
 * fields (raw byte strings), 1xx interim responses skipped, and the body framed by the request method and status
 * (HEAD, 1xx, 204, 304 have none), `Transfer-Encoding: chunked` with trailers, `Content-Length`, or end of file.
 * Error texts are Go's `net/http` ones, which cloudflared puts in front of the visitor (§7.3).
 */
import { HTTP_TOKEN, trimOws } from '../util/headers.js';

/** What the parser reports while it reads one response. */
export interface ResponseParserSink {
  /** The final response head; `raw` is `[name, value, …]` with values as latin1 byte strings. */
  onHead(status: number, raw: string[]): void;
  /** Body bytes (de-chunked). The buffer may be a view into the socket's chunk. */
  onBody(chunk: Buffer): void;
  /** The response is complete; `trailers` is `[name, value, …]` (chunked bodies only). */
  onComplete(trailers: string[] | null): void;
}

/** Why a response could not be read; `message` is Go's text. */
export class ResponseParseError extends Error {}

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  Eof,
  Done,
}

const LF = 10;
const CR = 13;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: |$)/;
const HEX = /^[0-9a-fA-F]+$/;
/** Go's `strconv.ParseUint(s, 10, 63)` bound. */
const MAX_INT63 = 2n ** 63n - 1n;
/** Go's transport `max1xxResponses`: interim responses before the final one. */
const MAX_INTERIM = 5;

/** Parses one response at a time; {@link reset} readies it for the next one on a kept-alive connection. */
export class Http1ResponseParser {
  private state = State.Head;
  /** Bytes of an unfinished head, chunk-size line or trailer block carried over from the previous chunk. */
  private pending: Buffer | null = null;
  private remaining = 0;
  private headBytes = 0;
  private trailers: string[] | null = null;
  /** HTTP/1.1 (or 1.0) of the final response. */
  minorVersion = 1;
  /** Whether the connection may carry another request after this response. */
  keepAlive = false;
  /** Whether the final response has been fully read. */
  get done(): boolean {
    return this.state === State.Done;
  }
  /** Whether any byte of the response arrived. */
  started = false;

  constructor(
    private readonly sink: ResponseParserSink,
    private readonly maxHeadBytes: number,
  ) {}

  /** Readies the parser for the response to a new request (`head`: HEAD request, so no body). */
  reset(head: boolean): void {
    this.isHead = head;
    this.state = State.Head;
    this.pending = null;
    this.remaining = 0;
    this.headBytes = 0;
    this.interim = 0;
    this.chunked = false;
    this.trailers = null;
    this.started = false;
    this.keepAlive = false;
  }

  private isHead = false;
  /** Interim (1xx) responses read before the final one. */
  private interim = 0;
  /** Whether the final response's body is chunked (its trailers are read). */
  chunked = false;

  /**
   * Feeds bytes read from the socket. Returns how many were consumed: less than `data.length` only once the response
   * is complete (bytes after it are the caller's problem). Throws {@link ResponseParseError}.
   */
  execute(data: Buffer): number {
    this.started = true;
    let pos = 0;
    if (this.pending !== null) {
      data = Buffer.concat([this.pending, data]);
      this.pending = null;
    }
    while (pos < data.length && this.state !== State.Done) {
      switch (this.state) {
        case State.Head:
          pos = this.readHead(data, pos);
          break;
        case State.Length:
          pos = this.readCounted(data, pos, State.Done);
          if (this.remaining === 0) this.sink.onComplete(null);
          break;
        case State.Eof:
          this.sink.onBody(pos === 0 ? data : data.subarray(pos));
          pos = data.length;
          break;
        case State.ChunkSize:
          pos = this.readChunkSize(data, pos);
          break;
        case State.ChunkData:
          pos = this.readCounted(data, pos, State.ChunkDataEnd);
          break;
        case State.ChunkDataEnd:
          pos = this.readChunkEnd(data, pos);
          break;
        case State.Trailers:
          pos = this.readTrailers(data, pos);
          break;
      }
    }
    return pos;
  }

  /** Passes on up to `remaining` body bytes; once they are all through, moves to `next`. */
  private readCounted(data: Buffer, pos: number, next: State): number {
    const n = Math.min(this.remaining, data.length - pos);
    this.remaining -= n;
    if (this.remaining === 0) this.state = next;
    this.sink.onBody(data.subarray(pos, pos + n));
    return pos + n;
  }

  /** The origin closed the connection: completes an EOF-delimited body, else says what was cut short. */
  finish(): void {
    if (this.state === State.Eof) {
      this.state = State.Done;
      this.sink.onComplete(null);
      return;
    }
    if (this.state === State.Done) return;
    // Go: a connection closed before any response byte is `EOF`, one closed mid-message `unexpected EOF`.
    throw new ResponseParseError(this.state === State.Head && !this.started ? 'EOF' : 'unexpected EOF');
  }

  /** Finds the end of the next line at or after `pos`; -1 (and the rest kept) when it is not complete yet. */
  private lineEnd(data: Buffer, pos: number, limit: number): number {
    const nl = data.indexOf(LF, pos);
    if (nl < 0) {
      if (data.length - pos > limit) throw new ResponseParseError(this.overflowText());
      this.pending = data.subarray(pos);
      return -1;
    }
    return nl;
  }

  private overflowText(): string {
    return `net/http: server response headers exceeded ${this.maxHeadBytes} bytes; aborted`;
  }

  private static text(data: Buffer, start: number, nl: number): string {
    const end = nl > start && data[nl - 1] === CR ? nl - 1 : nl;
    return data.toString('latin1', start, end);
  }

  /** Reads the status line and header fields; on the blank line picks the body framing. */
  private readHead(data: Buffer, start: number): number {
    // Find the blank line first, so a head split over packets is parsed once, whole.
    let pos = start;
    for (;;) {
      const nl = data.indexOf(LF, pos);
      if (nl < 0) {
        if (this.headBytes + data.length - start > this.maxHeadBytes) throw new ResponseParseError(this.overflowText());
        this.pending = data.subarray(start);
        return data.length;
      }
      const empty = nl === pos || (nl === pos + 1 && data[pos] === CR);
      pos = nl + 1;
      if (empty && pos - start > 2) break;
      if (empty) {
        // Blank lines before a status line (after a 1xx or a kept-alive response): skipped, as Go does not; rare.
        start = pos;
      }
    }
    const end = pos;
    this.headBytes += end - start;
    if (this.headBytes > this.maxHeadBytes) throw new ResponseParseError(this.overflowText());
    let nl = data.indexOf(LF, start);
    const statusLine = Http1ResponseParser.text(data, start, nl);
    const m = STATUS_LINE.exec(statusLine);
    if (m === null) throw new ResponseParseError(`malformed HTTP response ${JSON.stringify(statusLine)}`);
    const status = Number(m[2]);
    if (status < 100) throw new ResponseParseError(`malformed HTTP status code ${JSON.stringify(m[2])}`);
    const raw: string[] = [];
    pos = nl + 1;
    while (pos < end) {
      nl = data.indexOf(LF, pos);
      const line = Http1ResponseParser.text(data, pos, nl);
      pos = nl + 1;
      if (line === '') break;
      const c = line.charCodeAt(0);
      if ((c === 32 || c === 9) && raw.length > 0) {
        // obs-fold: Go joins a continuation line to the previous value with one space.
        raw[raw.length - 1] = `${raw[raw.length - 1]} ${trimOws(line)}`;
        continue;
      }
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!HTTP_TOKEN.test(name)) throw new ResponseParseError(`malformed MIME header line: ${line}`);
      raw.push(name, trimOws(line.slice(colon + 1)));
    }
    if (status >= 100 && status < 200 && status !== 101) {
      // Interim response (100 Continue, 103 Early Hints): read the next head. Their heads count against the header
      // byte limit, and at most five are read (Go's transport).
      if (++this.interim > MAX_INTERIM) throw new ResponseParseError('net/http: too many 1xx informational responses');
      return end;
    }
    this.minorVersion = Number(m[1]);
    this.frame(status, raw);
    this.sink.onHead(status, raw);
    if (this.state === State.Done) this.sink.onComplete(null);
    return end;
  }

  /**
   * Body framing (RFC 9112 §6.3) in the order of Go's `readTransfer` (`net/http/transfer.go`: `parseTransferEncoding`,
   * then `fixLength`), with Go's error texts, and whether the connection stays open (Go's `shouldClose`).
   */
  private frame(status: number, raw: string[]): void {
    let codings: string[] | null = null;
    const lengths: string[] = [];
    let close = this.minorVersion === 0;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') (codings ??= []).push(raw[i + 1]!);
      else if (name.length === 14 && name.toLowerCase() === 'content-length') lengths.push(raw[i + 1]!);
      else if (name.length === 10 && name.toLowerCase() === 'connection') {
        for (const token of raw[i + 1]!.toLowerCase().split(',')) {
          const t = trimOws(token);
          if (t === 'close') close = true;
          else if (t === 'keep-alive' && this.minorVersion === 0) close = false;
        }
      }
    }
    // Go ignores Transfer-Encoding on an HTTP/1.0 response and accepts exactly one field, `chunked`, on HTTP/1.1.
    let chunked = false;
    if (codings !== null && this.minorVersion >= 1) {
      if (codings.length !== 1) throw new ResponseParseError(`too many transfer encodings: ${goQuoted(codings)}`);
      if (codings[0]!.toLowerCase() !== 'chunked')
        throw new ResponseParseError(`unsupported transfer encoding: ${JSON.stringify(codings[0])}`);
      chunked = true;
    }
    if (lengths.some((v) => v !== lengths[0]))
      throw new ResponseParseError(
        `http: message cannot contain multiple Content-Length headers; got ${goQuoted(lengths)}`,
      );
    this.chunked = false;
    if (this.isHead || status === 204 || status === 304 || status === 101) {
      this.state = State.Done;
      this.keepAlive = !close && status !== 101;
      return;
    }
    if (chunked) {
      // Go's `fixLength` deletes a Content-Length beside chunked, so it is never forwarded beside the de-chunked body.
      // The connection is not reused after such a response (RFC 9112 §6.3).
      if (lengths.length > 0) removeHeader(raw, 'content-length');
      this.keepAlive = !close && lengths.length === 0;
      this.chunked = true;
      this.state = State.ChunkSize;
      return;
    }
    const value = lengths[0] ?? '';
    if (value !== '') {
      // Go's `parseContentLength`: `strconv.ParseUint(value, 10, 63)`.
      if (!/^\d+$/.test(value) || BigInt(value) > MAX_INT63)
        throw new ResponseParseError(`bad Content-Length ${JSON.stringify(value)}`);
      const length = Number(value);
      this.keepAlive = !close;
      this.remaining = length;
      this.state = length === 0 ? State.Done : State.Length;
      return;
    }
    this.keepAlive = false;
    this.state = State.Eof;
  }

  private readChunkSize(data: Buffer, pos: number): number {
    const nl = this.lineEnd(data, pos, 4096);
    if (nl < 0) return data.length;
    const line = Http1ResponseParser.text(data, pos, nl);
    const semi = line.indexOf(';');
    const size = trimOws(semi < 0 ? line : line.slice(0, semi));
    if (!HEX.test(size) || size.length > 16) throw new ResponseParseError('invalid byte in chunk length');
    this.remaining = parseInt(size, 16);
    if (!Number.isSafeInteger(this.remaining)) throw new ResponseParseError('http chunk length too large');
    if (this.remaining === 0) {
      this.state = State.Trailers;
      this.trailers = [];
    } else this.state = State.ChunkData;
    return nl + 1;
  }

  private readChunkEnd(data: Buffer, pos: number): number {
    const nl = this.lineEnd(data, pos, 2);
    if (nl < 0) return data.length;
    if (nl !== pos && !(nl === pos + 1 && data[pos] === CR)) throw new ResponseParseError('malformed chunked encoding');
    this.state = State.ChunkSize;
    return nl + 1;
  }

  private readTrailers(data: Buffer, pos: number): number {
    const trailers = this.trailers!;
    for (;;) {
      const nl = this.lineEnd(data, pos, this.maxHeadBytes);
      if (nl < 0) return data.length;
      const line = Http1ResponseParser.text(data, pos, nl);
      pos = nl + 1;
      if (line === '') {
        this.state = State.Done;
        this.sink.onComplete(trailers);
        return pos;
      }
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!HTTP_TOKEN.test(name)) throw new ResponseParseError(`malformed MIME header line: ${line}`);
      trailers.push(name, trimOws(line.slice(colon + 1)));
    }
  }
}

/** Go's `%q` of a string slice: `["1" "2"]`. */
function goQuoted(values: string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;
}

/** Removes every `lowerName` field (any case) from a `[name, value, …]` list, in place. */
function removeHeader(raw: string[], lowerName: string): void {
  for (let i = raw.length - 2; i >= 0; i -= 2)
    if (raw[i]!.length === lowerName.length && raw[i]!.toLowerCase() === lowerName) raw.splice(i, 2);
}
