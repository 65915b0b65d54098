/**
 * The Prometheus metrics of one tunnel, with cloudflared's names, types and labels (docs/protocol.md §13.2) so existing
 * dashboards keep working. Each tunnel has its own metrics: a library may run several tunnels in one process. They are
 * plain numbers ({@link PlainSeriesMetric}); prom-client is loaded only for a caller that asks for {@link
 * TunnelMetrics.registry} or for process metrics — an idle connector does not pay its ~12 MB of resident memory.
 */
import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';
import {
  PROMETHEUS_CONTENT_TYPE,
  PlainHistogram,
  PlainSeriesMetric,
  exponentialBuckets,
  formatExposition,
  type PlainMetric,
} from './plain-metrics.js';

/** Values of the `build_info` gauge (§13.2). */
export interface BuildInfo {
  /** `version` label: the cftunnel version. */
  version: string;
  /** `type` label: build type; cloudflared leaves it empty for release builds. Default `""`. */
  type?: string;
  /** `revision` label: cloudflared puts its build time here. Default `""`. */
  revision?: string;
}

/** Options of {@link TunnelMetrics}. */
export interface TunnelMetricsOptions {
  /** Registers `build_info` when given. */
  buildInfo?: BuildInfo;
  /**
   * Also register prom-client's process and Node.js runtime metrics (`process_*`, `nodejs_*`), the counterpart of the
   * Go collectors cloudflared exposes. Default false: they keep an event-loop monitor running per registry.
   */
  processMetrics?: boolean;
}

/** `error` label of `cloudflared_tunnel_tunnel_register_fail` (`connection/control.go`). */
export type RegistrationFailureKind = 'dup_edge_conn' | 'server_error';

/** `handler` label of the RPC metrics (§13.2). */
export type RpcHandler = 'registration' | 'session' | 'config' | 'cloudflared';
/** `method` label of the RPC metrics (§13.2). */
export type RpcMethod =
  | 'register_connection'
  | 'unregister_connection'
  | 'update_local_configuration'
  | 'register_udp_session'
  | 'unregister_udp_session'
  | 'update_configuration';

/** cloudflared's metric namespace (§13.2). */
const NS = 'cloudflared';
/** `rpcName` label value cloudflared uses for registration outcomes (`connection/control.go`). */
const REGISTER_RPC_NAME = 'registerConnection';
/** RPC latency buckets in seconds: 50 ms growing ×3 over 5 buckets (`tunnelrpc/metrics/metrics.go`). */
const RPC_LATENCY_BUCKETS = exponentialBuckets(0.05, 3, 5);

type RpcLabels = 'handler' | 'method';

/** prom-client, loaded on first use (it is CommonJS, so `require` keeps {@link TunnelMetrics.registry} synchronous). */
function promClient(): typeof import('prom-client') {
  return createRequire(import.meta.url)('prom-client') as typeof import('prom-client');
}

/** The metrics one tunnel updates, and their exposition. */
export class TunnelMetrics {
  /** Content type of {@link exposition} (Prometheus text format 0.0.4). */
  readonly contentType = PROMETHEUS_CONTENT_TYPE;

  private readonly haConnections: PlainSeriesMetric;
  private readonly totalRequests: PlainSeriesMetric;
  private readonly concurrentRequests: PlainSeriesMetric;
  private readonly responseByCode: PlainSeriesMetric<'status_code'>;
  private readonly requestErrors: PlainSeriesMetric;
  private readonly serverLocations: PlainSeriesMetric<'connection_id' | 'edge_location'>;
  private readonly currentLocation = new Map<string, string>();
  private readonly registerSuccess: PlainSeriesMetric<'rpcName'>;
  private readonly registerFail: PlainSeriesMetric<'error' | 'rpcName'>;
  private readonly localConfigPushes: PlainSeriesMetric;
  private readonly localConfigPushErrors: PlainSeriesMetric;
  private readonly configVersionGauge: PlainSeriesMetric;
  private readonly rpc: Record<
    'client' | 'server',
    {
      operations: PlainSeriesMetric<RpcLabels>;
      failures: PlainSeriesMetric<RpcLabels>;
      latency: PlainHistogram<RpcLabels>;
    }
  >;
  /** Every metric, in exposition order. */
  private readonly all: PlainMetric[] = [];
  /** The prom-client registry, once someone asked for it. */
  private promRegistry: Registry | undefined;

