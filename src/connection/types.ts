/**
 * What a tunnel connection (one registered QUIC or HTTP/2 connection to the edge) needs from the layers above it,
 * and what it offers them. Transports and connections never import the supervisor; the supervisor hands them this.
 */
import type { TunnelLogger as Logger } from '../util/logger.js';
import type { TunnelCredentials } from '../token/index.js';
import type { Orchestrator } from '../orchestration/orchestrator.js';
import type { ConnectorIdentity } from './identity.js';

/** Transport of a tunnel connection (docs/protocol.md §3.1). */
export type TunnelProtocol = 'quic' | 'http2';

/** The edge's answer to a successful `registerConnection` (§6.7). */
export interface ConnectionDetails {
  /** The edge's id for this connection (16 bytes, shown as a UUID). */
  readonly uuid: string;
  /** Edge location code, e.g. `TST` or `lhr01`. */
  readonly locationName: string;
  readonly tunnelIsRemotelyManaged: boolean;
}

/** What the connection layer tells observers (metrics, logs, diagnostics_channel, library events) per request. */
export interface RequestInfo {
  readonly connIndex: number;
  readonly protocol: TunnelProtocol;
  readonly method: string;
  /** Eyeball URL as the edge sent it. */
  readonly url: string;
  readonly host: string;
  readonly isWebsocket: boolean;
  /** `Cf-Ray` header, when the edge sent one. */
  readonly cfRay: string | undefined;
}

/** Per-request callbacks; every method must be cheap and must not throw. */
export interface RequestHandle {
  /** The origin answered (status as received from the origin, before any 101→200 rewrite). */
  response(status: number): void;
  /** The request is over; `error` when it failed (before or after the response). */
  end(error?: Error): void;
}

/** Observes the requests a connection serves. */
export interface RequestObserver {
  start(info: RequestInfo): RequestHandle;
}

/**
 * The RPC and configuration-push metrics a connection updates where the calls happen (docs/protocol.md §13.2; the
 * tunnel's `TunnelMetrics` implements it).
 */
export interface ConnectionMetrics {
  /** Runs an RPC the connector calls on the control stream, counting it, its failure and its latency. */
  observeRpcClient<T>(
    handler: 'registration',
    method: 'register_connection' | 'unregister_connection' | 'update_local_configuration',
    call: () => Promise<T>,
  ): Promise<T>;
  /** Runs an RPC the edge calls on a QUIC RPC stream (§7.5). */
  observeRpcServer<T>(
    handler: 'config' | 'session',
    method: 'update_configuration' | 'register_udp_session' | 'unregister_udp_session',
    call: () => Promise<T>,
  ): Promise<T>;
  /** An `updateLocalConfiguration` push ended (§6.8). */
  localConfigPushed(ok: boolean): void;
}

/**
 * What every connection of one tunnel shares, resolved once when the tunnel starts (defaults applied): per-process
 * inputs, never copied per attempt.
 */
export interface TunnelSettings {
  readonly credentials: TunnelCredentials;
  readonly identity: ConnectorIdentity;
  /** Hands out the current origin proxy per request and applies configuration pushes. */
  readonly orchestrator: Orchestrator;
  readonly logger: Logger;
  /** Bound on `registerConnection` (§6.6, HEAD `--rpc-timeout`). */
  readonly rpcTimeoutMs: number;
  /** JSON pushed with `updateLocalConfiguration` when the edge says the tunnel is not remotely managed (§6.8). */
  readonly localConfig?: Buffer;
  /** Request lifecycle observer (metrics, events); absent ⇒ nothing is observed. */
  readonly observer?: RequestObserver;
  /** RPC metrics; absent ⇒ not counted. */
  readonly metrics?: ConnectionMetrics;
  /** Settings only HTTP/2 connections read. */
  readonly http2: Http2Settings;
}

/** Settings of HTTP/2 connections only. */
export interface Http2Settings {
  /** Liveness PING interval (§8.1). */
  readonly pingIntervalMs: number;
}

/** One connection attempt: the tunnel's settings and what is particular to this attempt. */
export interface ConnectionContext {
  readonly tunnel: TunnelSettings;
  /** HA connection index 0..n-1. */
  readonly connIndex: number;
  /** Per-index backoff retry counter (§6.6). */
  readonly numPreviousAttempts: number;
}

/** Default `--rpc-timeout` (§6.6). */
export const DEFAULT_RPC_TIMEOUT_MS = 5_000;
