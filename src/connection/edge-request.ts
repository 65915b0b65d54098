/**
 * Turning what the edge sent into a transport-neutral origin request, and routing it through ingress
 * (docs/protocol.md §7.2, §8.2, §10.1).
 */
import type { ConnectRequest, Metadata } from '../capnp/connect-codec.js';
import { CftunnelError } from '../errors.js';
import type { OriginRequest, OriginResponse } from '../proxy/index.js';
import { requestHasBody } from '../proxy/headers.js';
import { requireHttp2Status } from '../proxy/http2-status.js';
import type { ConnectionContext, RequestHandle, TunnelProtocol } from './types.js';
import { STATUS_CODES } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';

/**
 * Error text cloudflared returns for private-network (WARP) flows when warp routing is off (2023.7.3
 * `proxy/proxy.go` ProxyTCP). cftunnel never serves such flows (product decision), so it always answers this.
 */
export const WARP_ROUTING_DISABLED_MESSAGE =
  'cloudflared received a request from WARP client, but your configuration has disabled ingress from WARP clients. To enable this, set "warp-routing:\\n\\t enabled: true" in your config.yaml';

/** Metadata keys of a ConnectRequest (§7.2). */
export const METADATA_HTTP_METHOD = 'HttpMethod';
export const METADATA_HTTP_HOST = 'HttpHost';
export const METADATA_HTTP_HEADER = 'HttpHeader';
export const METADATA_HTTP_STATUS = 'HttpStatus';

/**
 * Bytes Go's `url.Parse` refuses anywhere in a URL (ASCII controls and DEL: `net/url: invalid control character in
 * URL`), which fails cloudflared's request before it reaches the origin (2023.7.3 `connection/quic.go`
 * buildHTTPRequest → `http.NewRequestWithContext`).
 */
const URL_CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;

/** The edge sent a request cftunnel cannot turn into an origin request. */
export class EdgeRequestError extends CftunnelError {
  constructor(message: string) {
    super('CFT_ERR_EDGE_REQUEST', message, { retryable: false });
  }
}

/**
 * Builds an origin request from a QUIC ConnectRequest (§7.2). `body` is the rest of the stream; it is attached
 * only when the body rule says so (the caller then leaves the stream's read side unconsumed).
 */
export function originRequestFromConnect(req: ConnectRequest, body: Readable, connectorId: string): OriginRequest {
  // The WHATWG URL parser used further on silently drops CR, LF and TAB, so a destination carrying them would still
  // reach the origin, with a path the edge never sent: refuse it like Go does.
  if (URL_CONTROL_CHARACTER.test(req.dest)) {
    throw new EdgeRequestError(`parse ${JSON.stringify(req.dest)}: net/url: invalid control character in URL`);
  }
  let method = 'GET';
  let host = '';
  const headers: Array<[string, string]> = [];
  const metadata: readonly Metadata[] = req.metadata;
  for (let i = 0; i < metadata.length; i++) {
    const { key, val } = metadata[i]!;
    if (key === METADATA_HTTP_METHOD) method = val;
    else if (key === METADATA_HTTP_HOST) host = val;
    else if (key.includes(METADATA_HTTP_HEADER)) {
      const parts = key.split(':');
      if (parts.length !== 2) throw new EdgeRequestError(`header Key: ${key} malformed`);
      headers.push([parts[1]!, val]);
    }
  }
  const isWebsocket = req.type === 'websocket';
  if (host === '') {
    try {
      host = new URL(req.dest).host;
    } catch {
      throw new EdgeRequestError(`request destination ${JSON.stringify(req.dest)} is not a URL`);
    }
  }
  return {
    method,
    url: req.dest,
    host,
    headers,
    body: requestHasBody(headers, isWebsocket) ? requestBodyView(body) : null,
    isWebsocket,
    connectorId,
  };
}

/**
 * The request body as a separate Readable over the transport stream. Origin clients destroy a body stream once they
 * are done with it; handing them the transport stream itself would tear down the response direction too.
 */
export function requestBodyView(stream: Readable): Readable {
  const body = new PassThrough();
  stream.pipe(body);
  stream.once('error', (err) => body.destroy(err));
  // The origin client listens while it reads; a stream error after it is done (e.g. STOP_SENDING once the
  // response went out) must not become an uncaught exception.
  body.on('error', () => undefined);
  return body;
}

