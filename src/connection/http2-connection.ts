/**
 * A tunnel connection over HTTP/2 (docs/protocol.md §8): the connector dials TLS and runs an HTTP/2 *server* on that
 * socket; the edge, as HTTP/2 client, opens the control stream and one stream per request.
 */
import http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { CONNECT_MAX_METADATA_ENTRIES } from '../capnp/connect-codec.js';
import { MAX_CAPNP_MESSAGE_BYTES } from '../capnp/framing.js';
import { CftunnelError } from '../errors.js';
import { OriginError, type OriginRequest, type OriginResponse } from '../proxy/index.js';
import { requestBodyView } from './edge-request.js';
import { nodeHttp2SendsStatus, respondWithAnyStatus, type AnyStatusOptions } from './http2-any-status.js';
import { pipeBody } from './pipe-body.js';
import type { WebSocketRelays } from './websocket-relay.js';
import { ipTo16Bytes } from './net-ip.js';
import {
  PROXY_CONNECTION_UPGRADE_HEADER as HEADER_CONNECTION_UPGRADE,
  PROXY_SRC_HEADER as HEADER_PROXY_SRC,
  RESPONSE_HEADERS_HEADER as HEADER_RESPONSE_HEADERS,
  RESPONSE_META_CLOUDFLARED,
  RESPONSE_META_HEADER as HEADER_RESPONSE_META,
  RESPONSE_META_ORIGIN,
  TRACING_RESPONSE_HEADER,
  serializeResponseHeaders,
} from '../wire/serialized-headers.js';
import type { ConnectionContext, TunnelProtocol } from './types.js';
import { registerOrClose, TunnelConnectionCore, type ControlStream, type ResponseWriter } from './connection-core.js';

/** Values of the upgrade header (§8.2). */
export const UPGRADE_CONFIGURATION = 'update-configuration';
export const UPGRADE_WEBSOCKET = 'websocket';
export const UPGRADE_CONTROL_STREAM = 'control-stream';

/** HTTP/2 server settings of cloudflared (§8.1; values also seen in the vectors' SETTINGS frame). */
export const HTTP2_SERVER_SETTINGS: http2.Settings = {
  maxConcurrentStreams: 4294967295,
  initialWindowSize: 1 << 20,
  maxFrameSize: 1 << 20,
  maxHeaderListSize: 1048896,
  headerTableSize: 4096,
};
/**
 * Liveness probe interval. cloudflared sends no PINGs and relies on TCP keep-alive (§8.1), which does not notice a
 * path that goes silent while the local kernel keeps acknowledging; a PING unanswered within the same interval ends
 * the connection so the supervisor reconnects. (Edges answer PINGs; this adds ~40 bytes per interval.)
 */
export const HTTP2_PING_INTERVAL_MS = 10_000;

/**
 * Most header fields (pseudo-headers included) one edge request may carry. node:http2 resets a request with more than
 * its default of 128 (RST_STREAM ENHANCE_YOUR_CALM) where cloudflared's Go server counts none and only bounds the
 * header list size (§8.1); the QUIC path's ConnectRequest metadata limit applies instead, so both transports take the
 * same requests.
 */
export const HTTP2_MAX_HEADER_LIST_PAIRS = CONNECT_MAX_METADATA_ENTRIES;

/** Connection-level receive window cloudflared raises to (§8.1). */
export const HTTP2_CONNECTION_WINDOW = 1 << 20;

/** Kinds of edge request (§8.2). */
export type Http2RequestKind = 'configuration' | 'websocket' | 'tcp' | 'control' | 'http';

/** Classifies an edge request by its headers, in cloudflared's order (§8.2). */
export function classifyHttp2Request(headers: http2.IncomingHttpHeaders): Http2RequestKind {
  const upgrade = headers[HEADER_CONNECTION_UPGRADE];
  if (upgrade === UPGRADE_CONFIGURATION) return 'configuration';
  if (upgrade === UPGRADE_WEBSOCKET) return 'websocket';
  const src = headers[HEADER_PROXY_SRC];
  if (typeof src === 'string' && src !== '') return 'tcp';
  if (upgrade === UPGRADE_CONTROL_STREAM) return 'control';
  return 'http';
}

/** The edge did not open the control stream in time. */
export class ControlStreamTimeoutError extends CftunnelError {
  constructor() {
    super('CFT_ERR_CONTROL_STREAM_TIMEOUT', 'the edge did not open the control stream', { retryable: true });
  }
}

