/**
 * A hostile edge for the malformed-peer tests (issue 9): the edge side of a tunnel connection, over real QUIC or
 * TLS + HTTP/2 on loopback, that registers the connector with the real `serveRegistration` and otherwise lets a test
 * send any bytes — raw RPC frames on the control stream, raw data and RPC streams, hostile HTTP/2 requests — and see
 * exactly what the connector answers. The connector side is the real `startQuicTunnelConnection` /
 * `startHttp2TunnelConnection`; nothing of it is replaced.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { Message } from 'capnp-es';
import * as rpc from 'capnp-es/capnp/rpc';
import {
  decodeConnectResponse,
  encodeConnectRequest,
  type ConnectRequest,
  type ConnectResponse,
} from '../../src/capnp/connect-codec.js';
import { FrameReader } from '../../src/capnp/framing.js';
import { startHttp2TunnelConnection, type Http2TunnelConnection } from '../../src/connection/http2-connection.js';
import { DATA_STREAM_SIGNATURE, DATA_STREAM_VERSION, PreambleParser } from '../../src/wire/preamble.js';
import { startQuicTunnelConnection, type QuicTunnelConnection } from '../../src/connection/quic-connection.js';
import type { TunnelConnection } from '../../src/connection/tunnel-connection.js';
import type { ConnectionContext, TunnelProtocol } from '../../src/connection/types.js';
import { generateEdgeCertificates, type EdgeCertificates } from '../../src/local-edge/certs.js';
import { Orchestrator } from '../../src/orchestration/orchestrator.js';
import { parseTunnelConfig } from '../../src/orchestration/remote-config.js';
import { duplexPair } from '../../src/proxy/duplex-pair.js';
import { serveRegistration } from '../../src/rpc/tunnel/registration-server.js';
import { dialEdgeTls } from '../../src/transport/tls/edge-dial.js';
import {
  QUIC_ALPN,
  QUIC_SERVER_NAME,
  QuicStreamResetError,
  QuicStreamStoppedError,
  connectQuic,
  listenQuic,
  type QuicConnection,
  type QuicServer,
  type QuicStream,
} from '../../src/transport/quic/index.js';
import { connectionContext, makeToken, type ContextOverrides } from './tunnel-env.js';

let certificates: Promise<EdgeCertificates> | undefined;

/** One CA + leaf per test process (generation is slow-ish). */
function edgeCertificates(): Promise<EdgeCertificates> {
  certificates ??= generateEdgeCertificates();
  return certificates;
}

/** Location the hostile edge reports for every registration. */
const HOSTILE_LOCATION = 'HOSTILE';

// ---------------------------------------------------------------------------------------------------------------
// Origin
// ---------------------------------------------------------------------------------------------------------------

/** A request the origin's `http.Server` parsed. */
export interface OriginRequestSeen {
  method: string;
  url: string;
  rawHeaders: string[];
}

/**
 * A real `http.Server` origin behind a loopback TCP front that records every byte the connector sends, so tests can
 * check what reached the origin on the wire (no client-side normalisation can hide an injected header) as well as
 * what the server parsed.
 */
export interface RecordingOrigin {
  /** URL the connector's ingress rule points at (the recording front). */
  readonly url: string;
  /** Requests the `http.Server` emitted, in order. */
  readonly requests: readonly OriginRequestSeen[];
  /** Requests the `http.Server` refused to parse (`clientError`). */
  readonly clientErrors: number;
  /** Every byte the connector sent to the origin, all connections, as latin1 text. */
  received(): string;
  close(): Promise<void>;
}

/** Body the origin answers to `GET <path>`: tests recognise which request a response belongs to. */
export function originBody(path: string): string {
  return `origin saw ${path}`;
}