  constructor(options: TunnelMetricsOptions = {}) {
    const add = <M extends PlainMetric>(metric: M): M => {
      this.all.push(metric);
      return metric;
    };
    const gauge = <L extends string = never>(name: string, help: string, labelNames: L[] = []) =>
      add(new PlainSeriesMetric<L>('gauge', name, help, labelNames));
    const counter = <L extends string = never>(name: string, help: string, labelNames: L[] = []) =>
      add(new PlainSeriesMetric<L>('counter', name, help, labelNames));
    this.haConnections = gauge(`${NS}_tunnel_ha_connections`, 'Number of active ha connections');
    this.totalRequests = counter(`${NS}_tunnel_total_requests`, 'Amount of requests proxied through all the tunnels');
    this.concurrentRequests = gauge(
      `${NS}_tunnel_concurrent_requests_per_tunnel`,
      'Concurrent requests proxied through each tunnel',
    );
    this.responseByCode = counter(`${NS}_tunnel_response_by_code`, 'Count of responses by HTTP status code', [
      'status_code',
    ]);
    this.requestErrors = counter(`${NS}_tunnel_request_errors`, 'Count of error proxying to origin');
    // cloudflared's cloudflared_tcp_{active,total}_sessions count private-network (WARP) TCP flows (`proxy/proxy.go`
    // ProxyTCP); cftunnel refuses every such flow, so it exposes neither.
    this.serverLocations = gauge(
      `${NS}_tunnel_server_locations`,
      'Where each tunnel is connected to. 1 means current location, 0 means previous locations.',
      ['connection_id', 'edge_location'],
    );
    this.registerSuccess = counter(`${NS}_tunnel_tunnel_register_success`, 'Count of successful tunnel registrations', [
      'rpcName',
    ]);
    this.registerFail = counter(`${NS}_tunnel_tunnel_register_fail`, 'Count of tunnel registration errors by type', [
      'error',
      'rpcName',
    ]);
    this.localConfigPushes = counter(
      `${NS}_config_local_config_pushes`,
      'Number of local configuration pushes to the edge',
    );
    this.localConfigPushErrors = counter(
      `${NS}_config_local_config_pushes_errors`,
      'Number of errors occurred during local configuration pushes',
    );
    this.configVersionGauge = gauge(`${NS}_orchestration_config_version`, 'Configuration Version');
    const rpcSide = (side: 'client' | 'server', verb: string) => ({
      operations: counter(`${NS}_rpc_${side}_operations`, `Number of rpc methods by handler ${verb}`, [
        'handler',
        'method',
      ]),
      failures: counter(`${NS}_rpc_${side}_failures`, `Number of rpc method failures by handler ${verb}`, [
        'handler',
        'method',
      ]),
      latency: add(
        new PlainHistogram<RpcLabels>(
          `${NS}_rpc_${side}_latency_secs`,
          `Latency of rpc methods by handler ${verb}`,
          ['handler', 'method'],
          RPC_LATENCY_BUCKETS,
        ),
      ),
    });
    this.rpc = { client: rpcSide('client', 'requested'), server: rpcSide('server', 'served') };
    if (options.buildInfo) {
      // Not namespaced, like every Cloudflare service's build_info.
      const info = gauge('build_info', 'Build and version information', ['goversion', 'type', 'revision', 'version']);
      info.addLabelled(
        {
          goversion: `node${process.versions.node}`,
          type: options.buildInfo.type ?? '',
          revision: options.buildInfo.revision ?? '',
          version: options.buildInfo.version,
        },
        1,
      );
    }
    if (options.processMetrics) promClient().collectDefaultMetrics({ register: this.registry });
  }

