/**
 * HTTP(S) origins over TCP or a Unix socket (docs/protocol.md §10.2, §10.5, §10.6): HTTP/1.1 through node:http
 * (http1-transport.ts), `http2Origin` through undici Agents; one keep-alive pool per TLS server name.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';
import { ORIGIN_REQUEST_DEFAULTS, type OriginRequestConfig } from '../ingress/origin-request.js';
import { CLOUDFLARE_EMBEDDED_ROOTS } from '../transport/tls/cloudflare-roots.js';
import { originDialOptions } from './dial-options.js';
import { InvalidOriginServiceError, OriginError, OriginRequestCancelledError } from './errors.js';
import type { DialTarget } from './go-error-text.js';
import { buildOriginRequestHeaders } from './headers.js';
import { Http1Transport, type CustomConnect } from './http1-transport.js';
import { probeAlpn } from './alpn-probe.js';
import { IdleConnectionCap, idleConnectionCap } from './idle-cap.js';
import { OriginResponseHandler } from './response-handler.js';
import type { OriginRequest, OriginResponse, OriginService } from './types.js';
import { undici } from './undici.js';
import { headerIndex, headerValue } from '../util/headers.js';

/** Where an HTTP origin lives. */
export interface HttpOriginTarget {
  /** `http:` or `https:` origin used for scheme and default Host, e.g. `http://127.0.0.1:8080`. */
  origin: string;
  /** Unix socket path for `unix:` / `unix+tls:` services. */
  socketPath?: string;
  /** Opens the transport itself instead of dialling (in-process origins hand back an in-memory socket). */
  connect?: Agent.Options['connect'];
}

/** How to reach and talk to one HTTP origin. */
export interface HttpOriginSettings {
  /** The rule's resolved `originRequest` (§10.5); defaults when omitted. */
  options?: Partial<OriginRequestConfig>;
  /** `--tag` pairs (§10.6). */
  tags?: ReadonlyArray<readonly [string, string]>;
  /** Extra trusted certificates (PEM), e.g. the hello_world certificate (§10.6 trust roots). */
  extraCa?: readonly string[];
  /** hello_world ignores `originServerName` (cloudflared `ingress/origin_service.go`). */
  ignoreServerName?: boolean;
  /** Which HTTP/1.1 client plain exchanges use (`Http1ConnectSettings.client` in http1-transport.ts); default `lean`. */
  http1Client?: 'lean' | 'node';
}

/** Go-style string with `\r\n`-free UTF-8 bytes, as HTTP clients write header strings as latin1. */
export function toWire(value: string): string {
  return /^[\x00-\x7f]*$/.test(value) ? value : Buffer.from(value, 'utf8').toString('latin1');
}

/** Bytes a request target may not carry as they are (controls, space, DEL, non-ASCII); percent-encoded as UTF-8. */
const TARGET_ESCAPE = /[^\x21-\x7e]/g;

/**
 * `scheme://authority` prefixes already known to parse: every request of a hostname has the same one, and a URL parse
 * per request is measurable (issue 19). Bounded, since the hostnames come from visitors.
 */
const parsedAuthorities = new Set<string>();
const PARSED_AUTHORITIES_MAX = 256;

/**
 * The request target sent to the origin: path and query of the eyeball URL exactly as the edge sent them — no dot
 * segments removed, no `%2e` decoded, `\` kept — so an ingress path rule sees the path the origin serves (docs/protocol.md
 * §10.1). The fragment is dropped and bytes a request line cannot carry are percent-encoded, as Go's `url.URL` does.
 */
