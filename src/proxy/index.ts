/** Origin proxy: turns transport-neutral edge requests into requests to the configured origin (PROTOCOL.md §10-§11). */
export type { OriginRequest, OriginResponse, OriginService, OriginRequestOptions } from './types.js';
export { createOriginService } from './service.js';
export { HttpOriginService, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS, DEFAULT_TCP_KEEPALIVE_MS } from './http-origin.js';
export type { HttpOriginTarget } from './http-origin.js';
export { StatusOriginService } from './status-origin.js';
export {
  OriginError,
  OriginRequestCancelledError,
  InvalidOriginServiceError,
  ORIGIN_UNREACHABLE_PREFIX,
  REQUEST_ENDED_PREFIX,
} from './errors.js';
export { requestHasBody, canonicalHeaderKey, buildOriginRequestHeaders, WARP_TAG_PREFIX, WEBSOCKET_VERSION } from './headers.js';
export type { OriginHeaderInput, OriginHeaders } from './headers.js';
export { goErrorText } from './go-error-text.js';
export type { DialTarget } from './go-error-text.js';
