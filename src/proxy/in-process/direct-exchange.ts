/**
 * One request handed straight to a Node `http.Server`'s `request` listeners, without an HTTP hop: an
 * `IncomingMessage` is built from the edge request (no request bytes written or parsed) and a `ServerResponse` writes
 * into a socket stand-in whose bytes become the origin response — the status and headers are read from the head Node
 * composed, the body is passed on (de-chunked) with backpressure both ways.
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { SocketLikeDuplex } from '../duplex-pair.js';
import { OriginError, OriginRequestCancelledError } from '../errors.js';
import { originResponseHeaders, validFinalStatus } from '../headers.js';
import type { OriginResponse } from '../types.js';
import { ChunkedDecoder } from './chunked-decoder.js';

/** What the app sees as the connection: its writes are the response bytes; nothing is ever read from it. */
class ExchangeSocket extends SocketLikeDuplex {
  constructor(private readonly sink: (chunk: Buffer, callback: (err?: Error | null) => void) => void) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.sink(chunk, callback);
  }

  override _read(): void {}
}

/** Header lines of a head or trailer block Node composed (`Name: value\r\n…`), as a flat raw list. */
function rawLines(block: string, from: number): string[] {
  const raw: string[] = [];
  let at = from;
  while (at < block.length) {
    const end = block.indexOf('\r\n', at);
    const stop = end < 0 ? block.length : end;
    if (stop === at) break;
    const colon = block.indexOf(':', at);
    if (colon > at && colon < stop) raw.push(block.slice(at, colon), block.slice(colon + 1, stop).trim());
    at = stop + 2;
  }
  return raw;
}

/** The symbol under which `OutgoingMessage` remembers that a write asked the caller to wait for `drain`. */
const kNeedDrain: symbol | undefined = (() => {
  const probe = new http.OutgoingMessage();
  return Object.getOwnPropertySymbols(probe).find((s) => s.description === 'kNeedDrain');
})();

/** The request as the app will see it; headers are raw `[name, value, …]` byte strings including `Host`. */
export interface ExchangeRequest {
  readonly method: string;
  readonly path: string;
  readonly rawHeaders: string[];
  readonly body: Readable | null;
}

/** Serves one request through `server`'s `request` listeners; resolves when the app sends the response head. */
export function exchange(server: http.Server, r: ExchangeRequest, signal: AbortSignal): Promise<OriginResponse> {
  return new Promise<OriginResponse>((resolve, reject) => {
    let headSeen = false;
    let headerBytes = 0;
    let decoder: ChunkedDecoder | undefined;
    let finished = false;
    let waiting: ((err?: Error | null) => void) | undefined;
    let resolveTrailers: (t: Array<[string, string]>) => void = () => undefined;

    const body = new Readable({
      highWaterMark: 64 * 1024,
      read() {
        const cb = waiting;
        waiting = undefined;
        cb?.();
      },
      destroy(err, cb) {
        // The edge side went away (or the exchange failed): the app sees its connection close.
        if (!finished) socket.destroy();
        resolveTrailers([]);
        cb(err);
      },
    });
    const push = (chunk: Buffer): boolean => body.push(chunk);

    const sink = (chunk: Buffer, callback: (err?: Error | null) => void): void => {
      if (!headSeen) {
        const head = res._header as string | null;
        // An interim (1xx) response written before the final head: not passed on (as from a port, §10.6).
        if (
          head === null ||
          !res._headerSent ||
          (chunk.length >= 10 && chunk.toString('latin1', 0, 10) === 'HTTP/1.1 1' && !head.startsWith('HTTP/1.1 1'))
        ) {
          callback();
          return;
        }
        headSeen = true;
        headerBytes = head.length;
        const status = res.statusCode;
        if (!validFinalStatus(status)) {
          fail(new OriginError(`malformed HTTP status code "${status}"`));
          callback();
          socket.destroy();
          return;
        }
        if (res.chunkedEncoding) decoder = new ChunkedDecoder();
        settled = true;
        signal.removeEventListener('abort', onAbort);
        const trailers = new Promise<Array<[string, string]>>((r) => (resolveTrailers = r));
        resolve({
          status,
          headers: originResponseHeaders(rawLines(head, head.indexOf('\r\n') + 2), false),
          body,
          trailers,
        });
      }
      let data = chunk;
      if (headerBytes > 0) {
        const n = Math.min(headerBytes, data.length);
        headerBytes -= n;
        data = data.subarray(n);
      }
      let ok = true;
      if (data.length > 0) ok = decoder !== undefined ? decoder.feed(data, push) : push(data);
      if (ok) callback();
      else waiting = callback;
    };

    const socket = new ExchangeSocket(sink);
    const req = new http.IncomingMessage(socket as never);
    req.method = r.method;
    req.url = r.path;
    req.httpVersion = '1.1';
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 1;
    // As Node's parser hands them over: `headers` / `headersDistinct` are then built from them on first use.
    (req as unknown as { _addHeaderLines(h: string[], n: number): void })._addHeaderLines(
      r.rawHeaders,
      r.rawHeaders.length,
    );
    const res = new http.ServerResponse(req) as http.ServerResponse & {
      _header: string | null;
      _headerSent: boolean;
      _trailer: string;
      chunkedEncoding: boolean;
    };

    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      reject(err);
    };
    const onAbort = (): void => {
      fail(new OriginRequestCancelledError(signal.reason));
      socket.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });

    // What Node's server does on its socket's drain: tell the response a writer waiting on it may go on.
    socket.on('drain', () => {
      if (res.writableFinished) return;
      const flags = res as unknown as Record<symbol, boolean>;
      if (kNeedDrain === undefined) res.emit('drain');
      else if (flags[kNeedDrain] === true) {
        flags[kNeedDrain] = false;
        res.emit('drain');
      }
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      // The app destroyed the response (or the edge went away) before it finished.
      if (!finished) {
        if (!req.complete || req.readable) req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
        fail(new OriginError('EOF'));
        body.destroy(new Error('the in-process origin closed the response before it was complete'));
      }
    });
    res.once('finish', () => {
      finished = true;
      body.push(null);
      resolveTrailers(res._trailer ? originResponseHeaders(rawLines(res._trailer, 0), false) : []);
      // As Node's server does after a response: drain an unread body, let go of the socket, then 'close'.
      if (!req.readableDidRead && !req.readableFlowing) req.resume();
      res.detachSocket(socket as never);
      process.nextTick(() => {
        if (res.destroyed) return;
        (res as { destroyed: boolean }).destroyed = true;
        res.emit('close');
      });
    });
    res.assignSocket(socket as never);

    const source = r.body;
    if (source === null) {
      req.complete = true;
      req.push(null);
    } else {
      // The app's reads pull the edge body: a full IncomingMessage pauses the source until the app reads again.
      const read = req._read.bind(req);
      req._read = (n: number): void => {
        read(n);
        source.resume();
      };
      source.on('data', (chunk: Buffer) => {
        if (!req.push(chunk)) source.pause();
      });
      source.once('end', () => {
        req.complete = true;
        req.push(null);
      });
      source.once('error', (err: Error) => req.destroy(err));
    }

    try {
      server.emit('request', req, res);
    } catch (err) {
      fail(new OriginError(`in-process handler failed: ${(err as Error).message}`, err));
      socket.destroy();
    }
  });
}
