/** Builds the live {@link OriginService} for a validated ingress service (docs/protocol.md §10.2). */
import { ORIGIN_REQUEST_DEFAULTS, type OriginRequestConfig } from '../ingress/origin-request.js';
import type { IngressService } from '../ingress/service.js';
import { AccessProtectedService, defaultAccessTeamUrl } from './access.js';
import { HelloWorldService } from './hello-world.js';
import { HttpOriginService } from './http-origin.js';
import { StatusOriginService } from './status-origin.js';
import { TcpOverWebSocketService } from './tcp-over-ws.js';
import type { OriginService, OriginServiceContext } from './types.js';

function baseService(
  service: IngressService,
  options: OriginRequestConfig,
  context: OriginServiceContext,
): OriginService {
  const settings = { options, tags: context.tags };
  switch (service.kind) {
    case 'http':
      return new HttpOriginService({ origin: service.url.origin }, settings);
    case 'unix':
      return new HttpOriginService(
        { origin: service.tls ? 'https://localhost' : 'http://localhost', socketPath: service.path },
        settings,
      );
    case 'status':
      return new StatusOriginService(service.status);
    case 'hello_world':
      return new HelloWorldService(options);
    case 'tcp_over_ws':
      return new TcpOverWebSocketService({ host: service.host, port: service.port }, options);
    case 'bastion':
      return new TcpOverWebSocketService('bastion', options);
  }
}

/**
 * Creates the origin for an already-validated service (from `parseIngressService` / an `IngressRule`).
 *
 * @param options the rule's resolved `originRequest` (§10.4).
 * @param access the rule's own `access` block; when `required`, requests are checked first (§10.6).
 */
export function createOriginService(
  service: IngressService,
  options: OriginRequestConfig = ORIGIN_REQUEST_DEFAULTS,
  context: OriginServiceContext = {},
  access: OriginRequestConfig['access'] = undefined,
): OriginService {
  const origin = baseService(service, options, context);
  if (access?.required !== true) return origin;
  const teamUrl = (context.accessTeamUrl ?? defaultAccessTeamUrl)(access.teamName, access.environment);
  return new AccessProtectedService(origin, access, teamUrl);
}
