/**
 * The origin proxy of one configuration (docs/protocol.md §10.1, §13.3): matches a request against the ingress rules,
 * picks the rule's origin service and round-trips the request to it. The orchestrator hands out the proxy of the
 * configuration current when a request arrives (cloudflared's `GetOriginProxy`), so a request keeps the rules it was
 * routed with across a configuration swap (§9.3). Transports never see ingress rules or origin pools.
 */
import { STATUS_CODES } from 'node:http';
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
  constructor(
    private readonly ingress: IngressRules,
    private readonly services: OriginServiceResolver,
  ) {}

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
