/**
 * cftunnel: a Cloudflare Tunnel connector for Node.js — `cloudflared tunnel run --token` as a library.
 *
 * Start with {@link startTunnel} (or `new Tunnel(options)` and `await tunnel.ready()`).
 */
export { Tunnel, startTunnel, TunnelOptionsError, POST_QUANTUM_FEATURE } from './tunnel.js';
export type { TunnelOptions, TunnelEvents } from './tunnel.js';
export type { Origin, FetchApp } from './proxy/in-process/origin.js';
export type { NodeRequestListener } from './proxy/in-process/node-origin.js';
export type { FetchHandler } from './proxy/in-process/fetch-origin.js';
export { CftunnelError, hasErrorCode } from './errors.js';
export type { CftunnelErrorOptions } from './errors.js';
export { parseToken, readTokenFile, TokenError, TokenFileError } from './token/index.js';
export type { TunnelCredentials } from './token/index.js';
export type { ConnectionDetails, TunnelProtocol, RequestInfo } from './connection/types.js';
export type { RequestSummary } from './observability/request-observer.js';
export { DIAGNOSTICS_CHANNELS } from './observability/diagnostics.js';
export { loadConfigFile, parseConfigFile, configFromUrl, ConfigFileError } from './orchestration/local-config.js';
export type { LocalConfigFile } from './orchestration/local-config.js';
export type { TunnelConfig } from './orchestration/remote-config.js';
export { InitialConnectionError, UnauthorizedTokenError } from './supervisor/supervisor.js';
export { RegistrationError } from './rpc/tunnel/registration-client.js';
export { EdgeTlsError, EdgeDialError } from './transport/errors.js';
export { TunnelMetrics } from './metrics/index.js';
