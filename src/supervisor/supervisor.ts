/**
 * The run loop (docs/protocol.md §12): connection 0 first, the other HA connections one second apart once it registered,
 * each index reconnecting forever with its own backoff and protocol fallback; graceful shutdown unregisters and
 * drains every connection.
 */
import { EventEmitter } from 'node:events';
import type { TunnelLogger as Logger } from '../util/logger.js';
import type { TunnelConnection } from '../connection/tunnel-connection.js';
import type { ConnectionContext, ConnectionSettings, TunnelProtocol, TunnelSettings } from '../connection/types.js';
import type { ConnectorIdentity } from '../connection/identity.js';
import { CftunnelError } from '../errors.js';
import { EdgeConnectionClosedError } from '../connection/errors.js';
import { SupervisorEventSink, type SupervisorEvents } from './event-sink.js';
import type { Orchestrator } from '../orchestration/orchestrator.js';
import { RegistrationError } from '../rpc/tunnel/registration-error.js';
import type { TunnelCredentials } from '../token/index.js';
import { QuicUnavailableError } from '../transport/quic/index.js';
import { Backoff, systemClock, type BackoffClock } from './backoff.js';
import { dialTunnelConnection, type DialSettings } from './dial.js';
import type { EdgeAddress, EdgeAddressPool } from '../edge-discovery/index.js';
import type { TunnelMetrics } from '../metrics/index.js';
import {
  ProtocolFallback,
  classifyError,
  fallsBackAtOnce,
  quicPathBlocked,
  type ProtocolSelection,
} from './protocol.js';

/** Default number of HA connections (§12.1). */
export const DEFAULT_HA_CONNECTIONS = 4;
/** Spacing between starting connections 1..N-1 (§12.1). */
export const HA_CONNECTION_SPACING_MS = 1_000;
/** Default `--grace-period` (§12.1). */
export const DEFAULT_GRACE_PERIOD_MS = 30_000;
/** First wait before trying QUIC again after the UDP-blocked fallback (docs/protocol.md §3.4, cftunnel's rule). */
export const QUIC_RECOVERY_BASE_MS = 30_000;
/** Longest wait between two QUIC recovery attempts. */
export const QUIC_RECOVERY_MAX_MS = 8 * 60_000;

/**
 * cloudflared's warning when QUIC looks broken (supervisor/tunnel.go, `selectNextProtocol`), logged once per process
 * when cftunnel falls back because UDP to the edge is blocked.
 */
export const UDP_BLOCKED_WARNING =
  'If this log occurs persistently, and cloudflared is unable to connect to Cloudflare Network with `quic` protocol, ' +
  'then most likely your machine/network is getting its egress UDP to port 7844 (or others) blocked or dropped. ' +
  'Make sure to allow egress connectivity as per ' +
  'https://developers.cloudflare.com/cloudflare-one/connections/connect-apps/configuration/ports-and-ips/\n' +
  'If you are using private routing to this Tunnel, then ICMP, UDP (and Private DNS Resolution) will not work ' +
  'unless your cloudflared can connect with Cloudflare Network with `quic`.';

/** Wait before the `failures`-th consecutive failed QUIC recovery attempt's successor. */
export function quicRecoveryDelayMs(failures: number): number {
  return Math.min(QUIC_RECOVERY_BASE_MS * 2 ** failures, QUIC_RECOVERY_MAX_MS);
}

/**
 * The run loop's settings: the `supervisor` group of the resolved tunnel settings (`tunnel-options.ts`: validated,
 * defaults applied, internal hooks folded in, frozen). The supervisor reads it, and hands its `connection` and `dial`
 * groups to connections and dials by reference.
 */
