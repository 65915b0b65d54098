/**
 * HTTP/1.1 to origins through `node:http` with one keep-alive Agent per TLS server name (docs/protocol.md §10.5,
 * §10.6).
 *
 * Why not undici here: undici 7's HTTP/1 parser asserts `!paused` when the origin closes its socket while the
 * parser is paused by backpressure (an HTTP/1.0 or `Connection: close` origin answering a slow visitor), and the
 * assertion is thrown from a socket event handler, which no caller can catch (nodejs/undici#5360, fixed only in
 * undici 8 which needs Node >= 22.19). Node's own client stops reading the socket while the response body is full
 * and treats end-of-file as the end of an EOF-delimited body at any time.
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { OriginDialOptions } from './dial-options.js';
import { OriginConnectTimeoutError, OriginError, OriginRequestCancelledError } from './errors.js';
import { goErrorText, type DialTarget } from './go-error-text.js';
import { originResponseHeaders, validFinalStatus } from './headers.js';
import { Http1Client } from './http1-client.js';
import type { OriginResponse } from './types.js';

/**
 * Largest response header block read from an origin. Node's default is 16 KiB; Go's transport allows 10 MiB
 * (`net/http` default `MaxResponseHeaderBytes`). 1 MiB matches the header list the HTTP/2 transport accepts (§8.1).
 */
export const MAX_ORIGIN_HEADER_BYTES = 1 << 20;

/** An undici-style `connect(options, callback)`: in-process origins hand back an in-memory socket. */
export type CustomConnect = (options: object, callback: (err: Error | null, socket: Duplex | null) => void) => void;

/** How {@link Http1Transport} opens connections. */
export interface Http1ConnectSettings {
  readonly target: DialTarget;
  readonly https: boolean;
  readonly dial: OriginDialOptions;
  /** Extra budget for the TLS handshake, in ms (§10.5 `tlsTimeout`). */
  readonly tlsTimeoutMs: number;
  readonly ca: readonly string[];
  readonly rejectUnauthorized: boolean;
  /** Opens the transport itself instead of dialling. */
  readonly connect?: CustomConnect;
  /** Idle connections kept across every agent of the service (§10.5 `keepAliveConnections`). */
  readonly maxIdle: number;
  /** How long an idle connection is kept (§10.5 `keepAliveTimeout`), in ms. */
  readonly keepAliveTimeoutMs: number;
  /**
   * `lean` (default): requests without a streamed body or upgrade go through {@link Http1Client}; `node`: every
   * request goes through node:http (kept to compare the two, bench/origin-client.bench.ts).
   */
  readonly client?: 'lean' | 'node';
}

/** One request as the transport sends it: everything already in wire form. */
export interface Http1Request {
  readonly method: string;
  /** Request target, sent as is. */
  readonly path: string;
  /** Flat `[name, value, …]` including `Host`, values as byte strings. */
  readonly headers: string[];
  readonly body: NodeJS.ReadableStream | Buffer | null;
  readonly servername: string;
  /** A WebSocket upgrade request (its headers carry `Connection: Upgrade`). */
  readonly upgrade: boolean;
}

/** A keep-alive agent whose sockets are dialled with the §10.5 settings and obey one service-wide idle cap. */
class OriginAgent extends http.Agent {
  constructor(
    private readonly settings: Http1ConnectSettings,
    private readonly sni: string | undefined,
    private readonly idleCount: () => number,
  ) {
    super({
      keepAlive: true,
      keepAliveMsecs: settings.dial.keepAliveInitialDelay || 1000,
      timeout: settings.keepAliveTimeoutMs,
      scheduling: 'lifo',
    });
  }

  override keepSocketAlive(socket: net.Socket): boolean {
    if (this.idleCount() >= this.settings.maxIdle) return false;
    if (this.settings.dial.keepAlive) {
      super.keepSocketAlive(socket);
      return true;
    }
    // tcpKeepAlive < 0 disables TCP keep-alive (§10.5); the base method would turn it on again.
    socket.unref();
    socket.setTimeout(this.settings.keepAliveTimeoutMs);
    return true;
  }

  override createConnection(
    _options: object,
    callback: (err: Error | null, socket: Duplex) => void,
  ): Duplex | undefined {
    const s = this.settings;
    if (s.connect !== undefined) {
      s.connect({}, (err, socket) => callback(err, socket as Duplex));
      return undefined;
    }
    return dialOrigin(s, this.sni);
  }
}

