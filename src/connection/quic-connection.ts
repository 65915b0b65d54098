/**
 * A tunnel connection over QUIC (docs/protocol.md §5.3, §6.5-§7): the connector opens the control stream and registers;
 * the edge opens one stream per request (data streams) or per RPC (config pushes). The QUIC adapter of
 * {@link TunnelConnectionCore}; requests are answered with a ConnectResponse (§7.3).
 */
import { wireText } from '../errors.js';
import {
  decodeConnectRequest,
  encodeConnectResponse,
  type ConnectRequest,
  type ConnectResponse,
} from '../capnp/connect-codec.js';
import type { OriginResponse } from '../proxy/index.js';
import type { QuicConnection, QuicStream } from '../transport/quic/index.js';
import { dataStreamPreamble, readStreamPreamble } from '../wire/preamble.js';
import { serveConfigRpcStream } from './config-rpc.js';
import { WARP_ROUTING_DISABLED_MESSAGE, originRequestFromConnect, responseMetadata } from './edge-request.js';
import { encodeV3RegistrationResponse, V3_RESPONSE, v3RegistrationRequestId } from './datagram-v3.js';
import { datagramVersionOf } from './identity.js';
import { pipeBody } from './pipe-body.js';
import type { WebSocketRelays } from './websocket-relay.js';
import { ipTo16Bytes } from './net-ip.js';
import type { ConnectionContext, TunnelProtocol } from './types.js';
import { registerOrClose, TunnelConnectionCore, type ControlStream, type ResponseWriter } from './connection-core.js';

/** Application error code of every close and stream abort cloudflared sends (§5.3). */
export const QUIC_APPLICATION_CODE = 0;

/** Resolves when `quic` closes or after `ms`, whichever comes first. */
function lingerUntilClosed(quic: QuicConnection, ms: number): Promise<void> {
  if (quic.closed || ms <= 0) return Promise.resolve();
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

/** Answers one data stream with a ConnectResponse, then the body (§7.3, §7.4). */
class QuicResponseWriter implements ResponseWriter {
  readonly failureMessage = 'Request failed';

  constructor(
    readonly stream: QuicStream,
    private readonly requestHasBody: boolean,
  ) {}

  writeHead(res: OriginResponse): void {
    this.stream.write(responseFrame({ error: '', metadata: responseMetadata(res) }, true));
  }

  async writeBody(res: OriginResponse, webSockets: WebSocketRelays): Promise<void> {
    const stream = this.stream;
    if (res.socket !== undefined) await webSockets.relay(stream, res.socket);
    else if (res.body !== null) await pipeBody(res.body, stream);
    else stream.end();
    // §7.4: STOP_SENDING(0) for any request body we did not read.
    if (!this.requestHasBody || !stream.readableEnded) stream.stopSending(QUIC_APPLICATION_CODE);
  }

  fail(err: unknown): void {
    this.stream.end(responseFrame({ error: wireText(err), metadata: [] }));
    this.stream.stopSending(QUIC_APPLICATION_CODE);
  }

  /** §7.4: an error after the ConnectResponse resets the stream. */
  reset(): void {
    abortStream(this.stream);
  }
}

/** Serves one registered QUIC connection. Create with {@link startQuicTunnelConnection}. */
export class QuicTunnelConnection extends TunnelConnectionCore {
  readonly protocol: TunnelProtocol = 'quic';
  /** During a graceful shutdown streams are still served until the connection closes (§5.3, HEAD): a request the
   * edge routed before it processed our unregistration must not fail. */
  protected readonly refusesDuringDrain = false;

  constructor(
    private readonly quic: QuicConnection,
    ctx: ConnectionContext,
  ) {
    super(ctx);
    quic.on('stream', (stream: QuicStream) => this.onStream(stream));
    if (datagramVersionOf(ctx.tunnel.identity.features) === 'v3')
      quic.on('datagram', (d: Buffer) => this.onDatagramV3(d));
    quic.once('close', (err?: Error) => this.markClosed(err));
  }

  /** Local UDP port, for port reuse on reconnect (§5.2). */
  get localPort(): number {
    return this.quic.localAddress.port;
  }

  protected async openControlStream(): Promise<ControlStream> {
    const stream = await this.quic.openStream();
    // §6.6: on QUIC, originLocalIp carries the *edge* address of this connection.
    return { stream, originLocalIp: ipTo16Bytes(this.quic.remoteAddress.address) };
  }

  protected get transportClosed(): boolean {
    return this.quic.closed;
  }

  /**
   * HEAD (`connection/quic_connection.go`) holds the connection for the grace period after unregistering, or until
   * the edge closes it (§5.3); 2023.7.3 closed it at once, which also discarded response bytes the edge had not
   * acknowledged yet.
   */
  protected linger(remainingMs: number): Promise<void> {
    return lingerUntilClosed(this.quic, remainingMs);
  }

  protected closeTransport(): Promise<void> {
    return this.quic.close(QUIC_APPLICATION_CODE, '');
  }

  protected destroyTransport(): void {
    void this.quic.close(QUIC_APPLICATION_CODE, '');
  }

  private onStream(stream: QuicStream): void {
    if (!this.acceptingRequests) {
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
    this.ctx.tunnel.logger.debug(
      { connIndex: this.connIndex, requestId: requestId.toString('hex') },
      WARP_ROUTING_DISABLED_MESSAGE,
    );
    this.quic.sendDatagram(encodeV3RegistrationResponse(requestId, V3_RESPONSE.unableToBindSocket));
  }

  private async serveStream(stream: QuicStream): Promise<void> {
    let preamble;
    try {
      preamble = await readStreamPreamble(stream);
    } catch (err) {
      // §7.1: unknown signature ⇒ reset the write side and close.
      this.ctx.tunnel.logger.debug({ err, connIndex: this.connIndex }, 'failed to read stream preamble');
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
    let req: ConnectRequest;
    try {
      req = decodeConnectRequest(frame);
    } catch (err) {
      // cloudflared 2023.7.3 fails the stream when its ConnectRequest cannot be read, which resets it without a
      // ConnectResponse (`connection/quic.go` runStream: CancelWrite(0)), as for an unknown signature (§7.1).
      this.ctx.tunnel.logger.debug({ err, connIndex: this.connIndex }, 'failed to read ConnectRequest');
      abortStream(stream);
      return;
    }
    if (req.type === 'tcp') return this.refuseWarpFlow(new QuicResponseWriter(stream, false), req.dest);
    let originRequest;
    try {
      originRequest = originRequestFromConnect(req, stream, this.ctx.tunnel.identity.connectorId);
    } catch (err) {
      return this.refuseRequest(new QuicResponseWriter(stream, false), err);
    }
    // A WebSocket's request side is read by the relay (it has no body view).
    const readsRequest = originRequest.body !== null || originRequest.isWebsocket;
    await this.serveRequest(originRequest, new QuicResponseWriter(stream, readsRequest));
  }
}

/**
 * Registers a tunnel connection on an established QUIC connection. On failure the QUIC connection is closed and the
 * registration error is thrown.
 */
export function startQuicTunnelConnection(quic: QuicConnection, ctx: ConnectionContext): Promise<QuicTunnelConnection> {
  return registerOrClose(new QuicTunnelConnection(quic, ctx));
}
