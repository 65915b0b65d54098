/**
 * Metadata keys of a ConnectRequest and its ConnectResponse (docs/protocol.md §7.2): the connector reads the request's
 * method, host and headers from them and answers the status and response headers the same way. Shared by the
 * connector and the local edge, which speak the two ends of the same stream.
 */

/** Request method key. */
export const METADATA_HTTP_METHOD = 'HttpMethod';
/** Request host key. */
export const METADATA_HTTP_HOST = 'HttpHost';
/** Header key prefix: `HttpHeader:<name>` (§7.2). */
export const METADATA_HTTP_HEADER = 'HttpHeader';
/** Response status key. */
export const METADATA_HTTP_STATUS = 'HttpStatus';
