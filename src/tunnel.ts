/**
 * The library entry point: a tunnel connector you start from your own process.
 */
import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import { FEATURE_POST_QUANTUM, type ConnectorIdentity } from './connection/identity.js';
import type { TunnelConnection } from './connection/tunnel-connection.js';
import type { ConnectionDetails, TunnelProtocol } from './connection/types.js';
import {
  discoverEdge,
  fetchProtocolPercentages,
  ipVersionForBindAddress,
  selectByPercentage,
  staticEdgePool,
  systemEdgeResolver,
  type EdgeAddressPool,
} from './edge-discovery/index.js';
import { CftunnelError } from './errors.js';
import { startMetricsServer, TunnelMetrics, type MetricsServer } from './metrics/index.js';
import type { TunnelLogger } from './util/logger.js';
import { createRequestObserver, type RequestSummary } from './observability/request-observer.js';
import {
  closedBeforeConfigured,
  configurationEvent,
  FirstConfiguration,
  type ConfigurationEvent,
} from './orchestration/configured.js';
import { Orchestrator } from './orchestration/orchestrator.js';
import { OriginServices } from './orchestration/origin-services.js';
import { checkCaPools } from './orchestration/ca-pools.js';
import { buildTunnelConfig, type TunnelConfig } from './orchestration/remote-config.js';
import { configFromUrl, localConfigurationJson } from './orchestration/local-config.js';
import { inProcessServiceFactory, isInProcessOrigin, type Origin } from './proxy/in-process/origin.js';
import type { OriginService } from './proxy/types.js';
import { selectProtocol } from './supervisor/protocol.js';
import { Supervisor, type SupervisorEvents } from './supervisor/supervisor.js';
import type { TunnelCredentials } from './token/index.js';
import { QuicUnavailableError, quicAvailability } from './transport/quic/index.js';
import { curvePreferences, detectPostQuantumSupport } from './transport/tls/curves.js';
import {
  resolveTunnelOptions,
  TunnelOptionsError,
  type LocalConfigOptions,
  type ResolvedTunnelOptions,
  type TunnelOptions,
} from './tunnel-options.js';

export { TunnelOptionsError };

/** Feature string sent when strict post-quantum mode is requested (docs/protocol.md §14.4). */
export const POST_QUANTUM_FEATURE = FEATURE_POST_QUANTUM;

export type { IngressRuleOptions, TunnelOptions } from './tunnel-options.js';

/**
 * Events of {@link Tunnel}. `request` fires when a proxied request is over (only computed while someone listens);
 * `error` fires for failed requests, and only when an `error` listener exists — an unhandled `error` event must never
 * crash the host application.
 */
export interface TunnelEvents extends SupervisorEvents {
  /**
   * A configuration now routes requests, with its public hostnames: each remote configuration the edge pushes
   * (once per version, however many connections carried it), or the local rules of a locally managed tunnel
   * (emitted when connection 0 registers). {@link Tunnel.configured} waits for the first.
   */
  configuration: [event: ConfigurationEvent];
  request: [summary: RequestSummary];
  error: [err: Error, summary: RequestSummary];
}

/** Builds the local configuration and registers in-process origins under synthetic service URLs. */
function localConfig(options: LocalConfigOptions, inProcess: Map<string, () => OriginService>): TunnelConfig {
  for (const [service, origin] of Object.entries(options.services ?? {}))
    inProcess.set(service, inProcessServiceFactory(origin));
  if (options.config !== undefined) return options.config;
  const serviceString = (origin: Origin): string => {
    if (!isInProcessOrigin(origin)) return origin;
    // A reserved-TLD URL that is never dialled: the rule's canonical service string keys the in-process origin.
    const synthetic = `http://in-process-${inProcess.size}.invalid`;
    inProcess.set(synthetic, inProcessServiceFactory(origin));
    return synthetic;
  };
  const origin = options.origin ?? options.url;
  // A URL origin with top-level options is the one-rule ingress `--url` plus the origin flags makes (§10.4): the
  // options apply to it, validated like an ingress rule's.
  const rules =
    options.ingress ??
    (origin !== undefined && options.originRequest !== undefined ? [{ service: origin }] : undefined);
  if (rules !== undefined) {
    const ingress = rules.map((r) => ({ ...r, service: serviceString(r.service) }));
    // Built from the objects themselves (validated like a remote document, §9.2); the text is only what /config shows.
    const doc = options.originRequest === undefined ? { ingress } : { ingress, originRequest: options.originRequest };
    return buildTunnelConfig(doc, JSON.stringify(doc), 'json');
  }
  // No ingress at all ⇒ the single catch-all `http_status:503` (docs/protocol.md §10.3).
  return configFromUrl(origin === undefined ? undefined : serviceString(origin));
}

