/**
 * The transport-neutral half of a tunnel connection (docs/protocol.md §6.5-§6.8, §12.5): lifecycle (the `closed`
 * promise), registration on the control stream, the end of a connection whose control stream broke, the graceful
 * drain (WebSocket go-away, unregister, wait for in-flight requests) and the per-request skeleton every transport
 * runs (abort rule, forwarding through the origin proxy, which routes and observes, and error answers). A transport subclass is the
 * adapter: it opens the control stream, accepts the edge's requests, closes gracefully and destroys, and answers
 * each request through a {@link ResponseWriter} — cloudflared's `OriginProxy`/`ResponseWriter` split.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { OriginRequest, OriginResponse } from '../proxy/index.js';
import { openControlSession, unregisterAndDrain, type ControlSession } from './control.js';
import { EdgeRequestError, WARP_ROUTING_DISABLED_MESSAGE } from './edge-request.js';
import { EdgeConnectionClosedError } from './errors.js';
import { InFlight } from './in-flight.js';
import { AbortControllerPool } from './abort-pool.js';
import type { TunnelConnection, TunnelConnectionEvents } from './tunnel-connection.js';
import type { ConnectionContext, ConnectionDetails, TunnelProtocol } from './types.js';
import { WebSocketRelays } from './websocket-relay.js';

/** How a transport answers one edge request. */
export interface ResponseWriter {
  /** The request's stream: its `close` before the answer was written means the edge gave up (the abort rule). */
  readonly stream: Duplex;
  /** What the transport logs when a request fails (cloudflared's own texts differ per transport). */
  readonly failureMessage: string;
  /** Sends the response head: a ConnectResponse on QUIC (§7.3), HEADERS with serialized headers on HTTP/2 (§8.5). */
  writeHead(res: OriginResponse): void;
  /** Sends the body (or relays the upgraded stream) after {@link writeHead}; settles when the response is done. */
  writeBody(res: OriginResponse, webSockets: WebSocketRelays): Promise<void>;
  /** No head was sent: answers the edge with the error (§7.3 ConnectResponse error; §8.7 502). */
  fail(err: unknown): void;
  /** The head was sent: resets the stream (§7.4, §8.7). */
  reset(): void;
}

/** Where a transport subclass gets the control stream and the `originLocalIp` it registers with (§6.6). */
export interface ControlStream {
  readonly stream: Duplex;
  readonly originLocalIp: Buffer;
}

/**
 * The abort rule (§7.4, §8.7): the edge gave up on a request when its stream closed before our side finished
 * writing, or when the peer aborted it. The second test matters on HTTP/2 — node:http2 ends the writable side of a
 * stream whose session was lost, so such a stream reports `writableFinished` though nothing was sent — and never
 * fires on QUIC, whose streams have no `aborted` flag. A normally finished stream also closes; it is not aborted
 * (and a DOMException per request is costly).
 */
export function edgeGaveUp(stream: Duplex): boolean {
  return (stream as { aborted?: boolean }).aborted === true || !stream.writableFinished;
}

/** A registered connection to the edge, whatever its transport. */
export abstract class TunnelConnectionCore extends EventEmitter<TunnelConnectionEvents> implements TunnelConnection {
  abstract readonly protocol: TunnelProtocol;
  readonly connIndex: number;
  details!: ConnectionDetails;
  readonly closed: Promise<Error | undefined>;
  protected readonly inFlight = new InFlight();
  /** Reused per-request AbortControllers (abort-pool.ts). */
  private readonly abortControllers = new AbortControllerPool();
  /** Open WebSockets, closed with 1001 when the drain starts. */
  protected readonly webSockets = new WebSocketRelays();
  protected control: ControlSession | undefined;
  /** Set once a graceful shutdown (or the end of the connection) started: `closed` then settles `undefined`. */
  protected shuttingDown = false;
  /** Set when the connection is being closed at once: requests the edge opens from then on are refused. */
  protected closing = false;
  private resolveClosed!: (err: Error | undefined) => void;