/** Path of an absolute or origin-form URL, without the query (§10.1 path matching). */
export function urlPath(url: string): string {
  const start = url.indexOf('://');
  const pathStart = start < 0 ? 0 : url.indexOf('/', start + 3);
  if (pathStart < 0) return '/';
  const end = url.search(/[?#]/);
  return end > pathStart ? url.slice(pathStart, end) : url.slice(pathStart);
}

/** Starts observing a request, when someone observes (the common no-observer case costs one branch). */
export function observeRequest(ctx: ConnectionContext, protocol: TunnelProtocol, req: OriginRequest): RequestHandle | undefined {
  if (ctx.observer === undefined) return undefined;
  let cfRay: string | undefined;
  for (const [name, value] of req.headers) {
    if (name.length === 6 && name.toLowerCase() === 'cf-ray') {
      cfRay = value;
      break;
    }
  }
  return ctx.observer.start({
    connIndex: ctx.connIndex,
    protocol,
    method: req.method,
    url: req.url,
    host: req.host,
    isWebsocket: req.isWebsocket,
    cfRay,
  });
}

/**
 * Routes a request through the current ingress rules to its origin service and sends it (§10.1). At debug level it
 * logs the request and the origin's status like cloudflared (§13.3, `proxy/logger.go`).
 */
export function forwardToOrigin(ctx: ConnectionContext, req: OriginRequest, signal: AbortSignal, protocol: TunnelProtocol = 'quic'): Promise<OriginResponse> {
  const path = urlPath(req.url);
  const rule = ctx.orchestrator.config.ingress.match(req.host, path);
  const service = ctx.origins.serviceFor(rule);
  const sent = debugEnabled(ctx.logger)
    ? roundTripLogged(ctx, req, signal, protocol, rule.index, rule.service.canonical, service.roundTrip.bind(service))
    : service.roundTrip(req, signal);
  // §8.5: node:http2 cannot send a status QUIC relays (e.g. 999): an origin failure there, with the reason.
  return protocol === 'http2' ? sent.then(requireHttp2Status) : sent;
}

/** Whether a logger with pino's shape logs at debug (loggers without `isLevelEnabled` are asked to log). */
function debugEnabled(logger: ConnectionContext['logger']): boolean {
  const probe = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return typeof probe !== 'function' || probe.call(logger, 'debug');
}

/** Go's `ContentLength` of a message: the header's value, -1 when unknown. */
function contentLength(headers: ReadonlyArray<readonly [string, string]>): number {
  const h = headers.find(([name]) => name.toLowerCase() === 'content-length');
  return h === undefined || !/^\d+$/.test(h[1]) ? -1 : Number(h[1]);
}

async function roundTripLogged(
  ctx: ConnectionContext,
  req: OriginRequest,
  signal: AbortSignal,
  protocol: TunnelProtocol,
  ingressRule: number,
  originService: string,
  roundTrip: (req: OriginRequest, signal: AbortSignal) => Promise<OriginResponse>,
): Promise<OriginResponse> {
  const headers: Record<string, string[]> = {};
  for (const [name, value] of req.headers) (headers[name] ??= []).push(value);
  const cfRay = headers['Cf-Ray']?.[0] ?? headers['cf-ray']?.[0];
  // cloudflared's request logger fields (`proxy/logger.go` newHTTPLogger): event 1 = http.
  const fields = { event: 1, connIndex: ctx.connIndex, ...(cfRay === undefined ? {} : { cfRay }), originService, ingressRule };
  const proto = protocol === 'http2' ? 'HTTP/2.0' : 'HTTP/1.1';
  const requestLength = req.body === null && !req.isWebsocket ? 0 : contentLength(req.headers);
  ctx.logger.debug({ ...fields, host: req.host, path: urlPath(req.url), headers, 'content-length': requestLength }, `${req.method} ${req.url} ${proto}`);
  const res = await roundTrip(req, signal);
  ctx.logger.debug({ ...fields, 'content-length': contentLength(res.headers) }, `${res.status} ${STATUS_CODES[res.status] ?? ''}`.trimEnd());
  return res;
}

/** ConnectResponse metadata for an origin response: `HttpStatus` then one `HttpHeader:<Name>` per value (§7.3). */
export function responseMetadata(res: OriginResponse): Metadata[] {
  const out: Metadata[] = [{ key: METADATA_HTTP_STATUS, val: String(res.status) }];
  for (const [name, value] of res.headers) out.push({ key: `${METADATA_HTTP_HEADER}:${name}`, val: value });
  return out;
}
