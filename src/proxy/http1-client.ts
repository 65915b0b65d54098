/**
 * A lean HTTP/1.1 client for plain keep-alive exchanges with an origin (docs/protocol.md §10.5, §10.6): requests
 * without a streamed body and without an upgrade. It writes the request from the already-built header list in one
 * write and parses the response with {@link Http1ResponseParser}, with one set of socket listeners per connection
 * instead of node:http's per-request `ClientRequest`, agent bookkeeping and parser hand-over (issue 19: node:http
 * cost ~2x undici's CPU per request). Everything else (streamed request bodies, upgrades, in-process sockets) goes
 * through node:http (http1-transport.ts).
 *
 * Connections are pooled per TLS server name, most recently used first, under the service-wide idle cap
 * (`keepAliveConnections`) and idle timeout (`keepAliveTimeout`). A request that finds its reused connection closed
 * by the origin before any response byte arrived is sent again on a new connection when it is idempotent, as Go's
 * transport does (`net/http/transport.go` `shouldRetryRequest`).
 */
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { OriginError, OriginRequestCancelledError } from './errors.js';
import { goErrorText, type DialTarget } from './go-error-text.js';
import { originResponseHeaders, validFinalStatus } from './headers.js';
import { Http1ResponseParser, ResponseParseError, type ResponseParserSink } from './http1-response-parser.js';
import type { OriginResponse } from './types.js';
import { HTTP_TOKEN } from '../util/headers.js';

/** One request in wire form, as {@link Http1Client.roundTrip} sends it. */
export interface LeanRequest {
  readonly method: string;
  readonly path: string;
  /** Flat `[name, value, …]` including `Host`, values as byte strings. */
  readonly headers: readonly string[];
  readonly body: Buffer | null;
  readonly servername: string;
}

/** What the client needs from its transport. */
export interface Http1ClientSettings {
  readonly target: DialTarget;
  /** Opens a new connection (TCP or TLS) for a server name; errors arrive as the socket's `error`. */
  readonly dial: (servername: string) => Socket;
  /** Idle connections across the whole service right now, and the cap (§10.5 `keepAliveConnections`). */
  readonly idleCount: () => number;
  readonly maxIdle: number;
  /** §10.5 `keepAliveTimeout`, in ms. */
  readonly keepAliveTimeoutMs: number;
  readonly maxHeaderBytes: number;
}

/** Bytes node:http and Go refuse in a header value. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Methods Go's `isReplayable` sends again when a reused connection was dead. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Go's `isReplayable` (`net/http/request.go`): an idempotent method, or an `Idempotency-Key` header, and no body. */
function replayable(r: LeanRequest): boolean {
  if (r.body !== null && r.body.length > 0) return false;
  if (IDEMPOTENT.has(r.method)) return true;
  for (let i = 0; i < r.headers.length; i += 2) {
    const name = r.headers[i]!.toLowerCase();
    if (name === 'idempotency-key' || name === 'x-idempotency-key') return true;
  }
  return false;
}
/** Go sends `Content-Length: 0` for these methods when they carry no body (`transferWriter.shouldSendContentLength`). */
const ZERO_LENGTH_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const ignore = (): void => undefined;
const EMPTY_TRAILERS: Promise<Array<[string, string]>> = Promise.resolve([]);

/** The request line and header block, or the Go text of why the request cannot be sent. */
function serialize(r: LeanRequest): string | OriginError {
  if (!HTTP_TOKEN.test(r.method)) return new OriginError(`net/http: invalid method ${JSON.stringify(r.method)}`);
  let head = `${r.method} ${r.path} HTTP/1.1\r\n`;
  const h = r.headers;
  let hasLength = false;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    const value = h[i + 1]!;
    if (!HTTP_TOKEN.test(name)) return new OriginError(`net/http: invalid header field name ${JSON.stringify(name)}`);
    if (INVALID_VALUE.test(value))
      return new OriginError(
        name.toLowerCase() === 'host'
          ? 'http: invalid Host header'
          : `net/http: invalid header field value for ${JSON.stringify(name)}`,
      );
    if (name.length === 14 && name.toLowerCase() === 'content-length') hasLength = true;
    head += `${name}: ${value}\r\n`;
  }
  head += 'Connection: keep-alive\r\n';
  if (!hasLength) {
    if (r.body !== null) head += `Content-Length: ${r.body.length}\r\n`;
    else if (ZERO_LENGTH_METHODS.has(r.method)) head += 'Content-Length: 0\r\n';
  }
  return `${head}\r\n`;
}

/** A response body that pauses the origin socket while its reader is behind. */
class ResponseBody extends Readable {
  constructor(private readonly conn: Connection) {
    super();
  }

  override _read(): void {
    if (this.conn.exchange?.body === this) this.conn.socket.resume();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    // A body left before its end leaves the connection mid-message: it cannot carry another request.
    this.conn.bodyGone(this);
    callback(err);
  }
}