/** Dials the origin with the §10.5 settings: TCP or a Unix socket, then TLS for HTTPS origins, under one budget. */
function dialOrigin(s: Http1ConnectSettings, sni: string | undefined): net.Socket {
  const { dial } = s;
  const raw =
    s.target.network === 'unix'
      ? net.connect({ path: s.target.path })
      : net.connect({
          host: s.target.host,
          port: s.target.port,
          keepAlive: dial.keepAlive,
          keepAliveInitialDelay: dial.keepAliveInitialDelay,
          noDelay: true,
          autoSelectFamily: dial.autoSelectFamily,
          ...(dial.autoSelectFamilyAttemptTimeout !== undefined
            ? { autoSelectFamilyAttemptTimeout: dial.autoSelectFamilyAttemptTimeout }
            : {}),
        });
  const socket: net.Socket = s.https
    ? tls.connect({
        socket: raw,
        ...(sni !== undefined ? { servername: sni } : {}),
        // Without SNI the certificate is checked against the IP of the origin URL (§10.6).
        host: sni ?? (s.target.network === 'tcp' ? s.target.host : 'localhost'),
        ca: [...s.ca],
        rejectUnauthorized: s.rejectUnauthorized,
        ALPNProtocols: ['http/1.1'],
      })
    : raw;
  // Go bounds the dial; the TLS handshake gets its own budget on top (§10.5).
  const budget = dial.timeout === 0 ? 0 : dial.timeout + (s.https ? s.tlsTimeoutMs : 0);
  if (budget > 0) {
    const timer = setTimeout(() => socket.destroy(new OriginConnectTimeoutError()), budget);
    timer.unref();
    socket.once(s.https ? 'secureConnect' : 'connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  }
  if (s.https) raw.once('error', (err) => socket.destroy(err));
  return socket;
}

/** SNI for a server name: none for an IP address (the certificate is checked against the IP, §10.6). */
function serverNameIndication(servername: string): string | undefined {
  return net.isIP(servername) === 0 ? servername : undefined;
}

/** Text of a failed round trip, as cloudflared words it (docs/protocol.md §7.3). */
function failureText(err: Error, target: DialTarget): string {
  // Node's "socket hang up": the origin closed the connection before a response; Go's transport says EOF.
  if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' && err.message === 'socket hang up') return 'EOF';
  return goErrorText(err, target);
}

/** Sends requests over pooled HTTP/1.1 connections. */
export class Http1Transport {
  private readonly agents = new Map<string, OriginAgent>();
  /** Plain keep-alive exchanges over dialled connections; undefined for in-process sockets or `client: 'node'`. */
  private readonly lean: Http1Client | undefined;

  constructor(private readonly settings: Http1ConnectSettings) {
    if (settings.connect === undefined && settings.client !== 'node')
      this.lean = new Http1Client({
        target: settings.target,
        dial: (servername) => dialOrigin(settings, serverNameIndication(servername)),
        idleCount: () => this.idleConnections,
        maxIdle: settings.maxIdle,
        keepAliveTimeoutMs: settings.keepAliveTimeoutMs,
        maxHeaderBytes: MAX_ORIGIN_HEADER_BYTES,
      });
  }

  /** Idle pooled connections right now. */
  get idleConnections(): number {
    let n = this.lean?.idleConnections ?? 0;
    for (const agent of this.agents.values())
      for (const list of Object.values(agent.freeSockets)) n += list?.length ?? 0;
    return n;
  }

  private agentFor(servername: string): OriginAgent {
    let agent = this.agents.get(servername);
    if (agent === undefined) {
      agent = new OriginAgent(this.settings, serverNameIndication(servername), () => this.idleConnections);
      this.agents.set(servername, agent);
    }
    return agent;
  }

  /** Sends one request; resolves with the final response (or the upgraded socket), rejects with `OriginError`. */
  roundTrip(r: Http1Request, signal: AbortSignal): Promise<OriginResponse> {
    const body = r.body;
    if (this.lean !== undefined && !r.upgrade && (body === null || Buffer.isBuffer(body)))
      return this.lean.roundTrip(
        { method: r.method, path: r.path, headers: r.headers, body, servername: r.servername },
        signal,
      );
    const target = this.settings.target;
    return new Promise<OriginResponse>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        reject(
          err instanceof OriginRequestCancelledError || err instanceof OriginError
            ? err
            : new OriginError(failureText(err, target), err),
        );
      };
      let req: http.ClientRequest | undefined;
      // Declared before the request is built: http.request() throws synchronously on a header it refuses, and fail()
      // unsubscribes this listener.
      const onAbort = (): void => {
        const err = new OriginRequestCancelledError(signal.reason);
        req?.destroy(err);
        fail(err);
      };
      try {
        req = http.request({
          agent: this.agentFor(r.servername),
          method: r.method,
          path: r.path,
          headers: r.headers as unknown as http.OutgoingHttpHeaders,
          setHost: false,
          maxHeaderSize: MAX_ORIGIN_HEADER_BYTES,
          // No deadline while a request is active: cloudflared sets none (§10.5, §11); idle ones use the agent's.
          timeout: 0,
        });
      } catch (err) {
        fail(err as Error);
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.once('response', (res: http.IncomingMessage) => {
        signal.removeEventListener('abort', onAbort);
        // An error after the response arrived ends the body (the caller resets the stream); never unhandled.
        res.on('error', () => undefined);
        const status = res.statusCode ?? 0;
        if (!validFinalStatus(status)) {
          res.destroy();
          fail(new OriginError(`malformed HTTP status code "${status}"`));
          return;
        }
        settled = true;
        const trailers = new Promise<Array<[string, string]>>((resolveTrailers) => {
          res.once('end', () => resolveTrailers(originResponseHeaders(res.rawTrailers, false)));
          res.once('close', () => resolveTrailers([]));
        });
        resolve({ status, headers: originResponseHeaders(res.rawHeaders, false), body: res, trailers });
      });
      req.once('upgrade', (res: http.IncomingMessage, socket: Duplex, head: Buffer) => {
        signal.removeEventListener('abort', onAbort);
        if (head.length > 0) socket.unshift(head);
        settled = true;
        resolve({
          status: res.statusCode ?? 101,
          headers: originResponseHeaders(res.rawHeaders, true),
          body: null,
          socket,
        });
      });
      if (body === null) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body.once('error', (err: Error) => req.destroy(err));
        body.pipe(req);
      }
    });
  }

  /** Closes every pooled and active connection. */
  close(): void {
    this.lean?.close();
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