  protected constructor(protected readonly ctx: ConnectionContext) {
    super();
    this.connIndex = ctx.connIndex;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /** Requests currently being served. */
  get activeRequests(): number {
    return this.inFlight.size;
  }

  // --- the adapter: what each transport provides -------------------------------------------------------------------

  /** Opens (QUIC) or waits for (HTTP/2) the control stream. */
  protected abstract openControlStream(): Promise<ControlStream>;
  /** True once the transport connection is closed or being closed. */
  protected abstract get transportClosed(): boolean;
  /** After the drain: waits for what the transport still owes (up to `remainingMs`) before {@link closeTransport}. */
  protected abstract linger(remainingMs: number): Promise<void>;
  /** Closes the transport gracefully (QUIC CONNECTION_CLOSE 0; HTTP/2 GOAWAY then close). */
  protected abstract closeTransport(): Promise<void>;
  /** Destroys the transport at once. */
  protected abstract destroyTransport(): void;
  /** Whether requests are refused from the start of a graceful shutdown (HTTP/2) or only once it closes (QUIC). */
  protected abstract readonly refusesDuringDrain: boolean;

  // --- lifecycle ------------------------------------------------------------------------------------------------------

  /** Whether a new edge request is served (else the transport refuses it). */
  protected get acceptingRequests(): boolean {
    return !(this.refusesDuringDrain ? this.shuttingDown : this.closing);
  }

  /**
   * The transport ended: settles `closed` (`undefined` after our own shutdown, else the transport's typed cause, e.g.
   * an idle timeout the supervisor classifies, or {@link EdgeConnectionClosedError}). Idempotent.
   */
  protected markClosed(cause?: Error): void {
    this.control?.close();
    this.resolveClosed(this.shuttingDown ? undefined : (cause ?? new EdgeConnectionClosedError()));
  }

  /** Opens the control stream and registers (§6.5-§6.8). */
  async register(): Promise<ConnectionDetails> {
    const { stream, originLocalIp } = await this.openControlStream();
    this.control = openControlSession(stream, this.ctx);
    this.details = await this.control.register(originLocalIp);
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
    if (this.shuttingDown || this.transportClosed) return;
    this.shuttingDown = true;
    this.closing = true;
    this.resolveClosed(err);
    void this.closeTransport().then(() => this.markClosed());
  }

  /**
   * Graceful shutdown (§12.5): close WebSockets with 1001, unregister, wait for in-flight requests for up to
   * `graceMs`, end the control session, let the transport linger for the rest of the grace period, close.
   */
  async shutdown(graceMs: number): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const started = Date.now();
    this.webSockets.goAway();
    await unregisterAndDrain(this.control, this.inFlight, graceMs, this.ctx);
    await this.linger(graceMs - (Date.now() - started));
    this.closing = true;
    await this.closeTransport();
    // The transport may never report its close when the peer is stalled: we are done either way.
    this.markClosed();
  }

  /** Closes at once (in-flight requests are cut). */
  close(): void {
    this.shuttingDown = true;
    this.closing = true;
    this.control?.close();
    this.destroyTransport();
    this.markClosed();
  }

  // --- the per-request skeleton ---------------------------------------------------------------------------------------

  /**
   * Serves one edge request: forwards it through the current origin proxy (which routes and observes it) and writes
   * the answer with `writer`; a failure becomes the transport's error answer (before the head) or a reset (after it).
   */
  protected async serveRequest(req: OriginRequest, writer: ResponseWriter): Promise<void> {
    const { tunnel } = this.ctx;
    const abort = this.abortControllers.take();
    const stream = writer.stream;
    const onClose = (): void => {
      if (edgeGaveUp(stream)) abort.abort();
    };
    stream.once('close', onClose);
    let headSent = false;
    try {
      await tunnel.orchestrator.originProxy().serve(
        req,
        abort.signal,
        { logger: tunnel.logger, connIndex: this.connIndex, protocol: this.protocol },
        {
          respond: (res) => {
            writer.writeHead(res);
            headSent = true;
            return writer.writeBody(res, this.webSockets);
          },
          fail: (err) => {
            tunnel.logger.error({ err, connIndex: this.connIndex, dest: req.url }, writer.failureMessage);
            if (headSent) writer.reset();
            else writer.fail(err);
          },
        },
      );
    } finally {
      stream.off('close', onClose);
      this.abortControllers.give(abort);
    }
  }

  /** Answers a request that could not be turned into an origin request (it is not observed: it never started). */
  protected refuseRequest(writer: ResponseWriter, err: unknown): void {
    this.ctx.tunnel.logger.error({ err, connIndex: this.connIndex }, writer.failureMessage);
    writer.fail(err);
  }

  /**
   * Refuses a private-network (WARP) flow (§7.2, §8.2): cftunnel never serves them, and answers with cloudflared's
   * text for warp routing turned off.
   */
  protected refuseWarpFlow(writer: ResponseWriter, dest?: string): void {
    this.ctx.tunnel.logger.error(
      { connIndex: this.connIndex, ...(dest === undefined ? {} : { dest }) },
      WARP_ROUTING_DISABLED_MESSAGE,
    );
    writer.fail(new EdgeRequestError(WARP_ROUTING_DISABLED_MESSAGE));
  }
}

/** Registers a freshly built connection; on failure closes it and rethrows the registration error. */
export async function registerOrClose<T extends { register(): Promise<unknown>; close(): void }>(conn: T): Promise<T> {
  try {
    await conn.register();
  } catch (err) {
    conn.close();
    throw err;
  }
  return conn;
}
