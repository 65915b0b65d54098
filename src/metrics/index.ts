/** Metrics registry and metrics/readiness HTTP server (docs/protocol.md §13). */
export { TunnelMetrics } from './tunnel-metrics.js';
export type {
  BuildInfo,
  TunnelMetricsOptions,
  RegistrationFailureKind,
  RpcHandler,
  RpcMethod,
} from './tunnel-metrics.js';
export { startMetricsServer, METRICS_SERVER_TIMEOUT_MS } from './server.js';
export type { MetricsServer, MetricsServerOptions } from './server.js';
export { DEFAULT_METRICS_ADDRESS, KNOWN_METRICS_PORTS } from './listen.js';
export { MetricsAddressError, MetricsListenError } from './errors.js';
