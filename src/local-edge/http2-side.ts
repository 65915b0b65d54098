/**
 * The local edge's HTTP/2 side (docs/protocol.md §8): on each TLS connection from a connector the edge is the HTTP/2
 * *client*; it opens the control stream, then one request per visitor request or configuration push.
 */
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import {
  PROXY_CONNECTION_UPGRADE_HEADER,
  PROXY_SRC_HEADER,
  RESPONSE_HEADERS_HEADER,
  RESPONSE_META_HEADER,
  decodeSerializedHeaders,
} from '../wire/serialized-headers.js';
import { serveRegistration } from '../rpc/tunnel/registration-server.js';
// The edge puts its own TLS name in `:authority` of its control and config requests (vectors http2/control).
import { HTTP2_EDGE_SERVER_NAME as EDGE_AUTHORITY } from '../transport/tls/edge-dial.js';
import { EdgeSideConnection } from './edge-connection.js';
import type { EdgeRouter } from './router.js';
import { registrationHandlers } from './registration.js';
import type { ConfigPushResult, TunnelRequest, TunnelResponse } from './types.js';

/** Connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'te',
]);

/** Takes over a TLS connection a connector dialled. */
export function acceptHttp2Connection(socket: TLSSocket, edge: EdgeRouter): void {
  new EdgeHttp2Connection(socket, edge);
}

class EdgeHttp2Connection extends EdgeSideConnection {
  private readonly session: http2.ClientHttp2Session;

  constructor(
    private readonly socket: TLSSocket,
    edge: EdgeRouter,
  ) {
    super('http2', `${socket.remoteAddress}:${socket.remotePort}`);
    edge.track(this);
    socket.on('error', () => undefined);
    // node:http2 ends the streams of a session whose socket closed (or that is destroyed without an error) as if
    // the connector had sent END_STREAM: a visitor would get a cut-off body as a complete response, and with a
    // Content-Length wait forever for the rest. Failing the session first makes every open stream error instead.
    // Prepended so it runs before node:http2's own 'close' handler, which ends the streams.
    socket.prependOnceListener('close', () => this.abort());
    this.session = http2.connect(`https://${EDGE_AUTHORITY}`, {
      createConnection: () => socket,
      settings: { initialWindowSize: 1 << 20, maxFrameSize: 1 << 20 },
    });
    this.session.on('error', () => undefined);
    this.session.once('close', () => this.markClosed());
    socket.once('close', () => this.markClosed());
    this.session.once('connect', () => this.session.setLocalWindowSize(1 << 20));
    const control = this.session.request(
      {
        ':method': 'GET',
        ':path': '/',
        ':scheme': 'https',
        ':authority': EDGE_AUTHORITY,
        [PROXY_CONNECTION_UPGRADE_HEADER]: 'control-stream',
      },
      { endStream: false },
    );
    control.on('error', () => undefined);
    const rpc = serveRegistration(control, registrationHandlers(edge, this));
    void rpc.closed.then(() => {
      if (!control.destroyed) control.end();
    });
    // cloudflared's HTTP/2 serve loop only returns (and retries a refused registration) once the edge closes the
    // connection; like the real edge, close it after the control stream of an unregistered connector ended.
    control.once('close', () => {
      if (this.info === undefined && !this.session.closed) {
        this.session.close();
        socket.end();
      }
    });
  }

  async send(req: TunnelRequest): Promise<TunnelResponse> {
    const headers: http2.OutgoingHttpHeaders = {
      // TCP flows are plain GETs marked by cf-cloudflared-proxy-src, like the reference edge (vectors http2/tcp):
      // node:http2 forbids :scheme/:path on CONNECT.
      ':method': req.type === 'tcp' ? 'GET' : req.method,
      ':scheme': 'https',
      ':authority': req.type === 'tcp' ? (req.dest ?? '') : req.host,
      ':path': req.type === 'tcp' ? '/' : req.path,
    };
    for (const [name, value] of req.headers) {
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower)) continue;
      const prev = headers[lower];
      headers[lower] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
    }
    if (req.type === 'websocket') headers[PROXY_CONNECTION_UPGRADE_HEADER] = 'websocket';
    if (req.type === 'tcp') headers[PROXY_SRC_HEADER] = req.visitorAddress;
    const stream = this.session.request(headers, { endStream: req.body === null });
    stream.on('error', () => undefined);
    if (req.body !== null) req.body.pipe(stream);
    // A visitor that leaves before the response cancels the stream (RST_STREAM CANCEL), as an edge does.
    const cancel = (): void => {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    req.signal?.addEventListener('abort', cancel, { once: true });
    if (req.signal?.aborted === true) cancel();
    const [resHeaders, rawHeaders] = (await new Promise((resolve, reject) => {
      stream.once('response', (h: http2.IncomingHttpHeaders, _flags: number, raw: string[]) => resolve([h, raw]));
      stream.once('error', reject);
      stream.once('close', () => reject(new Error(`stream closed before the response (code ${stream.rstCode})`)));
    }).finally(() => req.signal?.removeEventListener('abort', cancel))) as [http2.IncomingHttpHeaders, string[]];
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
    const wire = { protocol: 'http2' as const, headers: pairs };
    const meta = String(resHeaders[RESPONSE_META_HEADER] ?? '');
    if (meta.includes('"cloudflared"')) {
      stream.destroy();
      return { ok: false, error: `connector answered ${String(resHeaders[':status'])} ${meta}`, wire };
    }
    const serialized = resHeaders[RESPONSE_HEADERS_HEADER];
    // Header values as byte strings: bytes that are no UTF-8 reach the visitor unchanged (§8.5).
    const headersOut = typeof serialized === 'string' ? decodeSerializedHeaders(serialized, true) : [];
    let status = Number(resHeaders[':status']);
    // §8.5: the connector turns 101 into 200; the edge turns it back for the visitor.
    if (req.type === 'websocket' && status === 200) status = 101;
    return { ok: true, status, headers: headersOut, stream: stream as Duplex, wire };
  }

  async pushConfig(version: number, config: string): Promise<ConfigPushResult> {
    const stream = this.session.request(
      {
        ':method': 'PUT',
        ':path': '/config',
        ':scheme': 'https',
        ':authority': EDGE_AUTHORITY,
        [PROXY_CONNECTION_UPGRADE_HEADER]: 'update-configuration',
      },
      { endStream: false },
    );
    stream.end(`{"version":${version},"config":${config}}`);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { lastAppliedVersion: number; err: unknown };
    return {
      connectionId: this.info?.id ?? '',
      connIndex: this.info?.connIndex ?? -1,
      protocol: 'http2',
      latestAppliedVersion: answer.lastAppliedVersion,
      err: answer.err === null ? null : JSON.stringify(answer.err),
    };
  }

  drop(): void {
    // Socket first: a session destroyed with an error while its socket is open sends RST_STREAM and GOAWAY, and a
    // drop says no goodbye.
    this.socket.destroy();
    this.abort();
    this.markClosed();
  }

  /**
   * Destroys the session with an error, so that open streams fail rather than end (see the constructor). The error
   * only reaches the visitor as the text of a 502, like the local edge's other stream failures.
   */
  private abort(): void {
    if (!this.session.destroyed) this.session.destroy(new Error('the connection to the connector was lost'));
  }
}