/** A running tunnel connector. */
export class Tunnel extends EventEmitter<TunnelEvents> {
  readonly credentials: TunnelCredentials;
  readonly identity: ConnectorIdentity;
  /** Holds the live configuration; internal (what users see of it are the `configuration` events and metrics). */
  private readonly orchestrator: Orchestrator;
  /** Prometheus metrics of this tunnel (cloudflared's names, docs/protocol.md §13.2). */
  readonly metrics: TunnelMetrics;
  private readonly origins: OriginServices;
  private readonly logger: TunnelLogger;
  private readonly readyPromise: Promise<ConnectionDetails>;
  private readonly firstConfiguration = new FirstConfiguration();
  private supervisor: Supervisor | undefined;
  private metricsServer: MetricsServer | undefined;
  private closing: Promise<void> | undefined;
  /** What `updateLocalConfiguration` sends when the edge says the tunnel is locally managed (§6.8, §9.4). */
  private readonly localConfigJson: Buffer;
  /** Aborts a startup still in progress when close() is called. */
  private readonly startAbort = new AbortController();
  /** The options resolved once (no token text: nothing may show it, util.inspect included). */
  private readonly settings: ResolvedTunnelOptions;

  constructor(options: TunnelOptions) {
    super();
    const settings = resolveTunnelOptions(options);
    this.settings = settings;
    this.credentials = settings.credentials;
    // HTTP/2 alone (asked for, or strict post-quantum) never loads the QUIC binding: 2.5 MB of RSS saved.
    const http2Only = settings.protocol === 'http2' || settings.postQuantum;
    const quic: ReturnType<typeof quicAvailability> = http2Only
      ? { available: false, reason: 'QUIC not asked for' }
      : quicAvailability();
    // Asking for QUIC where it cannot run is the caller's to fix (use http2 or auto); auto falls back below.
    if (settings.protocol === 'quic' && !quic.available) throw new QuicUnavailableError(quic.reason);
    this.identity = settings.identity;
    this.logger = settings.logger;
    this.metrics = new TunnelMetrics({ buildInfo: { version: this.identity.version, type: 'cftunnel' } });
    const inProcess = new Map<string, () => OriginService>();
    const initial = localConfig(settings.local, inProcess);
    this.origins = new OriginServices({ inProcess, tags: settings.tags });
    this.localConfigJson = localConfigurationJson(initial, settings.local.configurationFlags);
    this.orchestrator = new Orchestrator(initial, this.origins, this.requestObserver());
    this.orchestrator.on('config', (version, cfg) => {
      this.origins.retire(cfg);
      this.metrics.configVersion(version);
      const event = configurationEvent('remote', version, cfg);
      this.firstConfiguration.remote(event);
      this.emit('configuration', event);
    });
    this.readyPromise = this.start(quic).then((c) => c.details);
    // Every timer of the core is unref'd (a library must not hold its host open), so while startup is pending this
    // handle is what keeps a program whose only work is startTunnel() alive until it is connected, closed or failed.
    const startupHold = setInterval(() => undefined, 2 ** 31 - 1);
    this.readyPromise.then(
      (details) => {
        clearInterval(startupHold);
        const local = this.firstConfiguration.registered(details, () =>
          configurationEvent('local', -1, this.orchestrator.config),
        );
        if (local !== undefined) this.emit('configuration', local);
      },
      (err: unknown) => {
        clearInterval(startupHold);
        this.firstConfiguration.fail(err);
      },
    );
    settings.signal?.addEventListener('abort', () => void this.close({ graceMs: 0 }), { once: true });
  }

  private async start(quic: ReturnType<typeof quicAvailability>): Promise<TunnelConnection> {
    const s = this.settings;
    const quicAvailable = quic.available;
    // Say why a tunnel that could have used QUIC does not: otherwise HTTP/2 on macOS or musl looks like a choice.
    if (!quic.available && s.protocol === 'auto' && !s.postQuantum) this.logger.info(`${quic.reason}; using http2`);
    // A local rule's caPool is read like a remote one's (asynchronously, bounded); unreadable fails startup (§9.3).
    await checkCaPools(this.orchestrator.config);
    const pq = await detectPostQuantumSupport();
    const curves = curvePreferences(s.postQuantum ? 'strict' : 'prefer', pq);
    // Strict PQ cannot run on QUIC (no group choice in the binding): HTTP/2 only.
    const protocolOption = s.postQuantum ? 'http2' : s.protocol;
    let selection = selectProtocol(protocolOption, quicAvailable);
    if (protocolOption === 'auto' && s.discovery.protocolSelector === 'remote' && quicAvailable) {
      const percentages = await fetchProtocolPercentages(s.discovery.resolver ?? systemEdgeResolver()).catch(
        (err: unknown) => {
          this.logger.warn({ err }, 'Unable to lookup protocol percentage.');
          return undefined;
        },
      );
      const initial = selectByPercentage(percentages, this.credentials.accountTag);
      this.logger.debug({ protocol: initial }, `Fetched protocol: ${initial}`);
      selection = { initial, fallback: initial === 'quic' ? 'http2' : undefined };
    }
    this.logger.info(`Initial protocol ${selection.initial}`);
    const pool = await this.edgePool();
    if (this.closing !== undefined) throw new CftunnelError('CFT_ERR_ABORTED', 'tunnel closed during startup');
    this.supervisor = new Supervisor({
      settings: s.supervisor,
      credentials: this.credentials,
      identity: this.identity,
      orchestrator: this.orchestrator,
      logger: this.logger,
      edgePool: pool,
      protocol: selection,
      metrics: this.metrics,
      localConfig: this.localConfigJson,
      http2Curves: curves,
    });
    for (const name of [
      'connected',
      'disconnected',
      'reconnecting',
      'dialing',
      'protocol_fallback',
      'protocol_restored',
      'config',
    ] as const) {
      this.supervisor.on(name, (...args: unknown[]) =>
        (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args),
      );
    }
    if (s.metricsAddress !== undefined) {
      this.metricsServer = await startMetricsServer({
        address: s.metricsAddress,
        metrics: this.metrics,
        connectorId: this.identity.connectorId,
        readyConnections: () => this.supervisor?.connections.length ?? 0,
        quickTunnelHostname: s.quickTunnelHostname,
        config: () =>
          JSON.stringify({
            version: this.orchestrator.currentVersion,
            config: JSON.parse(this.orchestrator.config.raw),
          }),
      });
      this.logger.info(this.metricsServer.logMessage);
    }
    return this.supervisor.start(
      s.signal === undefined ? this.startAbort.signal : AbortSignal.any([s.signal, this.startAbort.signal]),
    );
  }

