/** Quick tunnels (docs/protocol.md §20): account-less tunnels from the quick-tunnel service. */
export { startQuickTunnel, quickTunnelOptions, QUICK_TUNNEL_HA_CONNECTIONS } from './start.js';
export type { QuickTunnel, QuickTunnelOptions } from './start.js';
export {
  requestQuickTunnel,
  parseQuickTunnelAnswer,
  DEFAULT_QUICK_SERVICE_URL,
  QUICK_SERVICE_TIMEOUT_MS,
} from './service-client.js';
export type { QuickTunnelGrant, RequestQuickTunnelOptions } from './service-client.js';
export {
  QuickTunnelUnreachableError,
  QuickTunnelRateLimitedError,
  QuickTunnelResponseError,
  QuickTunnelRefusedError,
} from './errors.js';
export type { QuickTunnelServiceMessage } from './errors.js';