/** Request headers forwarded to the origin: pseudo-headers and cloudflared's own headers removed (§8.2, §10.6). */
function originHeaders(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58 /* ':' */ || name === HEADER_CONNECTION_UPGRADE) continue;
    out.push([name, raw[i + 1]!]);
  }
  return out;
}

const RESPOND_END: AnyStatusOptions = { endStream: true, waitForTrailers: false };
const RESPOND_WITH_TRAILERS: AnyStatusOptions = { endStream: false, waitForTrailers: true };
const RESPOND_OPEN: AnyStatusOptions = { endStream: false, waitForTrailers: false };

/** Answers one edge request with serialized response headers, then the body (§8.5, §8.7). */
class Http2ResponseWriter implements ResponseWriter {
  readonly failureMessage = 'failed to serve incoming request';

  constructor(readonly stream: http2.ServerHttp2Stream) {}

  writeHead(res: OriginResponse): void {
    const stream = this.stream;
    const headers = responseHeaders(res);
    if (res.socket === undefined && res.body === null) {
      // Like Go's server for a handler that wrote nothing (vectors http2/status-418): length 0, END_STREAM on HEADERS.
      headers['content-length'] ??= 0;
      this.respond(res, headers, RESPOND_END);
    } else if (res.trailers !== undefined && res.socket === undefined) {
      // §8.5: trailers are supported on HTTP/2 (gRPC): send them once the body is done.
      const trailers = res.trailers;
      this.respond(res, headers, RESPOND_WITH_TRAILERS);
      stream.once('wantTrailers', () => {
        void trailers.then((pairs) => {
          if (stream.destroyed) return;
          const block: http2.OutgoingHttpHeaders = {};
          for (const [name, value] of pairs) {
            const lower = name.toLowerCase();
            const prev = block[lower];
            block[lower] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
          }
          stream.sendTrailers(block);
        });
      });
    } else {
      this.respond(res, headers, RESPOND_OPEN);
    }
  }

  /**
   * Sends the response HEADERS. node:http2's `respond()` refuses a final status outside 200-599 that cloudflared's
   * Go server writes (§8.5): a 1xx goes out as Go sends it (interim, then 200); 600-999 through
   * {@link respondWithAnyStatus}, and where that cannot work on this Node the origin response is released and the
   * request fails as an origin error (502, §8.7).
   */
  private respond(res: OriginResponse, headers: http2.OutgoingHttpHeaders, options: AnyStatusOptions): void {
    const status = headers[':status'] as number;
    if (nodeHttp2SendsStatus(status)) return this.stream.respond(headers, options);
    if (status < 200) {
      // §8.5: Go's server writes a 1xx (101 is already 200) as an interim HEADERS carrying the headers but the
      // length, and the response then completes as a 200.
      const interim: http2.OutgoingHttpHeaders = { ...headers };
      delete interim['content-length'];
      this.stream.additionalHeaders(interim);
      headers[':status'] = 200;
      return this.stream.respond(headers, options);
    }
    // A stream already gone fails as respond() fails for any status (ERR_HTTP2_INVALID_STREAM).
    if (this.stream.destroyed || this.stream.closed) return this.stream.respond(headers, options);
    if (respondWithAnyStatus(this.stream, headers, options)) return;
    res.body?.destroy();
    res.socket?.destroy();
    throw new OriginError(
      `origin status ${status} cannot be sent over HTTP/2: node:http2 only carries 200-599 (the QUIC transport relays it)`,
    );
  }

  async writeBody(res: OriginResponse, webSockets: WebSocketRelays): Promise<void> {
    const stream = this.stream;
    if (res.socket !== undefined) {
      await webSockets.relay(stream, res.socket);
      // Like Go's HTTP/2 server when a handler returns with the request body still open: END_STREAM, then
      // RST_STREAM(NO_ERROR), so the edge tears the WebSocket down too (vectors http2/control show the same).
      if (!stream.destroyed && !stream.readableEnded) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    } else if (res.body !== null) {
      await pipeBody(res.body, stream);
    }
  }

  fail(): void {
    respondError(this.stream);
  }

  /** §8.7: after the status was written the stream is reset. */
  reset(): void {
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }
}

