/**
 * The origin proxy of one configuration (docs/protocol.md §10.1, §13.3): matches a request against the ingress rules,
 * picks the rule's origin service and round-trips the request to it. The orchestrator hands out the proxy of the
 * configuration current when a request arrives (cloudflared's `GetOriginProxy`), so a request keeps the rules it was
 * routed with across a configuration swap (§9.3). Transports never see ingress rules or origin pools. Like cloudflared's
 * proxy, it also observes each request (the `request`/`error` events, request metrics, diagnostics_channel) and hands
 * the response to the connection's writer.
 */
import { STATUS_CODES } from 'node:http';
import { CftunnelError } from '../errors.js';
import { RequestFailedError } from './errors.js';
import type { ProxyResponseWriter, RequestHandle, RequestObserver } from './types.js';
import type { IngressRule, IngressRules } from '../ingress/rules.js';
import type { TunnelLogger } from '../util/logger.js';
import type { OriginRequest, OriginResponse, OriginService } from './types.js';

/** Resolves a matched rule to its live origin service (one connection pool per rule). */
export interface OriginServiceResolver {
  serviceFor(rule: IngressRule): OriginService;
}

/** Who asks, for cloudflared's request log fields (§13.3). */
export interface ProxyCaller {
  readonly logger: TunnelLogger;
  readonly connIndex: number;
  /** The transport the request came over: its HTTP version shows in the debug request log. */
  readonly protocol: 'quic' | 'http2';
}

/** Path of an absolute or origin-form URL, without the query (§10.1 path matching). */
export function urlPath(url: string): string {
  const start = url.indexOf('://');
  const pathStart = start < 0 ? 0 : url.indexOf('/', start + 3);
  if (pathStart < 0) return '/';
  const end = url.search(/[?#]/);
  return end > pathStart ? url.slice(pathStart, end) : url.slice(pathStart);
}

/** Routes requests through one configuration's ingress rules to their origin services. */
export class OriginProxy {
  /** `observer`: the tunnel's request observer (metrics, events, diagnostics_channel); absent ⇒ nothing observed. */
  constructor(
    private readonly ingress: IngressRules,
    private readonly services: OriginServiceResolver,
    private readonly observer?: RequestObserver,
  ) {}

  /**
   * Serves one edge request like cloudflared's `ProxyHTTP` (§13.3): routes it to its origin, hands the response to
   * `writer`, and observes the request from start to end. A failure (of the origin, or while writing) goes to
   * `writer.fail`; never rejects.
   */
  async serve(
    req: OriginRequest,
    signal: AbortSignal,
    caller: ProxyCaller,
    writer: ProxyResponseWriter,
  ): Promise<void> {
    const observed = this.observe(req, caller);
    let failure: Error | undefined;
    try {
      const res = await this.proxy(req, signal, caller);
      observed?.response(res.status);
      await writer.respond(res);
    } catch (err) {
      // What reaches a user (`request`/`error` events) is always a CftunnelError; the wire gets the original text.
      failure = err instanceof CftunnelError ? err : new RequestFailedError(err);
      writer.fail(err);
    } finally {
      observed?.end(failure);
    }
  }

  /** Starts observing a request, when someone observes (the common no-observer case costs one branch). */
  private observe(req: OriginRequest, caller: ProxyCaller): RequestHandle | undefined {
    if (this.observer === undefined) return undefined;
    let cfRay: string | undefined;
    for (const [name, value] of req.headers) {
      if (name.length === 6 && name.toLowerCase() === 'cf-ray') {
        cfRay = value;
        break;
      }
    }
    return this.observer.start({
      connIndex: caller.connIndex,
      protocol: caller.protocol,
      method: req.method,
      url: req.url,
      host: req.host,
      isWebsocket: req.isWebsocket,
      cfRay,
    });
  }

  /**
   * Sends `req` to the origin its ingress rule names (§10.1). At debug level it logs the request and the origin's
   * status like cloudflared (§13.3, `proxy/logger.go`). Rejects with the origin service's typed error.
   */
  proxy(req: OriginRequest, signal: AbortSignal, caller: ProxyCaller): Promise<OriginResponse> {
    const rule = this.ingress.match(req.host, urlPath(req.url));
    const service = this.services.serviceFor(rule);
    return debugEnabled(caller.logger)
      ? roundTripLogged(caller, req, signal, rule, service)
      : service.roundTrip(req, signal);
  }
}

/** Whether a logger with pino's shape logs at debug (loggers without `isLevelEnabled` are asked to log). */
function debugEnabled(logger: TunnelLogger): boolean {
  const probe = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return typeof probe !== 'function' || probe.call(logger, 'debug');
}

/** Go's `ContentLength` of a message: the header's value, -1 when unknown. */
function contentLength(headers: ReadonlyArray<readonly [string, string]>): number {
  const h = headers.find(([name]) => name.toLowerCase() === 'content-length');
  return h === undefined || !/^\d+$/.test(h[1]) ? -1 : Number(h[1]);
}

async function roundTripLogged(
  caller: ProxyCaller,
  req: OriginRequest,
  signal: AbortSignal,
  rule: IngressRule,
  service: OriginService,
): Promise<OriginResponse> {
  const headers: Record<string, string[]> = {};
  for (const [name, value] of req.headers) (headers[name] ??= []).push(value);
  const cfRay = headers['Cf-Ray']?.[0] ?? headers['cf-ray']?.[0];
  // cloudflared's request logger fields (`proxy/logger.go` newHTTPLogger): event 1 = http.
  const fields = {
    event: 1,
    connIndex: caller.connIndex,
    ...(cfRay === undefined ? {} : { cfRay }),
    originService: rule.service.canonical,
    ingressRule: rule.index,
  };
  const proto = caller.protocol === 'http2' ? 'HTTP/2.0' : 'HTTP/1.1';
  const requestLength = req.body === null && !req.isWebsocket ? 0 : contentLength(req.headers);
  caller.logger.debug(
    { ...fields, host: req.host, path: urlPath(req.url), headers, 'content-length': requestLength },
    `${req.method} ${req.url} ${proto}`,
  );
  const res = await service.roundTrip(req, signal);
  caller.logger.debug(
    { ...fields, 'content-length': contentLength(res.headers) },
    `${res.status} ${STATUS_CODES[res.status] ?? ''}`.trimEnd(),
  );
  return res;
}
