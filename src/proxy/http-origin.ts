/**
 * HTTP(S) origins over TCP or a Unix socket (PROTOCOL.md §10.2, §10.6), one keep-alive undici Agent per origin.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { InvalidOriginServiceError, OriginRequestCancelledError } from './errors.js';
import type { DialTarget } from './go-error-text.js';
import { buildOriginRequestHeaders } from './headers.js';
import { OriginResponseHandler } from './response-handler.js';
import type { OriginRequest, OriginRequestOptions, OriginResponse, OriginService } from './types.js';

/** `connectTimeout` default (PROTOCOL.md §10.5). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
/** `tcpKeepAlive` default (PROTOCOL.md §10.5). */
export const DEFAULT_TCP_KEEPALIVE_MS = 30_000;
/** `keepAliveTimeout` default (PROTOCOL.md §10.5). */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 90_000;

/** Where an HTTP origin lives. */
export interface HttpOriginTarget {
  /** `http:` or `https:` origin used for scheme and default Host, e.g. `http://127.0.0.1:8080`. */
  origin: string;
  /** Unix socket path for `unix:` / `unix+tls:` services. */
  socketPath?: string;
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

/** An HTTP(S) origin reached through a pooled undici Agent. */
export class HttpOriginService implements OriginService {
  /**
   * Keep-alive pool. undici marks a connection reusable one event-loop turn (setImmediate) after its response
   * completes; a request dispatched before that opens a second connection.
   */
  private readonly agent: Agent;
  private readonly target: DialTarget;
  private readonly origin: string;

  constructor(
    target: HttpOriginTarget,
    private readonly options: OriginRequestOptions = {},
  ) {
    const url = new URL(target.origin);
    this.origin = url.origin;
    this.target =
      target.socketPath !== undefined
        ? { network: 'unix', path: target.socketPath }
        : { network: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
    const ca = options.caPool ? [...rootCertificates, readFileSync(options.caPool, 'utf8')] : undefined;
    this.agent = new Agent({
      connect: {
        timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        keepAlive: true,
        keepAliveInitialDelay: options.tcpKeepAliveMs ?? DEFAULT_TCP_KEEPALIVE_MS,
        ...(target.socketPath !== undefined ? { socketPath: target.socketPath } : {}),
        ...(options.originServerName ? { servername: options.originServerName } : {}),
        ...(options.noTLSVerify ? { rejectUnauthorized: false } : {}),
        ...(ca ? { ca } : {}),
      },
      keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
      keepAliveMaxTimeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
      // cloudflared sets no response-header or body timeout; the edge's own timeout applies (PROTOCOL.md §10.5, §11).
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  roundTrip(req: OriginRequest, signal: AbortSignal): Promise<OriginResponse> {
    if (signal.aborted) return Promise.reject(new OriginRequestCancelledError(signal.reason));
    const body = req.isWebsocket ? null : req.body;
    const built = buildOriginRequestHeaders({
      headers: req.headers,
      host: req.host,
      isWebsocket: req.isWebsocket,
      hasBody: body !== null,
      connectorId: req.connectorId,
      httpHostHeader: this.options.httpHostHeader,
      tags: this.options.tags,
    });
    const flat: string[] = ['Host', toWire(built.host)];
    for (const [name, value] of built.headers) flat.push(name, toWire(value));
    const handler = new OriginResponseHandler(signal, this.target);
    const opts: Dispatcher.DispatchOptions = {
      origin: this.origin,
      method: req.isWebsocket ? 'GET' : req.method,
      path: pathAndQuery(req.url),
      headers: flat,
      body,
      ...(req.isWebsocket ? { upgrade: 'websocket' } : {}),
    };
    try {
      this.agent.dispatch(opts, handler);
    } catch (err) {
      handler.onError(err as Error);
    }
    return handler.response;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