/** Serves one registered HTTP/2 connection. Create with {@link startHttp2TunnelConnection}. */
export class Http2TunnelConnection extends TunnelConnectionCore {
  readonly protocol: TunnelProtocol = 'http2';
  /** §12.5: new streams are refused from the start of a graceful shutdown. */
  protected readonly refusesDuringDrain = true;
  private readonly session: http2.ServerHttp2Session;
  private controlStream: http2.ServerHttp2Stream | undefined;
  private controlWaiter: ((s: http2.ServerHttp2Stream) => void) | undefined;
  private readonly pingTimer: NodeJS.Timeout;
  private pingOutstanding = false;

  constructor(
    private readonly socket: TLSSocket,
    ctx: ConnectionContext,
  ) {
    super(ctx);
    // The edge negotiates no ALPN (§4.1), and Http2Server refuses such sockets as "unknown protocol"; build the
    // server session on the already-connected TLS socket directly instead: the edge is the HTTP/2 client (§8.1).
    const session = http2.performServerHandshake(socket, {
      settings: HTTP2_SERVER_SETTINGS,
      maxSessionMemory: 64,
      maxHeaderListPairs: HTTP2_MAX_HEADER_LIST_PAIRS,
    });
    this.session = session;
    session.on('error', () => undefined);
    session.once('connect', () => session.setLocalWindowSize(HTTP2_CONNECTION_WINDOW));
    session.once('close', () => this.markClosed());
    this.pingTimer = setInterval(() => this.probe(), ctx.tunnel.settings.http2PingIntervalMs);
    this.pingTimer.unref();
    // The edge going away (GOAWAY) or its socket closing ends this connection even when nghttp2 has not noticed.
    // A socket whose peer vanished may never report 'close' to the session (seen with an edge that dropped a
    // connection holding unread bytes), so the connection counts as ended as soon as either says so.
    session.once('goaway', () => {
      if (!this.shuttingDown) void this.closeSession().then(() => this.markClosed());
    });
    socket.once('close', () => {
      if (!session.destroyed) session.destroy();
      this.markClosed();
    });
    session.on(
      'stream',
      (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]) =>
        this.onStream(stream, headers, rawHeaders),
    );
    socket.on('error', () => undefined);
  }

  /** Sends a PING; when the previous one is still unanswered, the edge is gone: end the connection. */
  private probe(): void {
    if (this.session.destroyed || this.session.closed) return;
    if (this.pingOutstanding) {
      this.ctx.tunnel.logger.warn(
        { connIndex: this.connIndex },
        'edge did not answer an HTTP/2 PING; closing the connection',
      );
      this.session.destroy();
      this.socket.destroy();
      this.markClosed();
      return;
    }
    this.pingOutstanding = true;
    this.session.ping((err) => {
      if (!err) this.pingOutstanding = false;
    });
  }

  protected override markClosed(cause?: Error): void {
    clearInterval(this.pingTimer);
    super.markClosed(cause);
  }

  /** Waits for the edge's control stream (§8.3), bounded by the RPC timeout. */
  protected async openControlStream(): Promise<ControlStream> {
    const stream = await new Promise<http2.ServerHttp2Stream>((resolve, reject) => {
      if (this.controlStream !== undefined) return resolve(this.controlStream);
      const timer = setTimeout(() => reject(new ControlStreamTimeoutError()), this.ctx.tunnel.settings.rpcTimeoutMs);
      timer.unref();
      this.controlWaiter = (s) => {
        clearTimeout(timer);
        resolve(s);
      };
      void this.closed.then((err) => {
        clearTimeout(timer);
        reject(err ?? new ControlStreamTimeoutError());
      });
    });
    // §6.6: on HTTP/2, originLocalIp is the local address of the TCP socket.
    return { stream, originLocalIp: ipTo16Bytes(this.socket.localAddress ?? '0.0.0.0') };
  }

  protected get transportClosed(): boolean {
    return this.session.closed || this.session.destroyed;
  }

  protected linger(): Promise<void> {
    return Promise.resolve();
  }

  /** Ends the control stream, then GOAWAY and close. */
  protected closeTransport(): Promise<void> {
    this.controlStream?.end();
    return this.closeSession();
  }

  /** GOAWAY and close; a session stuck on a stalled peer is destroyed after 1 s. */
  private closeSession(): Promise<void> {
    const session = this.session;
    if (session.closed || session.destroyed) {
      this.socket.destroy();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      session.close(() => resolve());
      const timer = setTimeout(() => {
        session.destroy();
        this.socket.destroy();
        resolve();
      }, 1000);
      timer.unref();
    });
  }

  protected destroyTransport(): void {
    this.session.destroy();
    this.socket.destroy();
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[]): void {
    stream.on('error', () => undefined);
    const kind = classifyHttp2Request(headers);
    if (kind === 'control') {
      // §8.3: the implicit 200 with the first bytes; cloudflared's shows application/octet-stream.
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
      this.controlStream = stream;
      this.controlWaiter?.(stream);
      return;
    }
    if (!this.acceptingRequests) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    this.inFlight.run(() => this.serveEdgeRequest(kind, stream, headers, rawHeaders));
  }

  private async serveEdgeRequest(
    kind: Http2RequestKind,
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    rawHeaders: string[],
  ): Promise<void> {
    if (kind === 'configuration') return this.serveConfiguration(stream);
    if (kind === 'tcp') return this.refuseWarpFlow(new Http2ResponseWriter(stream));
    const authority = String(headers[':authority'] ?? headers.host ?? 'localhost:8080');
    const scheme = String(headers[':scheme'] ?? 'http');
    const path = String(headers[':path'] ?? '/');
    const isWebsocket = kind === 'websocket';
    const req: OriginRequest = {
      method: String(headers[':method'] ?? 'GET'),
      url: `${scheme}://${authority}${path}`,
      host: authority,
      headers: originHeaders(rawHeaders),
      // A WebSocket's stream is read by the relay alone (§8.5): a body view nobody reads would pause it for good once
      // the view's buffer filled.
      body: stream.endAfterHeaders || isWebsocket ? null : requestBodyView(stream),
      isWebsocket,
      connectorId: this.ctx.tunnel.identity.connectorId,
    };
    await this.serveRequest(req, new Http2ResponseWriter(stream));
  }

  /** §8.4: `{"version":N,"config":{…}}` in, `{"lastAppliedVersion":N,"err":…}` out. */
  private async serveConfiguration(stream: http2.ServerHttp2Stream): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > MAX_CONFIGURATION_BYTES) return respondError(stream);
      chunks.push(chunk as Buffer);
    }
    let version: number;
    let config: string;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { version?: unknown; config?: unknown };
      if (typeof body.version !== 'number' || !Number.isInteger(body.version))
        throw new Error('version is not an integer');
      version = body.version;
      config = JSON.stringify(body.config ?? null);
    } catch (err) {
      this.ctx.tunnel.logger.error({ err, connIndex: this.connIndex }, 'failed to parse configuration update');
      return respondError(stream);
    }
    const result = await this.ctx.tunnel.orchestrator.updateConfiguration(version, config);
    this.emit('config', version, result.err);
    // The Go error value serialises without its text (§8.4, vectors http2/config-invalid): `{}`.
    const payload = `{"lastAppliedVersion":${result.latestAppliedVersion},"err":${result.err === null ? 'null' : '{}'}}`;
    stream.respond({ ':status': 200, 'content-type': 'text/plain; charset=utf-8' });
    stream.end(payload);
  }
}