export interface SupervisorSettings {
  /** HA connections requested (§12.1); the edge pool may cap them (§2.5). */
  readonly haConnections: number;
  /** Spacing between starting connections 1..N-1 (§12.1). */
  readonly haSpacingMs: number;
  /** `--retries`: backoff exponent cap and fallback trigger (§12.3). */
  readonly retries: number;
  /**
   * Keep retrying index 0 when the edge answers `Unauthorized` before the first registration (cloudflared, §6.7:
   * assumed propagation lag of a new tunnel); when false, startup rejects with {@link UnauthorizedTokenError}.
   */
  readonly retryUnauthorizedAtStartup: boolean;
  readonly connection: ConnectionSettings;
  readonly dial: DialSettings;
}

/** What the Tunnel hands the {@link Supervisor}: its settings and the live objects the run loop works with. */
export interface SupervisorOptions {
  readonly settings: SupervisorSettings;
  readonly credentials: TunnelCredentials;
  readonly identity: ConnectorIdentity;
  readonly orchestrator: Orchestrator;
  readonly logger: Logger;
  /** Edge addresses, handed out per HA index and rotated after failures (§2.5, §2.6). */
  readonly edgePool: EdgeAddressPool;
  readonly protocol: ProtocolSelection;
  /** JSON pushed with `updateLocalConfiguration` when the tunnel is locally managed (§6.8). */
  readonly localConfig?: Buffer;
  readonly clock?: BackoffClock;
  /** Prometheus metrics of this tunnel (§13.2). */
  readonly metrics?: TunnelMetrics;
  /** Key-exchange groups for HTTP/2 TLS (§4.4), e.g. `P-256`; logged per attempt like cloudflared. */
  readonly http2Curves?: { ecdhCurve: string; logMessage: string };
}

export type { SupervisorEvents } from './event-sink.js';

/** Startup failed for a reason retrying cannot fix (§12.2 `initial tunnel connection failed`). */
export class InitialConnectionError extends CftunnelError {
  constructor(cause: unknown) {
    super('CFT_ERR_INITIAL_CONNECTION', `initial tunnel connection failed: ${(cause as Error).message}`, {
      retryable: false,
      cause,
    });
  }
}

/** The edge refused the tunnel's credentials for good (`Unauthorized`) before the first registration. */
export class UnauthorizedTokenError extends CftunnelError {
  /** The edge's reason, e.g. `Unauthorized: Failed to authenticate tunnel`. */
  readonly reason: string;

