/**
 * cftunnel: a Cloudflare Tunnel connector for Node.js — `cloudflared tunnel run --token` as a library.
 *
 * Start with {@link startTunnel} (or `new Tunnel(options)` and `await tunnel.ready()`), or publish a local origin or
 * in-process app on an account-less URL with `startQuickTunnel({ origin })`.
 */
export { Tunnel, startTunnel, TunnelOptionsError, POST_QUANTUM_FEATURE } from './tunnel.js';
export type { TunnelOptions, TunnelEvents, IngressRuleOptions } from './tunnel.js';
export type { OriginRequestOptions, AccessOptions, IpRuleOptions } from './ingress/origin-request-options.js';
export type { TunnelLogger, LogMethod } from './util/logger.js';
export type { ConfigurationEvent } from './orchestration/configured.js';
export type { Origin, FetchApp } from './proxy/in-process/origin.js';
export type { NodeRequestListener } from './proxy/in-process/node-origin.js';
export type { FetchHandler } from './proxy/in-process/fetch-origin.js';
export { CftunnelError, hasErrorCode, errorText } from './errors.js';
export type { CftunnelErrorOptions } from './errors.js';
export { parseToken, readTokenFile, TokenError, TokenFileError } from './token/index.js';
export type { TunnelCredentials } from './token/index.js';
export type { ConnectionDetails } from './rpc/tunnel/connection-details.js';
export type { TunnelProtocol } from './transport/protocol.js';
export { DEFAULT_CLIENT_VERSION, DEFAULT_FEATURES } from './connection/identity.js';
export type { QuicFlowControl } from './transport/quic/index.js';
export type { RequestInfo } from './proxy/types.js';
export type { RequestSummary } from './observability/request-observer.js';
export { DIAGNOSTICS_CHANNELS } from './observability/diagnostics.js';
export { loadConfigFile, parseConfigFile, configFromUrl, ConfigFileError } from './orchestration/local-config.js';
export type { LocalConfigFile } from './orchestration/local-config.js';
export type { TunnelConfig } from './orchestration/remote-config.js';
export { InitialConnectionError, UnauthorizedTokenError } from './supervisor/supervisor.js';
export { RegistrationError } from './rpc/tunnel/registration-error.js';
export { EdgeTlsError, EdgeDialError } from './transport/errors.js';
export { TunnelMetrics } from './metrics/index.js';
export { startQuickTunnel, requestQuickTunnel, DEFAULT_QUICK_SERVICE_URL } from './quick-tunnel/index.js';
export {
  QuickTunnelUnreachableError,
  QuickTunnelRateLimitedError,
  QuickTunnelResponseError,
  QuickTunnelRefusedError,
} from './quick-tunnel/index.js';
export type {
  QuickTunnel,
  QuickTunnelOptions,
  QuickTunnelGrant,
  QuickTunnelServiceMessage,
} from './quick-tunnel/index.js';
