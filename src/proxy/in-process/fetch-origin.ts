/**
 * An origin that is a fetch-style handler `(Request) => Response` (Hono, itty-router, Remix-style), called in-process:
 * no port, bodies streamed both ways through web streams.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { OriginError } from '../errors.js';
import { buildOriginRequestHeaders } from '../headers.js';
import { canonicalHeaderKey } from '../../util/headers.js';
import type { OriginRequest, OriginResponse, OriginService } from '../types.js';

/** A fetch-style request handler. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Response headers fetch hides from Headers iteration but an HTTP response may repeat. */
function responseHeaderPairs(headers: Headers): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  headers.forEach((value, name) => {
    if (name === 'set-cookie') return;
    out.push([canonicalHeaderKey(name), value]);
  });
  for (const cookie of headers.getSetCookie()) out.push(['Set-Cookie', cookie]);
  return out;
}

/** Serves requests by calling a fetch handler. WebSocket upgrades are answered 501 (use a Node server for them). */
export class FetchOriginService implements OriginService {
  constructor(private readonly handler: FetchHandler) {}

  async roundTrip(req: OriginRequest, signal: AbortSignal): Promise<OriginResponse> {
    if (req.isWebsocket) return { status: 501, headers: [], body: null };
    const { host, headers } = buildOriginRequestHeaders({
      headers: req.headers,
      host: req.host,
      connectorId: req.connectorId,
      isWebsocket: false,
      hasBody: req.body !== null,
    });
    const url = new URL(req.url);
    const init: RequestInit & { duplex?: 'half' } = {
      method: req.method,
      // A fetch handler reads the Host header like any server would (adapters such as @hono/node-server set it).
      headers: new Headers([['host', host], ...headers]),
      signal,
    };
    if (req.body !== null && req.method !== 'GET' && req.method !== 'HEAD') {
      init.body = Readable.toWeb(req.body) as unknown as ReadableStream;
      init.duplex = 'half';
    }
    let response: Response;
    try {
      response = await this.handler(new Request(`http://${host}${url.pathname}${url.search}`, init));
    } catch (cause) {
      throw new OriginError(`in-process handler failed: ${(cause as Error).message}`, cause);
    }
    return {
      status: response.status,
      headers: responseHeaderPairs(response.headers),
      body: response.body === null ? null : Readable.fromWeb(response.body as unknown as WebReadableStream),
    };
  }

  async close(): Promise<void> {}
}