/** One request and its response on a {@link Connection}. */
class Exchange {
  settled = false;
  body: ResponseBody | null = null;
  trailersResolve: ((t: Array<[string, string]>) => void) | null = null;
  readonly onAbort = (): void => this.abort();

  constructor(
    readonly client: Http1Client,
    readonly request: LeanRequest,
    readonly head: string,
    readonly signal: AbortSignal,
    readonly resolve: (res: OriginResponse) => void,
    readonly reject: (err: Error) => void,
    /** Set on the retry of a request whose reused connection was dead: no third attempt. */
    readonly retried: boolean,
  ) {}

  abort(): void {
    if (this.settled) return;
    const err = new OriginRequestCancelledError(this.signal.reason);
    this.conn?.socket.destroy();
    this.fail(err);
  }

  conn: Connection | undefined;

  fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.reject(err);
  }

  succeed(res: OriginResponse): void {
    this.settled = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.resolve(res);
  }
}

/** One origin connection: its listeners stay for its whole life and serve whichever exchange it carries. */
class Connection implements ResponseParserSink {
  exchange: Exchange | null = null;
  /** Whether the connection carried a response before (a dead kept-alive connection is retried). */
  reused = false;
  private readonly parser: Http1ResponseParser;
  /** Whether the connection is in its pool's idle list. */
  idle = false;

  constructor(
    readonly socket: Socket,
    readonly servername: string,
    private readonly client: Http1Client,
    maxHeaderBytes: number,
  ) {
    this.parser = new Http1ResponseParser(this, maxHeaderBytes);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err: Error) => this.onError(err));
    socket.on('close', () => this.onClose());
    socket.on('timeout', () => socket.destroy());
  }

  /** Sends `exchange`'s request. */
  start(exchange: Exchange): void {
    this.exchange = exchange;
    exchange.conn = this;
    this.parser.reset(exchange.request.method === 'HEAD');
    const body = exchange.request.body;
    if (body === null || body.length === 0) this.socket.write(exchange.head, 'latin1');
    else {
      this.socket.cork();
      this.socket.write(exchange.head, 'latin1');
      this.socket.write(body);
      this.socket.uncork();
    }
  }

  private onData(data: Buffer): void {
    const exchange = this.exchange;
    if (exchange === null) {
      // Bytes nobody asked for on an idle connection: it is out of step, close it.
      this.socket.destroy();
      return;
    }
    let used: number;
    try {
      used = this.parser.execute(data);
    } catch (err) {
      this.broken(err as Error);
      return;
    }
    // Bytes after the response: the origin is out of step, so the connection is not reused.
    if (used < data.length && this.exchange === null) this.socket.destroy();
  }

  private onEnd(): void {
    const exchange = this.exchange;
    if (exchange === null) return;
    try {
      this.parser.finish();
    } catch (err) {
      this.broken(err as Error);
    }
  }

  private onError(err: Error): void {
    this.broken(err);
  }

  private onClose(): void {
    this.client.forget(this);
    if (this.exchange !== null) this.broken(new ResponseParseError(this.parser.started ? 'unexpected EOF' : 'EOF'));
  }

  /** The connection failed during an exchange: the request fails (or is sent again), the body errors. */
  private broken(err: Error): void {
    const exchange = this.exchange;
    this.exchange = null;
    this.socket.destroy();
    if (exchange === null) return;
    if (!exchange.settled) {
      if (
        this.reused &&
        !this.parser.started &&
        !exchange.retried &&
        replayable(exchange.request) &&
        !exchange.signal.aborted
      ) {
        this.client.retry(exchange);
        return;
      }
      exchange.fail(
        err instanceof ResponseParseError
          ? new OriginError(err.message)
          : new OriginError(goErrorText(err, this.client.settings.target), err),
      );
      return;
    }
    // After the head: the body ends with the error (the caller resets the edge stream), never a short success. One
    // macrotask later: an origin reset read in the same poll phase as the head would otherwise reset the edge stream
    // before the head written to it was sent (the QUIC transport sends on setImmediate), and the edge would answer
    // 502 instead of failing the visitor's response. node:http gets the same order by not reading the socket again
    // until the body is read.
    const failure = err instanceof ResponseParseError ? err : new ResponseParseError('unexpected EOF');
    setImmediate(() => {
      exchange.body?.destroy(failure);
      exchange.trailersResolve?.([]);
    });
  }

  onHead(status: number, raw: string[]): void {
    const exchange = this.exchange;
    if (exchange === null) return;
    if (!validFinalStatus(status)) {
      this.exchange = null;
      this.socket.destroy();
      exchange.fail(new OriginError(`malformed HTTP status code "${status}"`));
      return;
    }
    const body = new ResponseBody(this);
    // A failure after the head ends the body (the caller resets the edge stream); never an unhandled error.
    body.on('error', ignore);
    exchange.body = body;
    // Go's transport reads trailers only from chunked bodies; anything else has none.
    let trailers = EMPTY_TRAILERS;
    if (!this.parser.done && this.parser.chunked)
      trailers = new Promise((resolve) => (exchange.trailersResolve = resolve));
    exchange.succeed({ status, headers: originResponseHeaders(raw, status === 101), body, trailers });
  }

  onBody(chunk: Buffer): void {
    const body = this.exchange?.body;
    if (body === undefined || body === null || body.destroyed) return;
    if (!body.push(chunk)) this.socket.pause();
  }

  onComplete(trailers: string[] | null): void {
    const exchange = this.exchange;
    if (exchange === null) return;
    this.exchange = null;
    const keep = this.parser.keepAlive;
    if (exchange.settled) {
      exchange.body?.push(null);
      exchange.trailersResolve?.(trailers === null ? [] : originResponseHeaders(trailers, false));
    }
    if (keep && !this.socket.destroyed) {
      this.reused = true;
      // The body's reader may have paused the socket in the read that completed the response: an idle connection
      // reads, so any byte the origin sends out of turn closes it (onData) instead of waiting in the socket to be
      // taken for the next request's answer (Go: "Unsolicited response received on idle HTTP channel").
      if (this.socket.isPaused()) this.socket.resume();
      this.client.release(this);
    } else this.socket.destroy();
  }

  /** The body was destroyed: before its end the connection is mid-message and closes. */
  bodyGone(body: ResponseBody): void {
    const exchange = this.exchange;
    if (exchange?.body !== body) return;
    this.exchange = null;
    this.socket.destroy();
    exchange.trailersResolve?.([]);
  }
}