/** Starts a {@link RecordingOrigin} on 127.0.0.1. */
export async function startRecordingOrigin(): Promise<RecordingOrigin> {
  const requests: OriginRequestSeen[] = [];
  let clientErrors = 0;
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders });
    req.resume();
    req.once('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(originBody(req.url ?? '')));
  });
  server.on('clientError', (_err, socket) => {
    clientErrors++;
    socket.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const serverPort = (server.address() as AddressInfo).port;

  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const front = net.createServer((client) => {
    const upstream = net.connect(serverPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.once('close', () => sockets.delete(s));
    }
    client.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  return {
    url: `http://127.0.0.1:${(front.address() as AddressInfo).port}`,
    requests,
    get clientErrors() {
      return clientErrors;
    },
    received: () => Buffer.concat(chunks).toString('latin1'),
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => front.close(() => resolve())),
        new Promise<void>((resolve) => server.close(() => resolve())),
      ]);
    },
  };
}

/** A connection context whose single ingress rule sends everything to `originUrl`. */
export function hostileContext(originUrl: string, overrides: ContextOverrides = {}): ConnectionContext {
  return connectionContext(makeToken().token, {
    orchestrator: new Orchestrator(parseTunnelConfig(JSON.stringify({ ingress: [{ service: originUrl }] }))),
    ...overrides,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Control stream
// ---------------------------------------------------------------------------------------------------------------

/** One RPC message the connector sent on the control stream. */
export interface RpcFrameSeen {
  /** `rpc.Message` union discriminant. */
  which: number;
  /** The decoded message (keeps its capnp Message alive). */
  message: rpc.Message;
}

/** Largest frame the tap accepts from the connector; the connector never sends more than a few KiB. */
const TAP_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * The edge's end of a control stream. Registration is answered by the real `serveRegistration`, which runs on one end
 * of an in-memory pair; the tap sits between it and the transport stream so a test can write raw bytes to the
 * connector ({@link inject}) and receive the connector's answers to them. Answers (Return, Unimplemented) are kept
 * away from the registration server, which never asks the connector anything and would take them for a protocol
 * error; everything else the connector sends is passed on.
 */
export class ControlTap {
  /** Number of `unregisterConnection` calls answered. */
  unregisterCalls = 0;
  /** Settles when the first `unregisterConnection` call has been answered. */
  readonly unregistered: Promise<void>;
  private resolveUnregistered!: () => void;
  private readonly replies: RpcFrameSeen[] = [];
  private readonly replyWaiters: Array<(f: RpcFrameSeen) => void> = [];

  constructor(private readonly stream: Duplex) {
    this.unregistered = new Promise((resolve) => (this.resolveUnregistered = resolve));
    const [edgeEnd, tapEnd] = duplexPair();
    serveRegistration(edgeEnd, {
      registerConnection: async () => ({
        uuid: randomBytes(16),
        locationName: HOSTILE_LOCATION,
        tunnelIsRemotelyManaged: true,
      }),
      unregisterConnection: async () => {
        this.unregisterCalls++;
        this.resolveUnregistered();
      },
      updateLocalConfiguration: async () => undefined,
    });
    const reader = new FrameReader(TAP_MAX_FRAME_BYTES);
    stream.on('error', () => undefined);
    tapEnd.on('error', () => undefined);
    stream.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) this.onFrame(frame, tapEnd);
    });
    tapEnd.on('data', (chunk: Buffer) => {
      if (!stream.destroyed && !stream.writableEnded) stream.write(chunk);
    });
    // The connector's side ending ends the registration server's session too.
    stream.once('end', () => tapEnd.end());
    stream.once('close', () => tapEnd.end());
  }

  private onFrame(frame: Buffer, tapEnd: Duplex): void {
    const message = new Message(frame, false).getRoot(rpc.Message);
    const which = message.which();
    if (which !== rpc.Message.RETURN && which !== rpc.Message.UNIMPLEMENTED) {
      tapEnd.write(frame);
      return;
    }
    const seen: RpcFrameSeen = { which, message };
    const waiter = this.replyWaiters.shift();
    if (waiter) waiter(seen);
    else this.replies.push(seen);
  }

  /** Writes raw bytes to the connector on the control stream. */
  inject(bytes: Buffer): void {
    this.stream.write(bytes);
  }

  /** The next Return or Unimplemented the connector sent (answers to injected messages), in order. */
  nextReply(): Promise<RpcFrameSeen> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => this.replyWaiters.push(resolve));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Data streams
