/** Quick tunnels (docs/protocol.md §20): account-less tunnels from the quick-tunnel service. */
export { startQuickTunnel, quickTunnelOptions, QUICK_TUNNEL_HA_CONNECTIONS } from './start.js';
export type { QuickTunnel, QuickTunnelOptions } from './start.js';
export { requestQuickTunnel, DEFAULT_QUICK_SERVICE_URL } from './service-client.js';
export type { QuickTunnelGrant } from './service-client.js';
export {
  QuickTunnelUnreachableError,
  QuickTunnelRateLimitedError,
  QuickTunnelResponseError,
  QuickTunnelRefusedError,
} from './errors.js';
export type { QuickTunnelServiceMessage } from './errors.js';