export function requestTarget(url: string): string {
  let target: string;
  if (url.startsWith('/')) target = url;
  else {
    const scheme = url.indexOf('://');
    if (scheme <= 0) throw new InvalidOriginServiceError(`request URL ${JSON.stringify(url)} is not absolute`);
    const rest = url.slice(scheme + 3);
    const authorityEnd = rest.search(/[/?#]/);
    // The scheme and authority must parse (Go's url.Parse refuses e.g. a space in the host); the path is kept raw.
    const authority = authorityEnd < 0 ? url : url.slice(0, scheme + 3 + authorityEnd);
    if (!parsedAuthorities.has(authority)) {
      try {
        new URL(authority);
      } catch {
        throw new InvalidOriginServiceError(`request URL ${JSON.stringify(url)} is not absolute`);
      }
      if (parsedAuthorities.size >= PARSED_AUTHORITIES_MAX) parsedAuthorities.clear();
      parsedAuthorities.add(authority);
    }
    if (authorityEnd < 0) return '/';
    target = rest.slice(authorityEnd);
    if (target.startsWith('?')) target = `/${target}`;
  }
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  if (target === '' || target.startsWith('#')) return '/';
  return target.replace(TARGET_ESCAPE, (ch) => encodeURIComponent(ch));
}

/** Largest body of unknown length read ahead to send it with a Content-Length under `disableChunkedEncoding`. */
export const DISABLE_CHUNKED_BUFFER_LIMIT = 1 << 20;

/**
 * `disableChunkedEncoding` for a body without a declared length (docs/protocol.md §10.5): reads at most
 * {@link DISABLE_CHUNKED_BUFFER_LIMIT} bytes; a body that ends within them is returned whole (sent with its length),
 * a longer one is returned as a stream of the bytes read so far followed by the rest (sent chunked, memory bounded).
 */
async function sizeIfSmall(body: Readable): Promise<Buffer | Readable> {
  const chunks: Buffer[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) return Buffer.concat(chunks, size);
    const chunk = next.value as Buffer;
    chunks.push(chunk);
    size += chunk.length;
    if (size > DISABLE_CHUNKED_BUFFER_LIMIT) break;
  }
  const rest = new PassThrough();
  for (const c of chunks) rest.write(c);
  void (async () => {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) break;
        if (!rest.write(next.value as Buffer)) await Promise.race([once(rest, 'drain'), once(rest, 'close')]);
        if (rest.destroyed) {
          // The origin request failed: stop reading the visitor's body.
          body.destroy();
          return;
        }
      }
      rest.end();
    } catch (err) {
      rest.destroy(err as Error);
    }
  })();
  return rest;
}

/** An HTTP(S) origin reached through pooled connections. */
export class HttpOriginService implements OriginService {
  private readonly agents = new Map<string, Agent>();
  private readonly target: DialTarget;
  private readonly origin: string;
  private readonly options: OriginRequestConfig;
  private readonly ca: string[];
  private readonly socketPath: string | undefined;
  private readonly idleCap: IdleConnectionCap;

  constructor(
    target: HttpOriginTarget,
    private readonly settings: HttpOriginSettings = {},
  ) {
    const url = new URL(target.origin);
    this.origin = url.origin;
    this.options = { ...ORIGIN_REQUEST_DEFAULTS, ...settings.options };
    this.target =
      target.socketPath !== undefined
        ? { network: 'unix', path: target.socketPath }
        : {
            network: 'tcp',
            host: url.hostname.replace(/^\[|\]$/g, ''),
            port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
          };
    const extra = [...(settings.extraCa ?? [])];
    if (this.options.caPool !== '') extra.push(readFileSync(this.options.caPool, 'utf8'));
    // Trust = system roots + Cloudflare's roots + hello-world certificate / caPool (§10.6).
    this.ca = [...rootCertificates, ...CLOUDFLARE_EMBEDDED_ROOTS, ...extra];
    this.socketPath = target.socketPath;
    this.customConnect = target.connect;
    this.idleCap = new IdleConnectionCap(idleConnectionCap(this.options.keepAliveConnections));
    // HTTP/1.1 goes through node:http (see http1-transport.ts for why); undici only negotiates HTTP/2 with TLS
    // origins (ALPN), so a cleartext origin is HTTP/1.1 even with http2Origin (Go's transport does no h2c either).
    if (!this.options.http2Origin || url.protocol !== 'https:') this.http1 = this.createHttp1Transport(url);
    // http2Origin: an origin that picks http/1.1 by ALPN goes through node:http too, never undici's HTTP/1 parser.
    else this.http1Fallback = this.createHttp1Transport(url);
  }

  private createHttp1Transport(url: URL): Http1Transport {
    return new Http1Transport({
      target: this.target,
      https: url.protocol === 'https:',
      dial: originDialOptions(this.options),
      tlsTimeoutMs: Math.max(0, this.options.tlsTimeout) * 1000,
      ca: this.ca,
      rejectUnauthorized: !this.options.noTLSVerify,
      ...(this.customConnect !== undefined ? { connect: this.customConnect as unknown as CustomConnect } : {}),
      maxIdle: this.idleCap.max,
      keepAliveTimeoutMs: this.options.keepAliveTimeout * 1000,
      ...(this.settings.http1Client !== undefined ? { client: this.settings.http1Client } : {}),
    });
  }