// ---------------------------------------------------------------------------------------------------------------

/** The data-stream preamble (§7.1) followed by `req` encoded. */
export function connectRequestBytes(req: ConnectRequest): Buffer {
  return Buffer.concat([DATA_STREAM_SIGNATURE, DATA_STREAM_VERSION, encodeConnectRequest(req)]);
}

/** A well-formed `GET http://hostile.test<path>` ConnectRequest (§7.2). */
export function getRequest(path: string): ConnectRequest {
  return {
    dest: `http://hostile.test${path}`,
    type: 'http',
    metadata: [
      { key: 'HttpHeader:Accept', val: '*/*' },
      { key: 'HttpMethod', val: 'GET' },
      { key: 'HttpHost', val: 'hostile.test' },
    ],
  };
}

/** How the connector ended one stream, seen from the edge. */
export interface StreamOutcome {
  /** Every byte the connector wrote. */
  bytes: Buffer;
  /** The connector ended its side with FIN. */
  fin: boolean;
  /** RESET_STREAM code, when the connector reset its sending side. */
  resetCode: number | undefined;
  /** STOP_SENDING code, when the connector stopped the edge's sending side while the edge still had data to send. */
  stopCode: number | undefined;
}

/** A {@link StreamOutcome} whose bytes are a ConnectResponse (and a body). */
export interface DataStreamAnswer extends StreamOutcome {
  response: ConnectResponse | undefined;
  body: Buffer;
}

/** Reads everything the connector writes on `stream` until FIN or reset. */
export function collectQuicStream(stream: QuicStream): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let resetCode: number | undefined;
    let stopCode: number | undefined;
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (err: Error) => {
      if (err instanceof QuicStreamResetError) resetCode = err.errorCode;
      else if (err instanceof QuicStreamStoppedError) stopCode = err.errorCode;
    });
    let done = false;
    const finish = (fin: boolean): void => {
      if (done) return;
      done = true;
      resolve({ bytes: Buffer.concat(chunks), fin, resetCode, stopCode });
    };
    stream.once('end', () => finish(true));
    stream.once('close', () => finish(false));
  });
}

/** Splits what the connector wrote on a data stream into its ConnectResponse and the body after it. */
export function parseDataStream(outcome: StreamOutcome): DataStreamAnswer {
  if (outcome.bytes.length === 0) return { ...outcome, response: undefined, body: Buffer.alloc(0) };
  const preamble = new PreambleParser().push(outcome.bytes);
  if (preamble === null || preamble.kind !== 'data')
    throw new Error(`connector wrote no data preamble: ${outcome.bytes.toString('hex')}`);
  return { ...outcome, response: decodeConnectResponse(preamble.frame), body: Buffer.from(preamble.rest) };
}

// ---------------------------------------------------------------------------------------------------------------
// Listeners
// ---------------------------------------------------------------------------------------------------------------

/** A listener speaking the edge side; `P` is its view of one connector connection. */
export interface HostileEdge<P> {
  readonly port: number;
  readonly caPem: string;
  /** The next connector connection, in arrival order. */
  accept(): Promise<P>;
  close(): Promise<void>;
}

/** Hands accepted connections to `next()` callers in order, whichever comes first. */
class AcceptQueue<P> {
  private readonly waiting: Array<(peer: P) => void> = [];
  private readonly ready: P[] = [];

