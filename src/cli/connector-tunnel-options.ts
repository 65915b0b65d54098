/**
 * The Tunnel options every CLI run takes from its connector settings (flags, environment, configuration file keys;
 * docs/protocol.md §16): one mapping for `tunnel run` and quick tunnels, so a flag added to one reaches both.
 */
import type { TunnelTestHooks } from '../internal/test-hooks.js';
import type { TunnelOptions } from '../tunnel-options.js';
import type { TunnelLogger } from '../util/logger.js';
import type { ConnectorSettings } from './run-settings.js';

/** What differs per command (token, origin, protocol choice, HA count) is left to the caller. */
export type ConnectorTunnelOptions = Pick<
  TunnelOptions,
  | 'tags'
  | 'configurationFlags'
  | 'edge'
  | 'region'
  | 'edgeIpVersion'
  | 'caCert'
  | 'postQuantum'
  | 'metrics'
  | 'edgeBindAddress'
  | 'retries'
  | 'gracePeriodMs'
  | 'features'
  | 'rpcTimeoutMs'
  | 'quicFlowControl'
  | 'logger'
>;

/** The options of {@link ConnectorTunnelOptions} from resolved settings, the `--cacert` bytes and the run's logger. */
export function connectorTunnelOptions(
  settings: ConnectorSettings,
  caCert: Buffer | undefined,
  logger: TunnelLogger,
): ConnectorTunnelOptions {
  return {
    tags: settings.tags,
    configurationFlags: settings.configurationFlags,
    edge: settings.edge,
    region: settings.region,
    edgeIpVersion: settings.edgeIpVersion,
    caCert,
    postQuantum: settings.postQuantum,
    metrics: settings.metrics,
    edgeBindAddress: settings.edgeBindAddress,
    retries: settings.retries,
    gracePeriodMs: settings.gracePeriodMs,
    features: settings.features,
    rpcTimeoutMs: settings.rpcTimeoutMs,
    quicFlowControl: { maxConnectionWindow: settings.quicConnectionWindow, maxStreamWindow: settings.quicStreamWindow },
    logger,
  };
}

/**
 * The internal hooks every CLI run sets from its settings: the version `--client-version` / `CFTUNNEL_CLIENT_VERSION`
 * reports at registration (§6.6), which the library keeps out of its public options.
 */
export function connectorHooks(settings: ConnectorSettings): TunnelTestHooks {
  return settings.clientVersion === undefined ? {} : { clientVersion: settings.clientVersion };
}
