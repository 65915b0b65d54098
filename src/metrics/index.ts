/** Metrics registry and metrics/readiness HTTP server (docs/protocol.md §13). */
export { TunnelMetrics } from './tunnel-metrics.js';
export { startMetricsServer } from './server.js';
export type { MetricsServer, MetricsServerOptions } from './server.js';
export { DEFAULT_METRICS_ADDRESS } from './listen.js';
export { MetricsAddressError, MetricsListenError } from './errors.js';