  private readonly http1: Http1Transport | undefined;
  private readonly http1Fallback: Http1Transport | undefined;
  /** http2Origin: what each TLS server name negotiated by ALPN (probed once; §10.5). */
  private readonly alpnVerdicts = new Map<string, Promise<boolean>>();

  /** Whether requests for `servername` go through node:http: always without http2Origin, else unless ALPN says h2. */
  private async http1For(servername: string): Promise<Http1Transport | undefined> {
    if (this.http1 !== undefined) return this.http1;
    if (this.http1Fallback === undefined || this.customConnect !== undefined) return undefined;
    let verdict = this.alpnVerdicts.get(servername);
    if (verdict === undefined) {
      const o = this.options;
      const dial = originDialOptions(o);
      verdict = probeAlpn({
        ...(this.target.network === 'tcp'
          ? { host: this.target.host, port: this.target.port }
          : { path: this.target.path }),
        ...(isIP(servername) === 0 ? { servername } : {}),
        ca: this.ca,
        rejectUnauthorized: !o.noTLSVerify,
        timeoutMs: dial.timeout === 0 ? 0 : dial.timeout + Math.max(0, o.tlsTimeout) * 1000,
      }).then((alpn) => {
        // A failed dial is not remembered: undici's attempt reports the error as cloudflared words it.
        if (alpn === null) this.alpnVerdicts.delete(servername);
        return alpn !== null && alpn !== 'h2';
      });
      this.alpnVerdicts.set(servername, verdict);
    }
    return (await verdict) ? this.http1Fallback : undefined;
  }

  /** Idle pooled origin connections right now (bounded by `keepAliveConnections`, §10.5). */
  get idleConnections(): number {
    return this.http1?.idleConnections ?? this.idleCap.idleCount;
  }

  private readonly customConnect: Agent.Options['connect'] | undefined;

