/**
 * `startQuickTunnel`: what `cloudflared tunnel --url …` does without a token (docs/protocol.md §20) as a library call —
 * ask the quick-tunnel service for credentials, then run one connection serving the given origin.
 */
import { packageVersion } from '../util/package-version.js';
import type { Origin } from '../proxy/in-process/origin.js';
import { quicAvailability } from '../transport/quic/index.js';
import { startTunnel, TunnelOptionsError, type Tunnel, type TunnelOptions } from '../tunnel.js';
import { requestQuickTunnel, type QuickTunnelGrant } from './service-client.js';

/** Quick tunnels run one connection (cloudflared overrides `--ha-connections` to 1, §20.1). */
export const QUICK_TUNNEL_HA_CONNECTIONS = 1;

/** Options of the connector that a quick tunnel fixes itself (credentials, origin, one connection). */
type FixedTunnelOptions =
  'token' | 'origin' | 'url' | 'ingress' | 'config' | 'services' | 'haConnections' | 'quickTunnelHostname';

/** Options of {@link startQuickTunnel}. */
export interface QuickTunnelOptions extends Omit<TunnelOptions, FixedTunnelOptions> {
  /**
   * What the public URL serves: a service URL (`http://localhost:3000`) or an app served in-process with no port —
   * an `http.Server`, a `(req, res)` listener (Express), or an object with `fetch(request)` (Hono).
   */
  origin: Origin;
  /** Origin settings of the single rule (cloudflared's `originRequest` keys, e.g. `{ noTLSVerify: true }`). */
  originRequest?: Record<string, unknown>;
  /** Base URL of the quick-tunnel service (`--quick-service`); default `https://api.trycloudflare.com`. */
  serviceUrl?: string;
  /** `User-Agent` of the service request; default `cftunnel/<version>`. */
  userAgent?: string;
  /** Timeout of the service request; default 15 s like cloudflared. */
  serviceTimeoutMs?: number;
}

/** A running quick tunnel. */
export interface QuickTunnel {
  /** The public URL, `https://<hostname>`. */
  readonly url: string;
  /** The hostname the service assigned. */
  readonly hostname: string;
  /** The connector, for events, metrics and connection details. */
  readonly tunnel: Tunnel;
  /** Unregisters and closes the connection (`graceMs` as `Tunnel.close`). */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** `quic` unless set, like cloudflared (§20.1, §20.3); `auto` where the QUIC binding cannot load, which runs HTTP/2. */
function quickTunnelProtocol(protocol: TunnelOptions['protocol']): NonNullable<TunnelOptions['protocol']> {
  if (protocol !== undefined) return protocol;
  return quicAvailability().available ? 'quic' : 'auto';
}

/** Connector options for a granted quick tunnel. */
export function quickTunnelOptions(
  options: Omit<QuickTunnelOptions, 'serviceUrl' | 'userAgent' | 'serviceTimeoutMs'>,
  grant: QuickTunnelGrant,
): TunnelOptions {
  const { origin, originRequest, ...rest } = options;
  return {
    ...rest,
    token: grant.credentials,
    ...(originRequest === undefined ? { origin } : { ingress: [{ service: origin, originRequest }] }),
    protocol: quickTunnelProtocol(options.protocol),
    haConnections: QUICK_TUNNEL_HA_CONNECTIONS,
    quickTunnelHostname: grant.hostname,
  };
}

/**
 * Creates a quick tunnel and resolves once its connection is registered, so the URL is served when this resolves.
 *
 * @throws {import('./errors.js').QuickTunnelUnreachableError} and the other quick-tunnel service errors.
 * @throws {TunnelOptionsError} `origin` is missing.
 * @throws the connector's startup errors (e.g. `InitialConnectionError`), after closing it.
 */
export async function startQuickTunnel(options: QuickTunnelOptions): Promise<QuickTunnel> {
  if (options.origin === undefined || options.origin === '')
    throw new TunnelOptionsError('origin', 'is required by startQuickTunnel (a URL or an in-process app)');
  const { serviceUrl, userAgent, serviceTimeoutMs, ...tunnelOptions } = options;
  const grant = await requestQuickTunnel({
    serviceUrl,
    userAgent: userAgent ?? `cftunnel/${packageVersion()}`,
    timeoutMs: serviceTimeoutMs,
    signal: options.signal,
  });
  options.logger?.info({ url: grant.url, tunnelID: grant.credentials.tunnelId }, 'Quick tunnel created');
  const tunnel = await startTunnel(quickTunnelOptions(tunnelOptions, grant));
  return {
    url: grant.url,
    hostname: grant.hostname,
    tunnel,
    close: (closeOptions) => tunnel.close(closeOptions),
  };
}