/** Pooled keep-alive HTTP/1.1 connections to one origin. */
export class Http1Client {
  private readonly idle = new Map<string, Connection[]>();
  private readonly all = new Set<Connection>();
  private idleTotal = 0;

  constructor(readonly settings: Http1ClientSettings) {}

  /** Idle pooled connections right now. */
  get idleConnections(): number {
    return this.idleTotal;
  }

  /** Sends one request; resolves with the final response, rejects with `OriginError`. */
  roundTrip(r: LeanRequest, signal: AbortSignal): Promise<OriginResponse> {
    const head = serialize(r);
    if (head instanceof OriginError) return Promise.reject(head);
    // An aborted signal never fires 'abort' again: nothing is sent.
    if (signal.aborted) return Promise.reject(new OriginRequestCancelledError(signal.reason));
    return new Promise<OriginResponse>((resolve, reject) => {
      const exchange = new Exchange(this, r, head, signal, resolve, reject, false);
      signal.addEventListener('abort', exchange.onAbort, { once: true });
      this.send(exchange);
    });
  }

  private send(exchange: Exchange): void {
    const conn = this.take(exchange.request.servername) ?? this.open(exchange.request.servername);
    conn.start(exchange);
  }

  /** Sends a request again on a new connection: its kept-alive one was closed by the origin. */
  retry(failed: Exchange): void {
    const exchange = new Exchange(
      this,
      failed.request,
      failed.head,
      failed.signal,
      failed.resolve,
      failed.reject,
      true,
    );
    failed.signal.removeEventListener('abort', failed.onAbort);
    failed.signal.addEventListener('abort', exchange.onAbort, { once: true });
    this.open(exchange.request.servername).start(exchange);
  }

  private take(servername: string): Connection | undefined {
    const list = this.idle.get(servername);
    for (;;) {
      const conn = list?.pop();
      if (conn === undefined) return undefined;
      conn.idle = false;
      this.idleTotal--;
      if (conn.socket.destroyed || conn.socket.readableEnded) continue;
      conn.socket.setTimeout(0);
      conn.socket.ref();
      return conn;
    }
  }

  private open(servername: string): Connection {
    const conn = new Connection(this.settings.dial(servername), servername, this, this.settings.maxHeaderBytes);
    this.all.add(conn);
    return conn;
  }

  /** A connection finished a response and may carry another: pooled unless the idle cap is reached. */
  release(conn: Connection): void {
    if (this.settings.idleCount() >= this.settings.maxIdle) {
      conn.socket.destroy();
      return;
    }
    let list = this.idle.get(conn.servername);
    if (list === undefined) this.idle.set(conn.servername, (list = []));
    list.push(conn);
    conn.idle = true;
    this.idleTotal++;
    conn.socket.setTimeout(this.settings.keepAliveTimeoutMs);
    conn.socket.unref();
  }

  /** A connection closed: out of the pool. */
  forget(conn: Connection): void {
    this.all.delete(conn);
    if (!conn.idle) return;
    conn.idle = false;
    this.idleTotal--;
    const list = this.idle.get(conn.servername);
    const i = list?.indexOf(conn) ?? -1;
    if (i >= 0) list!.splice(i, 1);
  }

  /** Closes every pooled and active connection. */
  close(): void {
    // Each connection's 'close' takes it out of the pool and the idle count (forget).
    for (const conn of [...this.all]) conn.socket.destroy();
  }
}
