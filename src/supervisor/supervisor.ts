/**
 * The run loop (docs/protocol.md §12): connection 0 first, the other HA connections one second apart once it registered,
 * each index reconnecting forever with its own backoff and protocol fallback; graceful shutdown unregisters and
 * drains every connection.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { TunnelConnection } from '../connection/tunnel-connection.js';
import type { ConnectionContext, ConnectionDetails, RequestObserver, TunnelProtocol } from '../connection/types.js';
import { DEFAULT_RPC_TIMEOUT_MS } from '../connection/types.js';
import type { ConnectorIdentity } from '../connection/identity.js';
import { CftunnelError } from '../errors.js';
import { connectionConnectedChannel, connectionDisconnectedChannel } from '../observability/diagnostics.js';
import type { Orchestrator } from '../orchestration/orchestrator.js';
import type { OriginServices } from '../orchestration/origin-services.js';
import { RegistrationError } from '../rpc/tunnel/registration-client.js';
import type { TunnelCredentials } from '../token/index.js';
import { QuicUnavailableError } from '../transport/quic/index.js';
import { Backoff, DEFAULT_MAX_RETRIES, systemClock, type BackoffClock } from './backoff.js';
import { dialTunnelConnection } from './dial.js';
import type { EdgeAddress, EdgeAddressPool } from '../edge/index.js';
import type { TunnelMetrics } from '../metrics/index.js';
import { ProtocolFallback, classifyError, type ProtocolSelection } from './protocol.js';

/** Default number of HA connections (§12.1). */
export const DEFAULT_HA_CONNECTIONS = 4;
/** Spacing between starting connections 1..N-1 (§12.1). */
export const HA_CONNECTION_SPACING_MS = 1_000;
/** Default `--grace-period` (§12.1). */
export const DEFAULT_GRACE_PERIOD_MS = 30_000;

/** Options of {@link Supervisor}. */
export interface SupervisorOptions {
  credentials: TunnelCredentials;
  identity: ConnectorIdentity;
  orchestrator: Orchestrator;
  origins: OriginServices;
  logger: Logger;
  /** Edge addresses, handed out per HA index and rotated after failures (§2.5, §2.6). */
  edgePool: EdgeAddressPool;
  protocol: ProtocolSelection;
  haConnections?: number;
  haSpacingMs?: number;
  retries?: number;
  rpcTimeoutMs?: number;
  caCert?: string | Buffer;
  bindAddress?: string;
  localConfig?: Buffer;
  clock?: BackoffClock;
  /** QUIC handshake timeout (default 5 s). */
  quicHandshakeTimeoutMs?: number;
  /** Per-request observer handed to every connection. */
  observer?: RequestObserver;
  /** HTTP/2 liveness PING interval. */
  http2PingIntervalMs?: number;
  /** Prometheus metrics of this tunnel (§13.2). */
  metrics?: TunnelMetrics;
  /** Key-exchange groups for HTTP/2 TLS (§4.4), e.g. `P-256`; logged per attempt like cloudflared. */
  http2Curves?: { ecdhCurve: string; logMessage: string };
  /**
   * Keep retrying index 0 when the edge answers `Unauthorized` before the first registration (cloudflared, §6.7:
   * assumed propagation lag of a new tunnel). Default true; when false, startup rejects with
   * {@link UnauthorizedTokenError}.
   */
  retryUnauthorizedAtStartup?: boolean;
}

/** A connection index's state change. */
export interface ConnectionEvent {
  connIndex: number;
  protocol: TunnelProtocol;
  address: EdgeAddress;
}

/** Events of {@link Supervisor}. */
export interface SupervisorEvents {
  connected: [event: ConnectionEvent & { details: ConnectionDetails }];
  disconnected: [event: ConnectionEvent & { error: Error | undefined }];
  reconnecting: [event: ConnectionEvent & { error: Error; delayMaxMs: number; attempt: number }];
  protocol_fallback: [event: { connIndex: number; from: TunnelProtocol; to: TunnelProtocol }];
  config: [event: { connIndex: number; version: number; err: string | null }];
}

/** Startup failed for a reason retrying cannot fix (§12.2 `initial tunnel connection failed`). */
export class InitialConnectionError extends CftunnelError {
  constructor(cause: unknown) {
    super('CFT_ERR_INITIAL_CONNECTION', `initial tunnel connection failed: ${(cause as Error).message}`, { retryable: false, cause });
  }
}

/** The edge refused the tunnel's credentials for good (`Unauthorized`) before the first registration. */
export class UnauthorizedTokenError extends CftunnelError {
  /** The edge's reason, e.g. `Unauthorized: Failed to authenticate tunnel`. */
  readonly reason: string;

