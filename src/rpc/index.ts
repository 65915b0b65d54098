/** Two-party Cap'n Proto RPC and the typed tunnel RPC clients/servers (docs/protocol.md §6, §7.5, §9). */
export { LocalCapability, type MethodRef, type ServerCallContext, type ServerMethod } from './capability.js';
export {
  DEFAULT_MAX_RPC_FRAME_BYTES,
  RemoteCapability,
  RpcConnection,
  type CallOptions,
  type CallResult,
  type RpcConnectionOptions,
} from './connection.js';
export * from './errors.js';
export { SHUTDOWN_ABORT_REASON } from './wire.js';
export * from './tunnel/codec.js';
export * from './tunnel/methods.js';
export { RegistrationClient, RegistrationError, DUPLICATE_CONNECTION_CAUSE } from './tunnel/registration-client.js';
export { serveRegistration, type RegistrationHandlers } from './tunnel/registration-server.js';
export { serveCloudflared, type CloudflaredHandlers } from './tunnel/cloudflared-server.js';
export { CloudflaredClient } from './tunnel/cloudflared-client.js';
export { BootstrapClient } from './tunnel/bootstrap-client.js';
