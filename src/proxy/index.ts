/** Origin proxy: turns transport-neutral edge requests into requests to the configured origin (docs/protocol.md §10-§11). */
export type { OriginRequest, OriginResponse, OriginService, OriginServiceContext } from './types.js';
export { createOriginService } from './service.js';
export { generateHelloWorldCertificate } from './hello-world.js';
export { BastionDestinationError, bastionDestination } from './tcp-over-ws.js';
export { websocketAccept } from './websocket-server.js';
export { OriginError, OriginRequestCancelledError } from './errors.js';
export { requestHasBody } from './headers.js';