  constructor(cause: RegistrationError) {
    super('CFT_ERR_UNAUTHORIZED', `the edge refused the tunnel token: ${cause.serverCause}`, { retryable: false, cause });
    this.reason = cause.serverCause;
  }
}

/**
 * True when index 0 keeps retrying `err` before the first registration (§12.2 step 3, §6.7); `Unauthorized` only
 * when `retryUnauthorized`.
 */
export function retriedAtStartup(err: unknown, retryUnauthorized = true): boolean {
  if (err instanceof RegistrationError) return err.isDuplicateConnection || (retryUnauthorized && err.isUnauthorized);
  if (err instanceof QuicUnavailableError) return false;
  return true;
}

/** How index 0 settles {@link Supervisor.start}. */
interface StartupSettlement {
  resolve: (c: TunnelConnection) => void;
  reject: (e: Error) => void;
  onAbort: () => void;
  signal: AbortSignal | undefined;
  /** The last error of index 0 before its first registration: the `cause` of an aborted startup. */
  lastError: Error | undefined;
}

/** Runs the HA connections of one tunnel. */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  private readonly live = new Map<number, TunnelConnection>();
  private readonly stop = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly connectedWith = new Set<TunnelProtocol>();
  private readonly clock: BackoffClock;
  private indexZeroProtocol: TunnelProtocol;

  constructor(private readonly options: SupervisorOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.indexZeroProtocol = options.protocol.initial;
  }

  /** Registered connections by index. */
  get connections(): TunnelConnection[] {
    return [...this.live.values()].sort((a, b) => a.connIndex - b.connIndex);
  }

  /** True once shutdown started. */
  get stopping(): boolean {
    return this.stop.signal.aborted;
  }

  /**
   * Starts connection 0 and resolves with it once registered; the other indexes follow in the background.
   * Rejects with {@link InitialConnectionError} for a non-retryable startup failure, or when `signal` aborts.
   */
  start(signal?: AbortSignal): Promise<TunnelConnection> {
    return new Promise<TunnelConnection>((resolve, reject) => {
      const settleStart: StartupSettlement = { resolve, reject, onAbort: () => undefined, signal, lastError: undefined };
      // The cause is what kept startup from succeeding (the last connection error), not the abort itself.
      settleStart.onAbort = (): void => {
        reject(new CftunnelError('CFT_ERR_ABORTED', 'tunnel startup aborted', { cause: settleStart.lastError ?? signal?.reason }));
        void this.shutdown(0);
      };
      if (signal?.aborted) return settleStart.onAbort();
      signal?.addEventListener('abort', settleStart.onAbort, { once: true });
      this.loops.push(this.runIndex(0, settleStart));
    });
  }

  private startOthers(): void {
    // §2.5: never more HA connections than the pool has addresses.
    const cap = this.options.edgePool.capHaConnections((this.options.haConnections ?? DEFAULT_HA_CONNECTIONS) - 1);
    if (cap.message !== undefined) this.options.logger.info(cap.message);
    const n = cap.haConnections + 1;
    void (async () => {
      for (let i = 1; i < n; i++) {
        await this.clock.sleep(this.options.haSpacingMs ?? HA_CONNECTION_SPACING_MS, this.stop.signal);
        if (this.stopping) return;
        this.loops.push(this.runIndex(i));
      }
    })();
  }

  private context(connIndex: number, backoff: Backoff): ConnectionContext {
    const o = this.options;
    return {
      credentials: o.credentials,
      identity: o.identity,
      connIndex,
      numPreviousAttempts: backoff.retries,
      orchestrator: o.orchestrator,
      origins: o.origins,
      logger: o.logger,
      rpcTimeoutMs: o.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS,
      localConfig: o.localConfig,
      observer: o.observer,
      http2PingIntervalMs: o.http2PingIntervalMs,
    };
  }

  private async runIndex(connIndex: number, startup?: StartupSettlement): Promise<void> {
    const o = this.options;
    const { logger } = o;
    const backoff = new Backoff(o.retries ?? DEFAULT_MAX_RETRIES, undefined, this.clock);
    const fallback = new ProtocolFallback(o.protocol, connIndex === 0 ? o.protocol.initial : this.indexZeroProtocol);
    // §5.2: reconnects of one index try the UDP port its first QUIC connection got.
    let quicLocalPort: number | undefined;
    while (!this.stopping) {
      const protocol = fallback.protocol;
      let address: EdgeAddress | undefined;
      let error: Error;
      let serving = false;
      try {
        address = o.edgePool.getAddr(connIndex);
        if (protocol === 'http2' && o.http2Curves !== undefined) logger.info({ connIndex }, o.http2Curves.logMessage);
        o.metrics?.haConnectionStarted();
        serving = true;
        const conn = await dialTunnelConnection(protocol, address, this.context(connIndex, backoff), {
          caCert: o.caCert,
          bindAddress: o.bindAddress,
          quicHandshakeTimeoutMs: o.quicHandshakeTimeoutMs,
          ecdhCurve: o.http2Curves?.ecdhCurve,
          quicLocalPort,
          signal: this.stop.signal,
        });
        quicLocalPort ??= conn.localPort;
        if (this.stopping) {
          conn.close();
          return;
        }
        backoff.reset();
        fallback.onConnected();
        this.connectedWith.add(protocol);
        this.live.set(connIndex, conn);
        o.metrics?.registered(connIndex, conn.details.locationName);
        conn.on('config', (version, err) => this.emit('config', { connIndex, version, err }));
        logger.info(
          { connIndex, connection: conn.details.uuid, event: 0, ip: address.host, location: conn.details.locationName, protocol },
          'Registered tunnel connection',
        );
        this.emit('connected', { connIndex, protocol, address, details: conn.details });
        if (connectionConnectedChannel.hasSubscribers) {
          connectionConnectedChannel.publish({
            tunnelId: o.credentials.tunnelId,
            connIndex,
            protocol,
            location: conn.details.locationName,
            connectionId: conn.details.uuid,
            edge: `${address.host}:${address.port}`,
          });
        }
        if (startup) {
          this.indexZeroProtocol = protocol;
          startup.signal?.removeEventListener('abort', startup.onAbort);
          startup.resolve(conn);
          startup = undefined;
          this.startOthers();
        }
        const closedWith = await conn.closed;
        this.live.delete(connIndex);
        o.metrics?.haConnectionEnded();
        serving = false;
        this.emit('disconnected', { connIndex, protocol, address, error: closedWith });
        if (connectionDisconnectedChannel.hasSubscribers) {
          connectionDisconnectedChannel.publish({ tunnelId: o.credentials.tunnelId, connIndex, protocol, error: closedWith });
        }
        if (this.stopping) return;
        error = closedWith ?? new Error('connection with edge closed');
      } catch (err) {
        error = err as Error;
        if (serving) o.metrics?.haConnectionEnded();
        if (err instanceof RegistrationError) o.metrics?.registrationFailed(err.isDuplicateConnection ? 'dup_edge_conn' : 'server_error');
        if (this.stopping) return;
        if (startup && !retriedAtStartup(err, o.retryUnauthorizedAtStartup ?? true)) {
          startup.signal?.removeEventListener('abort', startup.onAbort);
          startup.reject(err instanceof RegistrationError && err.isUnauthorized ? new UnauthorizedTokenError(err) : new InitialConnectionError(err));
          void this.shutdown(0);
          return;
        }
      }
      if (startup) startup.lastError = error;
      // §12.5 step 5: error level while nothing is up, warn otherwise.
      const level = this.live.size === 0 ? 'error' : 'warn';
      logger[level]({ connIndex, err: error, ip: address?.host }, 'Connection terminated');
      const cls = classifyError(error);
      let maxEdgeAddrRetriesReached = false;
      if (cls.rotateAddress && address !== undefined) {
        maxEdgeAddrRetriesReached = o.edgePool.giveBack(connIndex, { connectivityError: cls.connectivity }).maxRetriesReached;
      }
      const reported = address ?? { host: '', port: 0, family: 4 as const };
      this.emit('reconnecting', { connIndex, protocol, address: reported, error, delayMaxMs: backoff.announcedMaxMs, attempt: backoff.retries + 1 });
      logger.info({ connIndex }, `Retrying connection in up to ${backoff.announcedMaxMs / 1000}s`);
      await backoff.wait(this.stop.signal);
      if (this.stopping) return;
      const next = fallback.next(error, this.connectedWith.has(o.protocol.initial), backoff.reachedMaxRetries, maxEdgeAddrRetriesReached);
      if (next.switched) {
        logger.info({ connIndex }, `Switching to fallback protocol ${next.protocol}`);
        this.emit('protocol_fallback', { connIndex, from: protocol, to: next.protocol });
        backoff.reset();
      }
    }
  }

  /**
   * Graceful shutdown (§12.5): stop reconnecting, unregister every connection, let in-flight requests finish for up to
   * `graceMs`, then close everything.
   */
  async shutdown(graceMs = DEFAULT_GRACE_PERIOD_MS): Promise<void> {
    if (!this.stop.signal.aborted) this.stop.abort();
    const conns = [...this.live.values()];
    await Promise.allSettled(conns.map((c) => c.shutdown(graceMs)));
    for (const c of conns) c.close();
    await Promise.allSettled(this.loops);
  }
}