  private agentFor(servername: string): Agent {
    let agent = this.agents.get(servername);
    if (agent !== undefined) return agent;
    const o = this.options;
    const https = this.origin.startsWith('https:');
    const dial = originDialOptions(o);
    const { Agent, buildConnector } = undici();
    const connector = buildConnector({
      ...dial,
      // undici bounds TCP + TLS together, so the TLS budget is added for HTTPS origins (§10.5).
      timeout: dial.timeout === 0 ? 0 : dial.timeout + (https ? Math.max(0, o.tlsTimeout) * 1000 : 0),
      ...(this.socketPath !== undefined ? { socketPath: this.socketPath } : {}),
      ...(o.noTLSVerify ? { rejectUnauthorized: false } : {}),
      ca: this.ca,
      ...(o.http2Origin ? { allowH2: true } : {}),
    });
    // Go takes SNI from the origin URL (or originServerName), never from the Host header as undici would; an IP
    // origin gets no SNI and its certificate is checked against the IP (§10.6).
    const sni = isIP(servername) === 0 ? servername : undefined;
    agent = new Agent({
      connect:
        this.customConnect ??
        ((opts, callback) =>
          connector({ ...opts, servername: sni as string }, (err, socket) => {
            // An origin that switched to http/1.1 since its probe: never hand undici an HTTP/1 socket (alpn-probe.ts).
            if (
              err === null &&
              https &&
              o.http2Origin &&
              (socket as { alpnProtocol?: string | false }).alpnProtocol !== 'h2'
            ) {
              socket.destroy();
              this.alpnVerdicts.delete(servername);
              callback(new Error('the origin did not negotiate h2 by ALPN'), null);
              return;
            }
            if (err === null) callback(null, socket);
            else callback(err, null);
          })),
      allowH2: o.http2Origin,
      factory: this.idleCap.poolFactory,
      keepAliveTimeout: o.keepAliveTimeout * 1000,
      keepAliveMaxTimeout: o.keepAliveTimeout * 1000,
      // cloudflared sets no response-header or body timeout; the edge's own timeout applies (docs/protocol.md §10.5, §11).
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.agents.set(servername, agent);
    return agent;
  }

  /** TLS server name (§10.6): originServerName, else (matchSNItoHost) the request Host, else the origin host. */
  private serverName(req: OriginRequest): string {
    if (!this.settings.ignoreServerName) {
      if (this.options.originServerName !== '') return this.options.originServerName;
      if (this.options.matchSNItoHost) return (this.options.httpHostHeader || req.host).replace(/:\d+$/, '');
    }
    return this.target.network === 'tcp' ? this.target.host : 'localhost';
  }

  async roundTrip(req: OriginRequest, signal: AbortSignal): Promise<OriginResponse> {
    const res = await this.exchange(req, signal);
    if (res.status !== 101 || req.isWebsocket) return res;
    // A protocol switch nobody asked for (docs/protocol.md §10.6): cloudflared writes the 101 head (200 over HTTP/2)
    // and then pipes or aborts the stream, so the visitor gets a hang or an empty reply. Answered 502 instead, with
    // the error Go's ReverseProxy gives; the origin connection is dropped, never pooled.
    res.body?.destroy();
    res.socket?.destroy();
    const upgrade = headerValue(res.headers, 'upgrade') ?? '';
    throw new OriginError(`backend tried to switch protocol ${JSON.stringify(upgrade)} when "" was requested`);
  }

  private async exchange(req: OriginRequest, signal: AbortSignal): Promise<OriginResponse> {
    if (signal.aborted) throw new OriginRequestCancelledError(signal.reason);
    let body: Readable | Buffer | null = req.isWebsocket ? null : req.body;
    let headers = req.headers;
    let chunked = false;
    if (body !== null) {
      const declared = headerIndex(headers, 'content-length');
      if (declared < 0 && this.options.disableChunkedEncoding) {
        // §10.5: cloudflared sends the declared Content-Length and streams; without one, small bodies are sized
        // here and larger ones stream chunked (cloudflared would send them with no framing at all).
        const unsized = body as Readable;
        const onAbort = (): void => {
          unsized.destroy(new OriginRequestCancelledError(signal.reason));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          body = await sizeIfSmall(unsized);
        } catch (err) {
          throw err instanceof OriginRequestCancelledError
            ? err
            : new OriginError(`read request body: ${(err as Error).message}`, err);
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
        if (Buffer.isBuffer(body))
          headers = [
            ...headers.filter(([n]) => n.toLowerCase() !== 'transfer-encoding'),
            ['Content-Length', String(body.length)],
          ];
        else chunked = true;
      } else chunked = declared < 0;
    }
    const built = buildOriginRequestHeaders({
      headers,
      host: req.host,
      isWebsocket: req.isWebsocket,
      hasBody: body !== null,
      connectorId: req.connectorId,
      httpHostHeader: this.options.httpHostHeader || undefined,
      tags: this.settings.tags,
    });
    const servername = this.serverName(req);
    const path = requestTarget(req.url);
    const method = req.isWebsocket ? 'GET' : req.method;
    // Without http2Origin no ALPN verdict is awaited (one promise less per request).
    const http1 = this.http1 ?? (await this.http1For(servername));
    if (http1 !== undefined) {
      const flat: string[] = ['Host', toWire(built.host)];
      for (const [name, value] of built.headers) flat.push(name, toWire(value));
      if (req.isWebsocket) flat.push('Connection', 'Upgrade', 'Upgrade', 'websocket');
      // Go sends a body of unknown length chunked whatever the method (Node would not for GET).
      else if (chunked) flat.push('Transfer-Encoding', 'chunked');
      return http1.roundTrip({ method, path, headers: flat, body, servername, upgrade: req.isWebsocket }, signal);
    }
    const flat: string[] = ['Host', toWire(built.host)];
    for (const [name, value] of built.headers) flat.push(name, toWire(value));
    const handler = new OriginResponseHandler(signal, this.target);
    const opts: Dispatcher.DispatchOptions & { servername: string } = {
      origin: this.origin,
      // A constant per-agent value keeps undici from re-deriving it from each request's Host header.
      servername,
      method,
      path,
      headers: flat,
      body,
      ...(req.isWebsocket ? { upgrade: 'websocket' } : {}),
    };
    try {
      this.agentFor(servername).dispatch(opts, handler);
    } catch (err) {
      handler.onError(err as Error);
    }
    return handler.response;
  }

  /**
   * Closes the pools. Callers close a service only when nothing should be in flight any more (a retired rule after
   * its last request, or the tunnel after its grace period, §12.5), so requests still open — an origin that never
   * answered — are aborted instead of waited for.
   */
  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    this.http1?.close();
    this.http1Fallback?.close();
    await Promise.allSettled(agents.map((a) => a.destroy()));
  }
}