  constructor(cause: RegistrationError) {
    super('CFT_ERR_UNAUTHORIZED', `the edge refused the tunnel token: ${cause.serverCause}`, {
      retryable: false,
      cause,
    });
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
  /** UDP to the edge looks blocked: QUIC attempts are left to the recovery task (docs/protocol.md §3.4). */
  private udpBlocked = false;
  /** UDP looked blocked at some point: from then on `auto` indexes not serving return to QUIC once it works. */
  private udpWasBlocked = false;
  private recovery: Promise<void> | undefined;
  /** Consecutive failed recovery attempts; the next wait grows with it (reset once a QUIC connection registered). */
  private recoveryFailures = 0;
  /** Per index serving HTTP/2: hands it a registered QUIC connection that replaces the HTTP/2 one. */
  private readonly handovers = new Map<number, (conn: TunnelConnection, address: EdgeAddress) => boolean>();
  /** HTTP/2 connections replaced by QUIC ones, still draining. */
  private readonly draining = new Set<TunnelConnection>();

  /** Events, diagnostics_channel and metrics of connection state changes, fed together. */
  private readonly sink: SupervisorEventSink;
  /** What every connection shares, built once. */
  private readonly tunnelSettings: TunnelSettings;

  constructor(private readonly options: SupervisorOptions) {
    super();
    this.sink = new SupervisorEventSink(this, options.credentials.tunnelId, options.metrics);
    const o = options;
    this.tunnelSettings = {
      credentials: o.credentials,
      identity: o.identity,
      orchestrator: o.orchestrator,
      logger: o.logger,
      settings: o.settings.connection,
      localConfig: o.localConfig,
      metrics: o.metrics,
    };
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
      const settleStart: StartupSettlement = {
        resolve,
        reject,
        onAbort: () => undefined,
        signal,
        lastError: undefined,
      };
      // The cause is what kept startup from succeeding (the last connection error), not the abort itself.
      settleStart.onAbort = (): void => {
        reject(
          new CftunnelError('CFT_ERR_ABORTED', 'tunnel startup aborted', {
            cause: settleStart.lastError ?? signal?.reason,
          }),
        );
        void this.shutdown(0);
      };
      if (signal?.aborted) return settleStart.onAbort();
      signal?.addEventListener('abort', settleStart.onAbort, { once: true });
      this.loops.push(this.runIndex(0, settleStart));
    });
  }

  private startOthers(): void {
    // §2.5: never more HA connections than the pool has addresses.
    // Index 0 already holds its address: the total requested is compared with what it holds plus what is free.
    const cap = this.options.edgePool.capHaConnections(this.options.settings.haConnections, 1);
    if (cap.message !== undefined) this.options.logger.info(cap.message);
    const n = cap.haConnections;
    void (async () => {
      for (let i = 1; i < n; i++) {
        await this.clock.sleep(this.options.settings.haSpacingMs, this.stop.signal);
        if (this.stopping) return;
        this.loops.push(this.runIndex(i));
      }
    })();
  }

  private context(connIndex: number, backoff: Backoff): ConnectionContext {
    return { tunnel: this.tunnelSettings, connIndex, numPreviousAttempts: backoff.retries };
  }

  /** Dials and registers one connection with the shared dial settings. */
  private dial(
    protocol: TunnelProtocol,
    address: EdgeAddress,
    ctx: ConnectionContext,
    quicLocalPort: number | undefined,
  ): Promise<TunnelConnection> {
    return dialTunnelConnection(protocol, address, ctx, this.options.settings.dial, {
      ecdhCurve: this.options.http2Curves?.ecdhCurve,
      quicLocalPort,
      signal: this.stop.signal,
    });
  }

  /** Bookkeeping of a registered connection: live set, metrics, log, events. */
  private adopt(connIndex: number, protocol: TunnelProtocol, address: EdgeAddress, conn: TunnelConnection): void {
    const o = this.options;
    this.connectedWith.add(protocol);
    this.live.set(connIndex, conn);
    conn.on('config', (version, err) => this.emit('config', { connIndex, version, err }));
    o.logger.info(
      {
        connIndex,
        connection: conn.details.uuid,
        event: 0,
        ip: address.host,
        location: conn.details.locationName,
        protocol,
      },
      'Registered tunnel connection',
    );
    this.sink.connected({ connIndex, protocol, address, details: conn.details });
  }

  /**
   * cftunnel's rule (docs/protocol.md §3.4): a QUIC dial that says UDP is blocked moves this index, and every index
   * that has not connected yet, to HTTP/2 at once; QUIC is retried in the background.
   */
  private onUdpBlocked(connIndex: number): void {
    this.udpBlocked = true;
    if (!this.udpWasBlocked) {
      this.udpWasBlocked = true;
      this.options.logger.warn({ connIndex }, UDP_BLOCKED_WARNING);
    }
    this.recovery ??= this.recoverQuic().finally(() => (this.recovery = undefined));
  }

  private switchProtocol(connIndex: number, fallback: ProtocolFallback, to: TunnelProtocol): void {
    const from = fallback.protocol;
    fallback.switchTo(to);
    this.options.logger.info({ connIndex }, `Switching to fallback protocol ${to}`);
    this.emit('protocol_fallback', { connIndex, from, to });
  }

  /**
   * While UDP looks blocked: every so often (30 s doubling to 8 min) dial QUIC and register it for the lowest index
   * served over HTTP/2, beside that connection; only once it registered does it replace the HTTP/2 one. Once QUIC
   * works, the other HTTP/2 indexes follow one HA spacing apart (docs/protocol.md §3.4, cftunnel's rule).
   */
  private async recoverQuic(): Promise<void> {
    const o = this.options;
    while (!this.stopping) {
      await this.clock.sleep(
        this.udpBlocked ? quicRecoveryDelayMs(this.recoveryFailures) : o.settings.haSpacingMs,
        this.stop.signal,
      );
      if (this.stopping) return;
      const target = [...this.handovers.keys()].sort((a, b) => a - b)[0];
      if (target === undefined) {
        if (!this.udpBlocked) return;
        // No index serves HTTP/2 to try QUIC beside (TCP is failing too): let the reconnecting indexes try QUIC once
        // more themselves; the first that finds UDP still blocked sets the flag again.
        this.udpBlocked = false;
        this.recoveryFailures++;
        continue;
      }
      let address: EdgeAddress;
      let conn: TunnelConnection;
      let dialing = false;
      try {
        address = o.edgePool.getAddr(target);
        this.sink.dialing({ connIndex: target, protocol: 'quic', address, recovery: true });
        dialing = true;
        conn = await this.dial(
          'quic',
          address,
          this.context(target, new Backoff(undefined, undefined, this.clock)),
          undefined,
        );
      } catch (err) {
        if (dialing) this.sink.attemptEnded();
        if (this.stopping) return;
        o.logger.debug({ connIndex: target, err }, 'QUIC still unavailable, staying on HTTP/2');
        if (quicPathBlocked(err)) this.udpBlocked = true;
        this.recoveryFailures++;
        continue;
      }
      this.udpBlocked = false;
      this.recoveryFailures = 0;
      const handover = this.handovers.get(target);
      if (this.stopping || handover === undefined || !handover(conn, address)) {
        // The HTTP/2 connection ended meanwhile (its index reconnects by itself) or shutdown began.
        this.sink.attemptEnded();
        conn.close();
      }
    }
  }

  /** Serves `conn` until it closes, following handovers to QUIC; resolves with the error the last one closed with. */
  private async serve(
    connIndex: number,
    fallback: ProtocolFallback,
    protocol: TunnelProtocol,
    first: TunnelConnection,
  ): Promise<Error | undefined> {
    const o = this.options;
    let conn = first;
    for (;;) {
      if (protocol !== 'http2' || !fallsBackAtOnce(o.protocol)) return conn.closed;
      let handed: TunnelConnection | undefined;
      let handedAddress: EdgeAddress | undefined;
      let wake: () => void = () => undefined;
      const handedOver = new Promise<void>((resolve) => (wake = resolve));
      this.handovers.set(connIndex, (next, address) => {
        if (handed !== undefined) return false;
        handed = next;
        handedAddress = address;
        wake();
        return true;
      });
      const closedWith = await Promise.race([conn.closed, handedOver.then(() => undefined)]);
      this.handovers.delete(connIndex);
      if (handed === undefined) return closedWith;
      // The QUIC connection registered: it takes the index, then the HTTP/2 one unregisters and drains (§12.5).
      const old = conn;
      conn = handed;
      protocol = 'quic';
      fallback.switchTo('quic');
      fallback.onConnected();
      this.adopt(connIndex, 'quic', handedAddress!, conn);
      o.logger.info({ connIndex }, 'QUIC works again: replacing the HTTP/2 connection');
      this.emit('protocol_restored', { connIndex, from: 'http2', to: 'quic' });
      this.draining.add(old);
      void old
        .shutdown(DEFAULT_GRACE_PERIOD_MS)
        .catch(() => undefined)
        .finally(() => {
          old.close();
          this.draining.delete(old);
          this.sink.attemptEnded();
        });
    }
  }

  private async runIndex(connIndex: number, startup?: StartupSettlement): Promise<void> {
    const o = this.options;
    const { logger } = o;
    const backoff = new Backoff(o.settings.retries, undefined, this.clock);
    const fallback = new ProtocolFallback(o.protocol, connIndex === 0 ? o.protocol.initial : this.indexZeroProtocol);
    const atOnce = fallsBackAtOnce(o.protocol);
    // §5.2: reconnects of one index try the UDP port its first QUIC connection got.
    let quicLocalPort: number | undefined;
    while (!this.stopping) {
      // cftunnel's rule (§3.4): while UDP looks blocked only the recovery task dials QUIC; once it registered a
      // QUIC connection, indexes that are not serving come back to QUIC on their next attempt.
      if (atOnce && this.udpBlocked && fallback.protocol === 'quic') this.switchProtocol(connIndex, fallback, 'http2');
      else if (atOnce && !this.udpBlocked && this.udpWasBlocked && fallback.protocol === 'http2')
        fallback.switchTo('quic');
      let protocol = fallback.protocol;
      let address: EdgeAddress | undefined;
      let error: Error;
      let serving = false;
      try {
        address = o.edgePool.getAddr(connIndex);
        if (protocol === 'http2' && o.http2Curves !== undefined) logger.info({ connIndex }, o.http2Curves.logMessage);
        this.sink.dialing({ connIndex, protocol, address, recovery: false });
        serving = true;
        const conn = await this.dial(protocol, address, this.context(connIndex, backoff), quicLocalPort);
        quicLocalPort ??= conn.localPort;
        if (this.stopping) {
          conn.close();
          return;
        }
        backoff.reset();
        fallback.onConnected();
        this.adopt(connIndex, protocol, address, conn);
        if (startup) {
          this.indexZeroProtocol = protocol;
          startup.signal?.removeEventListener('abort', startup.onAbort);
          startup.resolve(conn);
          startup = undefined;
          this.startOthers();
        }
        const closedWith = await this.serve(connIndex, fallback, protocol, conn);
        // A handover to QUIC may have replaced the connection this index started with.
        protocol = fallback.protocol;
        this.live.delete(connIndex);
        this.sink.attemptEnded();
        serving = false;
        this.sink.disconnected({ connIndex, protocol, address, error: closedWith });
        if (this.stopping) return;
        error = closedWith ?? new EdgeConnectionClosedError();
      } catch (err) {
        error = err as Error;
        if (serving) this.sink.attemptEnded();
        this.sink.attemptFailed(err);
        if (this.stopping) return;
        if (atOnce && protocol === 'quic' && quicPathBlocked(err)) {
          // cftunnel's rule (§3.4): no backoff, no retry count; HTTP/2 now, QUIC again in the background.
          logger.warn({ connIndex, err, ip: address?.host }, 'Connection terminated');
          this.onUdpBlocked(connIndex);
          this.switchProtocol(connIndex, fallback, 'http2');
          backoff.reset();
          continue;
        }
        if (startup && !retriedAtStartup(err, o.settings.retryUnauthorizedAtStartup)) {
          startup.signal?.removeEventListener('abort', startup.onAbort);
          startup.reject(
            err instanceof RegistrationError && err.isUnauthorized
              ? new UnauthorizedTokenError(err)
              : new InitialConnectionError(err),
          );
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
        maxEdgeAddrRetriesReached = o.edgePool.giveBack(connIndex, {
          connectivityError: cls.connectivity,
        }).maxRetriesReached;
      }
      const reported = address ?? { host: '', port: 0, family: 4 as const };
      this.emit('reconnecting', {
        connIndex,
        protocol,
        address: reported,
        error,
        delayMaxMs: backoff.announcedMaxMs,
        attempt: backoff.retries + 1,
      });
      logger.info({ connIndex }, `Retrying connection in up to ${backoff.announcedMaxMs / 1000}s`);
      await backoff.wait(this.stop.signal);
      if (this.stopping) return;
      if (atOnce && this.udpBlocked && fallback.protocol === 'http2') continue;
      const next = fallback.next(
        error,
        this.connectedWith.has(o.protocol.initial),
        backoff.reachedMaxRetries,
        maxEdgeAddrRetriesReached,
      );
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
    const conns = [...this.live.values(), ...this.draining];
    await Promise.allSettled(conns.map((c) => c.shutdown(graceMs)));
    for (const c of conns) c.close();
    await Promise.allSettled([...this.loops, this.recovery]);
  }
}
