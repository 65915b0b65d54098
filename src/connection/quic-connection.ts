/**
 * A tunnel connection over QUIC (docs/protocol.md §5.3, §6.5-§7): the connector opens the control stream and registers;
 * the edge opens one stream per request (data streams) or per RPC (config pushes).
 */
import { wireText } from '../errors.js';
import { EventEmitter } from 'node:events';
import { decodeConnectRequest, encodeConnectResponse, type ConnectRequest, type ConnectResponse } from '../capnp/connect-codec.js';
import type { QuicConnection, QuicStream } from '../transport/quic/index.js';
import { dataStreamPreamble, readStreamPreamble } from '../wire/preamble.js';
import { openControlSession, unregisterAndDrain, type ControlSession } from './control.js';
import { serveConfigRpcStream } from './config-rpc.js';
import {
  WARP_ROUTING_DISABLED_MESSAGE,
  forwardToOrigin,
  observeRequest,
  originRequestFromConnect,
  responseMetadata,
} from './edge-request.js';
import { InFlight } from './in-flight.js';
import { encodeV3RegistrationResponse, V3_RESPONSE, v3RegistrationRequestId } from './datagram-v3.js';
import { datagramVersionOf } from './identity.js';
import { pipeBody } from './pipe-body.js';
import { WebSocketRelays } from './websocket-relay.js';
import { ipTo16Bytes } from './net-ip.js';
import type { ConnectionContext, ConnectionDetails, TunnelProtocol } from './types.js';
import { registerOrClose, type TunnelConnection, type TunnelConnectionEvents } from './tunnel-connection.js';

/** Application error code of every close and stream abort cloudflared sends (§5.3). */
export const QUIC_APPLICATION_CODE = 0;

/** Resolves when `quic` closes or after `ms`, whichever comes first. */
function lingerUntilClosed(quic: QuicConnection, ms: number): Promise<void> {
  if (quic.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      quic.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    quic.once('close', done);
  });
}

/** Aborts both directions of a stream the way cloudflared does (§5.3: RESET_STREAM 0 and STOP_SENDING 0). */
function abortStream(stream: QuicStream): void {
  stream.reset(QUIC_APPLICATION_CODE);
  stream.stopSending(QUIC_APPLICATION_CODE);
}

/** `byteStringValues`: metadata values are origin header byte strings, written byte for byte (§7.3). */
function responseFrame(res: ConnectResponse, byteStringValues = false): Buffer {
  return Buffer.concat([dataStreamPreamble(), encodeConnectResponse(res, { byteStringValues })]);
}

/** Serves one registered QUIC connection. Create with {@link startQuicTunnelConnection}. */
export class QuicTunnelConnection extends EventEmitter<TunnelConnectionEvents> implements TunnelConnection {
  readonly protocol: TunnelProtocol = 'quic';
  readonly connIndex: number;
  details!: ConnectionDetails;
  readonly closed: Promise<Error | undefined>;
  private readonly inFlight = new InFlight();
  /** Open WebSockets, closed with 1001 when the drain starts. */
  private readonly webSockets = new WebSocketRelays();
  private control!: ControlSession;
  private shuttingDown = false;
  /** Set when the connection is being closed at once: streams the edge opens from then on are refused. */
  private closing = false;
  private resolveClosed!: (err: Error | undefined) => void;

  constructor(private readonly quic: QuicConnection, private readonly ctx: ConnectionContext) {
    super();
    this.connIndex = ctx.connIndex;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    quic.on('stream', (stream: QuicStream) => this.onStream(stream));
    if (datagramVersionOf(ctx.identity.features) === 'v3') quic.on('datagram', (d: Buffer) => this.onDatagramV3(d));
    quic.once('close', (err?: Error) => {
      this.control?.close();
      this.resolveClosed(this.shuttingDown ? undefined : err ?? new Error('connection with edge closed'));
    });
  }

  /** Requests currently being served. */
  get activeRequests(): number {
    return this.inFlight.size;
  }

  /** Local UDP port, for port reuse on reconnect (§5.2). */
  get localPort(): number {
    return this.quic.localAddress.port;
  }

  /** Opens the control stream and registers (§6.5-§6.8). */
  async register(): Promise<ConnectionDetails> {
    const stream = await this.quic.openStream();
    this.control = openControlSession(stream, this.ctx);
    // §6.6: on QUIC, originLocalIp carries the *edge* address of this connection.
    this.details = await this.control.register(ipTo16Bytes(this.quic.remoteAddress.address));
    void this.control.ended.then((err) => {
      if (err !== null) this.failControl(err);
    });
    return this.details;
  }

  /**
   * The edge broke the control stream after registration (oversized or malformed RPC frame, Abort, reset): the
   * connection can no longer be unregistered, so it ends here with that error and the supervisor reconnects.
   * cloudflared 2023.7.3 keeps such a connection until the edge closes it (`connection/control.go` only waits for
   * its context); ending it at once gives the typed cause and no half-dead connection.
   */
  private failControl(err: Error): void {
    if (this.shuttingDown || this.quic.closed) return;
    this.shuttingDown = true;
    this.closing = true;
    this.resolveClosed(err);
    void this.quic.close(QUIC_APPLICATION_CODE, '');
  }

  private onStream(stream: QuicStream): void {
    // During a graceful shutdown streams are still served until the connection closes (§5.3, HEAD): a request the
    // edge routed before it processed our unregistration must not fail.
    if (this.closing) {
      abortStream(stream);
      return;
    }
    stream.on('error', () => undefined);
    this.inFlight.run(() => this.serveStream(stream));
  }