  push(peer: P): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(peer);
    else this.ready.push(peer);
  }

  next(): Promise<P> {
    const peer = this.ready.shift();
    return peer ? Promise.resolve(peer) : new Promise((resolve) => this.waiting.push(resolve));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// QUIC
// ---------------------------------------------------------------------------------------------------------------

/** The edge's side of one connector QUIC connection. */
export class HostileQuicPeer {
  /** Set once the connector opened its control stream (the first stream, §6.5). */
  control!: ControlTap;
  private readonly controlOpened: Promise<ControlTap>;

  constructor(readonly quic: QuicConnection) {
    this.controlOpened = new Promise((resolve) => {
      quic.once('stream', (stream: QuicStream) => {
        this.control = new ControlTap(stream);
        resolve(this.control);
        // Later connector-opened streams (datagram-v2 session RPCs) are not served by this edge.
        quic.on('stream', (s: QuicStream) => {
          s.on('error', () => undefined);
          s.reset(0);
        });
      });
    });
  }

  /** The control stream, once the connector opened it. */
  controlStream(): Promise<ControlTap> {
    return this.controlOpened;
  }

  /** Opens an edge stream, writes `bytes` (then FIN unless `end` is false) and collects the connector's answer. */
  async exchange(bytes: Buffer, options: { end?: boolean } = {}): Promise<StreamOutcome> {
    const stream = await this.quic.openStream();
    stream.on('error', () => undefined);
    const outcome = collectQuicStream(stream);
    if (options.end === false) stream.write(bytes);
    else stream.end(bytes);
    return outcome;
  }

  /** Sends a data stream (preamble + `req`, FIN) and parses the answer. */
  async request(req: ConnectRequest): Promise<DataStreamAnswer> {
    return parseDataStream(await this.exchange(connectRequestBytes(req)));
  }
}

/** A QUIC listener speaking the edge side. */
export type HostileQuicEdge = HostileEdge<HostileQuicPeer>;

/** Starts a hostile QUIC edge on 127.0.0.1. */
export async function startHostileQuicEdge(): Promise<HostileQuicEdge> {
  const certs = await edgeCertificates();
  const server: QuicServer = await listenQuic({
    host: '127.0.0.1',
    port: 0,
    cert: certs.certPem,
    key: certs.keyPem,
    alpn: [QUIC_ALPN],
  });
  const peers = new AcceptQueue<HostileQuicPeer>();
  server.on('connection', (quic: QuicConnection) => peers.push(new HostileQuicPeer(quic)));
  return { port: server.address().port, caPem: certs.caPem, accept: () => peers.next(), close: () => server.close() };
}

/** The real connector registered to a hostile QUIC edge, and the edge's view of that connection. */
export interface QuicSession {
  conn: QuicTunnelConnection;
  peer: HostileQuicPeer;
  control: ControlTap;
}

/** Dials `edge` with the real QUIC transport and registers with the real `startQuicTunnelConnection`. */
export async function connectQuicConnector(edge: HostileQuicEdge, ctx: ConnectionContext): Promise<QuicSession> {
  const quic = await connectQuic({ host: '127.0.0.1', port: edge.port, serverName: QUIC_SERVER_NAME, ca: edge.caPem });
  const [conn, peer] = await Promise.all([startQuicTunnelConnection(quic, ctx), edge.accept()]);
  return { conn, peer, control: await peer.controlStream() };
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP/2
// ---------------------------------------------------------------------------------------------------------------

/** Name the edge puts in `:authority` of its control request (vectors http2/control). */
const EDGE_AUTHORITY = 'h2.cftunnel.com';

/** How the connector answered one HTTP/2 request. */
export interface Http2Answer {
  /** Response headers, when the connector sent any. */
  headers: http2.IncomingHttpHeaders | undefined;
  body: Buffer;
  /** RST_STREAM code when the stream was reset (by either side); `NGHTTP2_NO_ERROR` (0) after a clean end. */
  rstCode: number;
  /** The client-side error the stream ended with, if any. */
  error: Error | undefined;
}

/** The edge's side of one connector TLS connection: an HTTP/2 client (§8.1). */
export class HostileHttp2Peer {
  readonly session: http2.ClientHttp2Session;
  readonly control: ControlTap;
  readonly controlRequest: http2.ClientHttp2Stream;

  constructor(readonly socket: tls.TLSSocket) {
    socket.on('error', () => undefined);
    this.session = http2.connect(`https://${EDGE_AUTHORITY}`, {
      createConnection: () => socket,
      maxSendHeaderBlockLength: 64 * 1024 * 1024,
    });
    this.session.on('error', () => undefined);
    this.controlRequest = this.session.request(
      {
        ':method': 'GET',
        ':path': '/',
        ':scheme': 'https',
        ':authority': EDGE_AUTHORITY,
        'cf-cloudflared-proxy-connection-upgrade': 'control-stream',
      },
      { endStream: false },
    );
    this.control = new ControlTap(this.controlRequest);
  }

  /**
   * Sends one request and collects the answer. node:http2 validates header names and values itself; a header it
   * refuses makes this throw synchronously (the caller records that node:http2 cannot send it).
   */
  request(headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<Http2Answer> {
    const stream = this.session.request(headers, { endStream: body === undefined });
    if (body !== undefined) stream.end(body);
    return new Promise((resolve) => {
      let resHeaders: http2.IncomingHttpHeaders | undefined;
      let error: Error | undefined;
      const chunks: Buffer[] = [];
      stream.once('response', (h) => (resHeaders = h));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err: Error) => (error = err));
      stream.once('close', () =>
        resolve({ headers: resHeaders, body: Buffer.concat(chunks), rstCode: stream.rstCode ?? 0, error }),
      );
    });
  }
}

/** A TLS listener speaking the HTTP/2 edge side. */
export type HostileHttp2Edge = HostileEdge<HostileHttp2Peer>;

/** Starts a hostile HTTP/2 edge (TLS, no ALPN, like the real edge §4.1) on 127.0.0.1. */
export async function startHostileHttp2Edge(): Promise<HostileHttp2Edge> {
  const certs = await edgeCertificates();
  const peers = new AcceptQueue<HostileHttp2Peer>();
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ cert: certs.certPem, key: certs.keyPem }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    peers.push(new HostileHttp2Peer(socket));
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    caPem: certs.caPem,
    accept: () => peers.next(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The real connector registered to a hostile HTTP/2 edge. */
export interface Http2Session {
  conn: Http2TunnelConnection;
  peer: HostileHttp2Peer;
  control: ControlTap;
}

/** Dials `edge` with the real TLS dialer and registers with the real `startHttp2TunnelConnection`. */
export async function connectHttp2Connector(edge: HostileHttp2Edge, ctx: ConnectionContext): Promise<Http2Session> {
  const socket = await dialEdgeTls({ host: '127.0.0.1', port: edge.port, caCert: edge.caPem });
  const [conn, peer] = await Promise.all([startHttp2TunnelConnection(socket, ctx), edge.accept()]);
  return { conn, peer, control: peer.control };
}

/** Headers of a well-formed `GET <path>` the edge sends over HTTP/2 (§8.2 plain HTTP). */
export function http2GetHeaders(path: string): http2.OutgoingHttpHeaders {
  return {
    ':method': 'GET',
    ':scheme': 'http',
    ':authority': 'hostile.test',
    ':path': path,
    'cf-ray': '0123456789abcdef-TST',
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Either transport
// ---------------------------------------------------------------------------------------------------------------

/** What a well-formed request sent through the connector came back with. */
export interface GoodAnswer {
  status: number;
  body: string;
}

/** The real connector registered to a hostile edge, whatever the transport, with what every test needs. */
export interface HostileSession {
  readonly protocol: TunnelProtocol;
  readonly conn: TunnelConnection;
  readonly control: ControlTap;
  readonly origin: RecordingOrigin;
  /** The connector's id, which it sends to the origin as `Cf-Warp-Tag-Id`. */
  readonly connectorId: string;
  /** Settles once the edge's side of the connection has closed, with what the edge's transport reported. */
  readonly edgeClosed: Promise<unknown>;
  /** Sends a well-formed `GET <path>` on this connection. */
  get(path: string): Promise<GoodAnswer>;
  /** Closes the connector, the edge, the origin and the origin pools. */
  close(): Promise<void>;
}

/** A {@link HostileSession} over QUIC, with the QUIC peer for stream-level tests. */
export interface HostileQuicSession extends HostileSession {
  readonly peer: HostileQuicPeer;
}

/** A {@link HostileSession} over HTTP/2, with the HTTP/2 peer for request-level tests. */
export interface HostileHttp2Session extends HostileSession {
  readonly peer: HostileHttp2Peer;
}

function quicStatus(answer: DataStreamAnswer): number {
  if (answer.response === undefined) throw new Error(`no ConnectResponse (reset ${String(answer.resetCode)})`);
  if (answer.response.error !== '') throw new Error(`ConnectResponse error: ${answer.response.error}`);
  return Number(answer.response.metadata.find((m) => m.key === 'HttpStatus')?.val);
}

/** How one transport plugs into {@link openSession}. */
interface SessionParts<P> {
  protocol: TunnelProtocol;
  startEdge(): Promise<HostileEdge<P>>;
  connect(
    edge: HostileEdge<P>,
    ctx: ConnectionContext,
  ): Promise<{ conn: TunnelConnection; peer: P; control: ControlTap }>;
  /** Settles when the edge's side of the connection closed. */
  closedAtEdge(peer: P): Promise<unknown>;
  get(peer: P, path: string): Promise<GoodAnswer>;
}

async function openSession<P>(
  parts: SessionParts<P>,
  overrides: ContextOverrides = {},
): Promise<HostileSession & { peer: P }> {
  const origin = await startRecordingOrigin();
  const edge = await parts.startEdge();
  const ctx = hostileContext(origin.url, overrides);
  const { conn, peer, control } = await parts.connect(edge, ctx);
  return {
    protocol: parts.protocol,
    conn,
    control,
    origin,
    peer,
    connectorId: ctx.tunnel.identity.connectorId,
    edgeClosed: parts.closedAtEdge(peer),
    get: (path) => parts.get(peer, path),
    async close() {
      conn.close();
      await edge.close();
      await ctx.tunnel.orchestrator.origins.close();
      await origin.close();
    },
  };
}

/** Origin, hostile QUIC edge and the real connector registered to it. */
export function openHostileQuicSession(overrides: ContextOverrides = {}): Promise<HostileQuicSession> {
  return openSession<HostileQuicPeer>(
    {
      protocol: 'quic',
      startEdge: startHostileQuicEdge,
      connect: connectQuicConnector,
      closedAtEdge: (peer) => new Promise((resolve) => peer.quic.once('close', resolve)),
      async get(peer, path) {
        const answer = await peer.request(getRequest(path));
        return { status: quicStatus(answer), body: answer.body.toString('utf8') };
      },
    },
    overrides,
  );
}

/** Origin, hostile HTTP/2 edge and the real connector registered to it. */
export function openHostileHttp2Session(): Promise<HostileHttp2Session> {
  return openSession<HostileHttp2Peer>({
    protocol: 'http2',
    startEdge: startHostileHttp2Edge,
    connect: connectHttp2Connector,
    // Not events.once: it would reject on the session's 'error' event, and nobody may be waiting.
    closedAtEdge: (peer) => new Promise((resolve) => peer.session.once('close', () => resolve(undefined))),
    async get(peer, path) {
      const answer = await peer.request(http2GetHeaders(path));
      if (answer.headers === undefined) throw new Error(`no response (RST_STREAM ${answer.rstCode})`);
      return { status: Number(answer.headers[':status']), body: answer.body.toString('utf8') };
    },
  });
}

/** A {@link HostileSession} over `protocol`. */
export function openHostileSession(protocol: TunnelProtocol): Promise<HostileSession> {
  return protocol === 'quic' ? openHostileQuicSession() : openHostileHttp2Session();
}

// ---------------------------------------------------------------------------------------------------------------
// Process health
// ---------------------------------------------------------------------------------------------------------------

/** Records uncaught exceptions and unhandled rejections while a test runs. */
export interface ProcessFaults {
  readonly faults: unknown[];
  stop(): void;
}

/** Starts recording process-level faults (the connector must never raise one, whatever the edge sends). */
export function watchProcessFaults(): ProcessFaults {
  const faults: unknown[] = [];
  const onFault = (err: unknown): void => {
    faults.push(err);
  };
  process.on('uncaughtExceptionMonitor', onFault);
  process.on('unhandledRejection', onFault);
  return {
    faults,
    stop() {
      process.off('uncaughtExceptionMonitor', onFault);
      process.off('unhandledRejection', onFault);
    },
  };
}

/** Resolves `true` if `promise` settled before the current macrotask queue drained, else `false`. */
export async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}
