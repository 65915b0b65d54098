/**
 * The Prometheus metrics of one tunnel, with cloudflared's names, types and labels (docs/protocol.md §13.2) so existing
 * dashboards keep working. Each tunnel gets its own registry: a library may run several tunnels in one process.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, exponentialBuckets } from 'prom-client';

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

/** The metrics one tunnel updates, and the registry that exposes them. */
export class TunnelMetrics {
  /** The tunnel's own registry (never prom-client's global one). */
  readonly registry = new Registry();

  private readonly haConnections: Gauge;
  private readonly totalRequests: Counter;
  private readonly concurrentRequests: Gauge;
  private readonly responseByCode: Counter<'status_code'>;
  private readonly requestErrors: Counter;
  private readonly serverLocations: Gauge<'connection_id' | 'edge_location'>;
  private readonly currentLocation = new Map<string, string>();
  private readonly registerSuccess: Counter<'rpcName'>;
  private readonly registerFail: Counter<'error' | 'rpcName'>;
  private readonly localConfigPushes: Counter;
  private readonly localConfigPushErrors: Counter;
  private readonly configVersionGauge: Gauge;
  private readonly rpc: Record<
    'client' | 'server',
    {
      operations: Counter<'handler' | 'method'>;
      failures: Counter<'handler' | 'method'>;
      latency: Histogram<'handler' | 'method'>;
    }
  >;

  constructor(options: TunnelMetricsOptions = {}) {
    const registers = [this.registry];
    const gauge = <L extends string = never>(name: string, help: string, labelNames: L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers });
    const counter = <L extends string = never>(name: string, help: string, labelNames: L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers });
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
      latency: new Histogram<'handler' | 'method'>({
        name: `${NS}_rpc_${side}_latency_secs`,
        help: `Latency of rpc methods by handler ${verb}`,
        labelNames: ['handler', 'method'],
        buckets: RPC_LATENCY_BUCKETS,
        registers,
      }),
    });
    this.rpc = { client: rpcSide('client', 'requested'), server: rpcSide('server', 'served') };
    if (options.buildInfo) {
      // Not namespaced, like every Cloudflare service's build_info.
      const info = gauge('build_info', 'Build and version information', ['goversion', 'type', 'revision', 'version']);
      info.set(
        {
          goversion: `node${process.versions.node}`,
          type: options.buildInfo.type ?? '',
          revision: options.buildInfo.revision ?? '',
          version: options.buildInfo.version,
        },
        1,
      );
    }
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** A connection loop (one HA index) started serving; cloudflared counts loops, not registered connections. */
  haConnectionStarted(): void {
    this.haConnections.inc();
  }

  /** A connection loop ended. */
  haConnectionEnded(): void {
    this.haConnections.dec();
  }

  /** A proxied HTTP or WebSocket request arrived. */
  requestStarted(): void {
    this.totalRequests.inc();
    this.concurrentRequests.inc();
  }

  /** A request started with {@link requestStarted} is over, whatever the outcome. */
  requestFinished(): void {
    this.concurrentRequests.dec();
  }

  /** The origin answered with `status`. */
  originResponse(status: number): void {
    this.responseByCode.inc({ status_code: String(status) });
  }

  /** Proxying a request to the origin failed. */
  requestError(): void {
    this.requestErrors.inc();
  }

  /**
   * Connection `connIndex` registered at edge colo `location`: counts the success and moves the connection's
   * `server_locations` series (the previous location drops to 0, the new one goes to 1).
   */
  registered(connIndex: number, location: string): void {
    this.registerSuccess.inc({ rpcName: REGISTER_RPC_NAME });
    const connectionId = String(connIndex);
    const previous = this.currentLocation.get(connectionId);
    if (previous === location) return;
    if (previous !== undefined) this.serverLocations.dec({ connection_id: connectionId, edge_location: previous });
    this.serverLocations.inc({ connection_id: connectionId, edge_location: location });
    this.currentLocation.set(connectionId, location);
  }

  /** Registration was refused: `dup_edge_conn` for a duplicate connection, `server_error` otherwise. */
  registrationFailed(kind: RegistrationFailureKind): void {
    this.registerFail.inc({ error: kind, rpcName: REGISTER_RPC_NAME });
  }

  /** An `updateLocalConfiguration` push ended; like cloudflared, the push counter also counts failed pushes. */
  localConfigPushed(ok: boolean): void {
    if (!ok) this.localConfigPushErrors.inc();
    this.localConfigPushes.inc();
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

  /** The Prometheus text exposition of every metric. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  private async observeRpc<T>(
    side: 'client' | 'server',
    handler: RpcHandler,
    method: RpcMethod,
    call: () => Promise<T>,
  ): Promise<T> {
    const labels = { handler, method };
    const m = this.rpc[side];
    const end = m.latency.startTimer(labels);
    try {
      return await call();
    } catch (err) {
      m.failures.inc(labels);
      throw err;
    } finally {
      end();
      m.operations.inc(labels);
    }
  }
}
