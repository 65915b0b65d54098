/** Origin proxy: turns transport-neutral edge requests into requests to the configured origin (docs/protocol.md §10-§11). */
export type { OriginRequest, OriginResponse, OriginService, OriginServiceContext } from './types.js';
export { createOriginService } from './service.js';
export {
  HttpOriginService,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_TCP_KEEPALIVE_MS,
} from './http-origin.js';
export type { HttpOriginTarget, HttpOriginSettings } from './http-origin.js';
export { originDialOptions, GO_DEFAULT_TCP_KEEPALIVE_MS } from './dial-options.js';
export type { OriginDialOptions } from './dial-options.js';
export { IdleConnectionCap, idleConnectionCap, GO_DEFAULT_MAX_IDLE_CONNS_PER_HOST } from './idle-cap.js';
export { StatusOriginService } from './status-origin.js';
export {
  HelloWorldService,
  startHelloWorldServer,
  generateHelloWorldCertificate,
  HELLO_WORLD_HOST,
} from './hello-world.js';
export {
  TcpOverWebSocketService,
  BastionDestinationError,
  bastionDestination,
  JUMP_DESTINATION_HEADER,
} from './tcp-over-ws.js';
export type { TcpDestination } from './tcp-over-ws.js';
export {
  acceptWebSocket,
  websocketAccept,
  upgradeResponseHeaders,
  WEBSOCKET_GUID,
  WEBSOCKET_PING_PERIOD_MS,
} from './websocket-server.js';
export type { WebSocketSession } from './websocket-server.js';
export {
  AccessProtectedService,
  AccessTokenError,
  defaultAccessTeamUrl,
  ACCESS_JWT_HEADER,
  ACCESS_CERTS_PATH,
  ACCESS_FORBIDDEN_STATUS,
} from './access.js';
export { duplexPair } from './duplex-pair.js';
export {
  OriginError,
  OriginRequestCancelledError,
  InvalidOriginServiceError,
  ORIGIN_UNREACHABLE_PREFIX,
  REQUEST_ENDED_PREFIX,
} from './errors.js';
export {
  requestHasBody,
  buildOriginRequestHeaders,
  trailersFromUndici,
  WARP_TAG_PREFIX,
  WEBSOCKET_VERSION,
} from './headers.js';
export type { OriginHeaderInput, OriginHeaders } from './headers.js';
export { goErrorText } from './go-error-text.js';
export type { DialTarget } from './go-error-text.js';