  private edgePool(): Promise<EdgeAddressPool> {
    const d = this.settings.discovery;
    const log = this.logger;
    if (d.edge !== undefined) return staticEdgePool(d.edge, { resolver: d.resolver, log });
    // §2.4: a bind address forces the edge IP version to its own family.
    const { ipVersion, warning } = ipVersionForBindAddress(d.edgeIpVersion, this.settings.supervisor.dial.bindAddress);
    if (warning !== undefined) log.warn(warning);
    return discoverEdge({ region: d.region, resolver: d.resolver, dnsOverTls: d.dnsOverTls, ipVersion, log });
  }

  private requestObserver() {
    return createRequestObserver(
      this.credentials.tunnelId,
      () => this.listenerCount('request') > 0 || this.listenerCount('error') > 0,
      (summary) => {
        this.emit('request', summary);
        if (summary.error !== undefined && this.listenerCount('error') > 0) this.emit('error', summary.error, summary);
      },
      this.metrics,
    );
  }

  /** Resolves with connection 0's details once it registered; rejects when startup failed for good. */
  ready(): Promise<ConnectionDetails> {
    return this.readyPromise;
  }

  /**
   * Resolves with the first configuration requests are routed by: for a remotely managed tunnel (every token
   * tunnel made in the dashboard) the first configuration the edge pushes after registration — `ready()` resolves
   * before it arrives; for a locally managed tunnel its own rules, once connection 0 registered. Rejects like
   * `ready()` when startup fails, and with `CFT_ERR_ABORTED` when the tunnel is closed first.
   */
  configured(): Promise<ConfigurationEvent> {
    return this.firstConfiguration.promise;
  }

  /** Registered connections. */
  get connections(): ReadonlyArray<{ connIndex: number; protocol: TunnelProtocol; details: ConnectionDetails }> {
    return (this.supervisor?.connections ?? []).map((c) => ({
      connIndex: c.connIndex,
      protocol: c.protocol,
      details: c.details,
    }));
  }

  /** The configuration requests are routed with. */
  get config(): TunnelConfig {
    return this.orchestrator.config;
  }

  /** Address of the metrics server, when one was started. */
  get metricsAddress(): string | undefined {
    return this.metricsServer?.hostPort;
  }

  /** What `console.log(tunnel)` shows: identifiers and state, never the options (they held the token). */
  [inspect.custom](_depth: number, opts: object, show: typeof inspect): string {
    return `Tunnel ${show(
      {
        tunnelId: this.credentials.tunnelId,
        connectorId: this.identity.connectorId,
        connections: this.connections.map((c) => ({
          connIndex: c.connIndex,
          protocol: c.protocol,
          location: c.details.locationName,
        })),
        configVersion: this.orchestrator.currentVersion,
        closing: this.closing !== undefined,
      },
      opts,
    )}`;
  }

  /** Graceful close: unregister, drain in-flight requests up to `graceMs`, close connections and origin pools. */
  close(options: { graceMs?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      // Before the first registration there is nothing to drain: abort startup (ready() rejects with CFT_ERR_ABORTED).
      this.startAbort.abort();
      this.firstConfiguration.fail(closedBeforeConfigured());
      await this.readyPromise.catch(() => undefined);
      await this.supervisor?.shutdown(options.graceMs ?? this.settings.gracePeriodMs);
      await this.metricsServer?.close();
      await this.origins.close();
    })();
    return this.closing;
  }
}

/** Starts a tunnel and waits until its first connection is registered. */
export async function startTunnel(options: TunnelOptions): Promise<Tunnel> {
  const tunnel = new Tunnel(options);
  try {
    await tunnel.ready();
  } catch (err) {
    await tunnel.close({ graceMs: 0 });
    throw err;
  }
  return tunnel;
}
