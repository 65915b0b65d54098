/**
 * Turning what the edge sent into a transport-neutral origin request, and an origin response into ConnectResponse
 * metadata (docs/protocol.md §7.2, §7.3, §8.2). Routing is the origin proxy's (`proxy/origin-proxy.ts`).
 */
import type { ConnectRequest, Metadata } from '../capnp/connect-codec.js';
import { CftunnelError } from '../errors.js';
import {
  METADATA_HTTP_HEADER,
  METADATA_HTTP_HOST,
  METADATA_HTTP_METHOD,
  METADATA_HTTP_STATUS,
} from '../wire/metadata.js';
import type { OriginRequest, OriginResponse } from '../proxy/index.js';
import { requestHasBody } from '../proxy/headers.js';
import { PassThrough, type Readable } from 'node:stream';

/**
 * Error text cloudflared returns for private-network (WARP) flows when warp routing is off (2023.7.3
 * `proxy/proxy.go` ProxyTCP). cftunnel never serves such flows (product decision), so it always answers this.
 */
export const WARP_ROUTING_DISABLED_MESSAGE =
  'cloudflared received a request from WARP client, but your configuration has disabled ingress from WARP clients. To enable this, set "warp-routing:\\n\\t enabled: true" in your config.yaml';

/**
 * Bytes Go's `url.Parse` refuses anywhere in a URL (ASCII controls and DEL: `net/url: invalid control character in
 * URL`), which fails cloudflared's request before it reaches the origin (2023.7.3 `connection/quic.go`
 * buildHTTPRequest → `http.NewRequestWithContext`).
 */
const URL_CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;

/** The edge sent a request cftunnel cannot turn into an origin request. */
export class EdgeRequestError extends CftunnelError {
  constructor(message: string) {
    super('CFT_ERR_EDGE_REQUEST', message, { retryable: false });
  }
}

/**
 * Builds an origin request from a QUIC ConnectRequest (§7.2). `body` is the rest of the stream; it is attached
 * only when the body rule says so (the caller then leaves the stream's read side unconsumed).
 */
export function originRequestFromConnect(req: ConnectRequest, body: Readable, connectorId: string): OriginRequest {
  // The WHATWG URL parser used further on silently drops CR, LF and TAB, so a destination carrying them would still
  // reach the origin, with a path the edge never sent: refuse it like Go does.
  if (URL_CONTROL_CHARACTER.test(req.dest)) {
    throw new EdgeRequestError(`parse ${JSON.stringify(req.dest)}: net/url: invalid control character in URL`);
  }
  let method = 'GET';
  let host = '';
  const headers: Array<[string, string]> = [];
  const metadata: readonly Metadata[] = req.metadata;
  for (let i = 0; i < metadata.length; i++) {
    const { key, val } = metadata[i]!;
    if (key === METADATA_HTTP_METHOD) method = val;
    else if (key === METADATA_HTTP_HOST) host = val;
    else if (key.includes(METADATA_HTTP_HEADER)) {
      const parts = key.split(':');
      if (parts.length !== 2) throw new EdgeRequestError(`header Key: ${key} malformed`);
      headers.push([parts[1]!, val]);
    }
  }
  const isWebsocket = req.type === 'websocket';
  if (host === '') {
    try {
      host = new URL(req.dest).host;
    } catch {
      throw new EdgeRequestError(`request destination ${JSON.stringify(req.dest)} is not a URL`);
    }
  }
  return {
    method,
    url: req.dest,
    host,
    headers,
    // A WebSocket's stream is read by the relay alone (§7.4): a body view nobody reads would pause it for good once
    // the view's buffer filled.
    body: !isWebsocket && requestHasBody(headers, false) ? requestBodyView(body) : null,
    isWebsocket,
    connectorId,
  };
}

/**
 * The request body as a separate Readable over the transport stream. Origin clients destroy a body stream once they
 * are done with it; handing them the transport stream itself would tear down the response direction too.
 */
export function requestBodyView(stream: Readable): Readable {
  const body = new PassThrough();
  stream.pipe(body);
  stream.once('error', (err) => body.destroy(err));
  // The origin client listens while it reads; a stream error after it is done (e.g. STOP_SENDING once the
  // response went out) must not become an uncaught exception.
  body.on('error', () => undefined);
  return body;
}

/** ConnectResponse metadata for an origin response: `HttpStatus` then one `HttpHeader:<Name>` per value (§7.3). */
export function responseMetadata(res: OriginResponse): Metadata[] {
  const out: Metadata[] = [{ key: METADATA_HTTP_STATUS, val: String(res.status) }];
  for (const [name, value] of res.headers) out.push({ key: `${METADATA_HTTP_HEADER}:${name}`, val: value });
  return out;
}