/** Largest configuration update body accepted: the capnp bound QUIC's RPC stream has, so both transports agree (§9.1). */
export const MAX_CONFIGURATION_BYTES = MAX_CAPNP_MESSAGE_BYTES;

/** Headers of a proxied response (§8.5): status (101 ⇒ 200), content-length, serialized origin headers, meta. */
function responseHeaders(res: OriginResponse): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {
    ':status': res.status === 101 ? 200 : res.status,
    [HEADER_RESPONSE_HEADERS]: serializeResponseHeaders(res.headers),
    [HEADER_RESPONSE_META]: RESPONSE_META_ORIGIN,
  };
  for (const [name, value] of res.headers) {
    const lower = name.toLowerCase();
    if (lower === 'content-length') out['content-length'] = value;
    else if (lower === TRACING_RESPONSE_HEADER) out[TRACING_RESPONSE_HEADER] = value;
  }
  return out;
}

/** §8.7: 502, `{"src":"cloudflared"}`, no body. */
function respondError(stream: http2.ServerHttp2Stream): void {
  if (stream.headersSent || stream.destroyed) {
    if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.respond(
    { ':status': 502, [HEADER_RESPONSE_META]: RESPONSE_META_CLOUDFLARED, 'content-length': 0 },
    { endStream: true },
  );
}

/**
 * Registers a tunnel connection on a verified TLS socket to the edge. On failure the socket is closed and the
 * registration error is thrown.
 */
export function startHttp2TunnelConnection(socket: TLSSocket, ctx: ConnectionContext): Promise<Http2TunnelConnection> {
  return registerOrClose(new Http2TunnelConnection(socket, ctx));
}
