/**
 * HTTP(S) origins over TCP or a Unix socket (docs/protocol.md §10.2, §10.5, §10.6), one keep-alive undici Agent per
 * origin (per TLS server name with `matchSNItoHost`).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Readable } from 'node:stream';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { ORIGIN_REQUEST_DEFAULTS, type OriginRequestConfig } from '../ingress/origin-request.js';
import { CLOUDFLARE_EMBEDDED_ROOTS } from '../transport/tls/cloudflare-roots.js';
import { originDialOptions } from './dial-options.js';
import { InvalidOriginServiceError, OriginRequestCancelledError } from './errors.js';
import type { DialTarget } from './go-error-text.js';
import { buildOriginRequestHeaders } from './headers.js';
import { IdleConnectionCap, idleConnectionCap } from './idle-cap.js';
import { OriginResponseHandler } from './response-handler.js';
import type { OriginRequest, OriginResponse, OriginService } from './types.js';

/** `connectTimeout` default (docs/protocol.md §10.5). */
export const DEFAULT_CONNECT_TIMEOUT_MS = ORIGIN_REQUEST_DEFAULTS.connectTimeout * 1000;
/** `tcpKeepAlive` default (docs/protocol.md §10.5). */
export const DEFAULT_TCP_KEEPALIVE_MS = ORIGIN_REQUEST_DEFAULTS.tcpKeepAlive * 1000;
/** `keepAliveTimeout` default (docs/protocol.md §10.5). */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = ORIGIN_REQUEST_DEFAULTS.keepAliveTimeout * 1000;

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
}

/** Go-style string with `\r\n`-free UTF-8 bytes, as undici writes header strings as latin1. */
function toWire(value: string): string {
  return Buffer.from(value, 'utf8').toString('latin1');
}

function pathAndQuery(url: string): string {
  if (url.startsWith('/')) return url;
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    throw new InvalidOriginServiceError(`request URL ${JSON.stringify(url)} is not absolute`);
  }
}

async function buffered(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** An HTTP(S) origin reached through pooled undici Agents. */
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
        : { network: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
    const extra = [...(settings.extraCa ?? [])];
    if (this.options.caPool !== '') extra.push(readFileSync(this.options.caPool, 'utf8'));
    // Trust = system roots + Cloudflare's roots + hello-world certificate / caPool (§10.6).
    this.ca = [...rootCertificates, ...CLOUDFLARE_EMBEDDED_ROOTS, ...extra];
    this.socketPath = target.socketPath;
    this.customConnect = target.connect;
    this.idleCap = new IdleConnectionCap(idleConnectionCap(this.options.keepAliveConnections));
  }

  /** Idle pooled origin connections right now (bounded by `keepAliveConnections`, §10.5). */
  get idleConnections(): number {
    return this.idleCap.idleCount;
  }

  private readonly customConnect: Agent.Options['connect'] | undefined;

  private agentFor(servername: string): Agent {
    let agent = this.agents.get(servername);
    if (agent !== undefined) return agent;
    const o = this.options;
    const https = this.origin.startsWith('https:');
    const dial = originDialOptions(o);
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
      connect: this.customConnect ?? ((opts, callback) => connector({ ...opts, servername: sni as string }, callback)),
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
    if (signal.aborted) throw new OriginRequestCancelledError(signal.reason);
    let body: Readable | Buffer | null = req.isWebsocket ? null : req.body;
    let headers = req.headers;
    if (body !== null && this.options.disableChunkedEncoding) {
      // §10.5: never chunked towards the origin; a body of unknown length is read first so it can be sized.
      const length = headers.find(([n]) => n.toLowerCase() === 'content-length');
      if (length === undefined) {
        body = await buffered(body as Readable);
        headers = [...headers.filter(([n]) => n.toLowerCase() !== 'transfer-encoding'), ['Content-Length', String(body.length)]];
      }
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
    const flat: string[] = ['Host', toWire(built.host)];
    for (const [name, value] of built.headers) flat.push(name, toWire(value));
    const handler = new OriginResponseHandler(signal, this.target);
    const servername = this.serverName(req);
    const opts: Dispatcher.DispatchOptions & { servername: string } = {
      origin: this.origin,
      // A constant per-agent value keeps undici from re-deriving it from each request's Host header.
      servername,
      method: req.isWebsocket ? 'GET' : req.method,
      path: pathAndQuery(req.url),
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
    await Promise.allSettled(agents.map((a) => a.destroy()));
  }
}