  /**
   * The tunnel's own prom-client registry (never prom-client's global one), holding every metric above; built (and
   * prom-client loaded) on first access. Metrics registered into it appear in {@link exposition} too.
   */
  get registry(): Registry {
    if (this.promRegistry === undefined) {
      const registry = new (promClient().Registry)();
      // The plain metrics return from get() what prom-client's own metric classes return, which is all a Registry
      // reads from a metric.
      for (const metric of this.all)
        registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
      this.promRegistry = registry;
    }
    return this.promRegistry;
  }

  /** A connection loop (one HA index) started serving; cloudflared counts loops, not registered connections. */
  haConnectionStarted(): void {
    this.haConnections.add(1);
  }

  /** A connection loop ended. */
  haConnectionEnded(): void {
    this.haConnections.add(-1);
  }

  /** A proxied HTTP or WebSocket request arrived. */
  requestStarted(): void {
    this.totalRequests.add(1);
    this.concurrentRequests.add(1);
  }

  /** A request started with {@link requestStarted} is over, whatever the outcome. */
  requestFinished(): void {
    this.concurrentRequests.add(-1);
  }

  /** The origin answered with `status`. */
  originResponse(status: number): void {
    this.responseByCode.addLabelled({ status_code: String(status) }, 1);
  }

  /** Proxying a request to the origin failed. */
  requestError(): void {
    this.requestErrors.add(1);
  }

  /**
   * Connection `connIndex` registered at edge colo `location`: counts the success and moves the connection's
   * `server_locations` series (the previous location drops to 0, the new one goes to 1).
   */
  registered(connIndex: number, location: string): void {
    this.registerSuccess.addLabelled({ rpcName: REGISTER_RPC_NAME }, 1);
    const connectionId = String(connIndex);
    const previous = this.currentLocation.get(connectionId);
    if (previous === location) return;
    if (previous !== undefined)
      this.serverLocations.addLabelled({ connection_id: connectionId, edge_location: previous }, -1);
    this.serverLocations.addLabelled({ connection_id: connectionId, edge_location: location }, 1);
    this.currentLocation.set(connectionId, location);
  }

  /** Registration was refused: `dup_edge_conn` for a duplicate connection, `server_error` otherwise. */
  registrationFailed(kind: RegistrationFailureKind): void {
    this.registerFail.addLabelled({ error: kind, rpcName: REGISTER_RPC_NAME }, 1);
  }

  /** An `updateLocalConfiguration` push ended; like cloudflared, the push counter also counts failed pushes. */
  localConfigPushed(ok: boolean): void {
    if (!ok) this.localConfigPushErrors.add(1);
    this.localConfigPushes.add(1);
  }

  /** The remote configuration `version` was applied. */
  configVersion(version: number): void {
    this.configVersionGauge.set(version);
  }

  /** Runs an RPC this side calls, counting it, its failure and its latency. */
  observeRpcClient<T>(handler: RpcHandler, method: RpcMethod, call: () => Promise<T>): Promise<T> {
    return this.observeRpc('client', handler, method, call);
  }

  /** Runs an RPC this side serves, counting it, its failure and its latency. */
  observeRpcServer<T>(handler: RpcHandler, method: RpcMethod, call: () => Promise<T>): Promise<T> {
    return this.observeRpc('server', handler, method, call);
  }

  /** The Prometheus text exposition of every metric (and of any metric added to {@link registry}). */
  exposition(): Promise<string> {
    return this.promRegistry === undefined ? Promise.resolve(formatExposition(this.all)) : this.promRegistry.metrics();
  }

  private async observeRpc<T>(
    side: 'client' | 'server',
    handler: RpcHandler,
    method: RpcMethod,
    call: () => Promise<T>,
  ): Promise<T> {
    const labels = { handler, method };
    const m = this.rpc[side];
    const start = process.hrtime.bigint();
    try {
      return await call();
    } catch (err) {
      m.failures.addLabelled(labels, 1);
      throw err;
    } finally {
      m.latency.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
      m.operations.addLabelled(labels, 1);
    }
  }
}