  /**
   * Datagram v3 (§14.2), when the registration selected it: private-network flows are not served, so a UDP session
   * registration gets HEAD's answer for a flow it cannot open (`unableToBindSocket`, `quic/v3/muxer.go`) at once.
   * Every other datagram (payloads of unknown sessions, ICMP) is dropped, as HEAD drops them.
   */
  private onDatagramV3(datagram: Buffer): void {
    const requestId = v3RegistrationRequestId(datagram);
    if (requestId === undefined || this.closing) return;
    this.ctx.logger.debug({ connIndex: this.connIndex, requestId: requestId.toString('hex') }, WARP_ROUTING_DISABLED_MESSAGE);
    this.quic.sendDatagram(encodeV3RegistrationResponse(requestId, V3_RESPONSE.unableToBindSocket));
  }

  private async serveStream(stream: QuicStream): Promise<void> {
    let preamble;
    try {
      preamble = await readStreamPreamble(stream);
    } catch (err) {
      // §7.1: unknown signature ⇒ reset the write side and close.
      this.ctx.logger.debug({ err, connIndex: this.connIndex }, 'failed to read stream preamble');
      abortStream(stream);
      return;
    }
    if (preamble.kind === 'rpc') {
      await serveConfigRpcStream(stream, this.ctx, (v, e) => this.emit('config', v, e));
      return;
    }
    await this.serveDataStream(stream, preamble.frame);
  }

  private async serveDataStream(stream: QuicStream, frame: Buffer): Promise<void> {
    const { logger } = this.ctx;
    let req: ConnectRequest;
    try {
      req = decodeConnectRequest(frame);
    } catch (err) {
      // cloudflared 2023.7.3 fails the stream when its ConnectRequest cannot be read, which resets it without a
      // ConnectResponse (`connection/quic.go` runStream: CancelWrite(0)), as for an unknown signature (§7.1).
      logger.debug({ err, connIndex: this.connIndex }, 'failed to read ConnectRequest');
      abortStream(stream);
      return;
    }
    const type = req.type;
    let originRequest;
    try {
      if (req.type === 'tcp') {
        logger.error({ connIndex: this.connIndex, dest: req.dest }, WARP_ROUTING_DISABLED_MESSAGE);
        stream.end(responseFrame({ error: WARP_ROUTING_DISABLED_MESSAGE, metadata: [] }));
        stream.stopSending(QUIC_APPLICATION_CODE);
        return;
      }
      originRequest = originRequestFromConnect(req, stream, this.ctx.identity.connectorId);
    } catch (err) {
      logger.error({ err, connIndex: this.connIndex }, 'Request failed');
      stream.end(responseFrame({ error: wireText(err), metadata: [] }));
      stream.stopSending(QUIC_APPLICATION_CODE);
      return;
    }

    const abort = new AbortController();
    // Abort only a request the edge gave up on: a normally finished stream also closes (and DOMException is costly).
    const onClose = (): void => {
      if (!stream.writableFinished) abort.abort();
    };
    stream.once('close', onClose);
    const observed = observeRequest(this.ctx, 'quic', originRequest);
    let failure: Error | undefined;
    let headersSent = false;
    try {
      const res = await forwardToOrigin(this.ctx, originRequest, abort.signal, 'quic');
      observed?.response(res.status);
      stream.write(responseFrame({ error: '', metadata: responseMetadata(res) }, true));
      headersSent = true;
      if (res.socket !== undefined) {
        await this.webSockets.relay(stream, res.socket);
      } else if (res.body !== null) {
        await pipeBody(res.body, stream);
      } else {
        stream.end();
      }
      // §7.4: STOP_SENDING(0) for any request body we did not read.
      if (originRequest.body === null || !stream.readableEnded) stream.stopSending(QUIC_APPLICATION_CODE);
    } catch (err) {
      failure = err as Error;
      logger.error({ err, connIndex: this.connIndex, type, dest: originRequest.url }, 'Request failed');
      if (!headersSent) {
        stream.end(responseFrame({ error: wireText(err), metadata: [] }));
        stream.stopSending(QUIC_APPLICATION_CODE);
      } else {
        // §7.4: an error after the ConnectResponse resets the stream.
        abortStream(stream);
      }
    } finally {
      stream.off('close', onClose);
      observed?.end(failure);
    }
  }

  /**
   * Graceful shutdown (§12.5, §5.3 as HEAD): unregister, wait for in-flight requests, end the control session, then
   * keep the connection, still serving streams, for the rest of the grace period or until the edge closes it. HEAD
   * (`connection/quic_connection.go`) holds the connection for the grace period after unregistering; 2023.7.3 closed
   * it at once, which also discarded response bytes the edge had not acknowledged yet.
   */
  async shutdown(graceMs: number): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const started = Date.now();
    this.webSockets.goAway();
    await unregisterAndDrain(this.control, this.inFlight, graceMs, this.ctx);
    const remaining = graceMs - (Date.now() - started);
    if (remaining > 0) await lingerUntilClosed(this.quic, remaining);
    this.closing = true;
    await this.quic.close(QUIC_APPLICATION_CODE, '');
  }

  /** Closes at once (in-flight requests are cut). */
  close(): void {
    this.shuttingDown = true;
    this.closing = true;
    this.control?.close();
    void this.quic.close(QUIC_APPLICATION_CODE, '');
  }
}

/**
 * Registers a tunnel connection on an established QUIC connection. On failure the QUIC connection is closed and the
 * registration error is thrown.
 */
export function startQuicTunnelConnection(quic: QuicConnection, ctx: ConnectionContext): Promise<QuicTunnelConnection> {
  return registerOrClose(new QuicTunnelConnection(quic, ctx));
}
