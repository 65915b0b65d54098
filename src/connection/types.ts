/**
 * What a tunnel connection (one registered QUIC or HTTP/2 connection to the edge) needs from the layers above it,
 * and what it offers them. Transports and connections never import the supervisor; the supervisor hands them this.
 */
import type { TunnelLogger as Logger } from '../util/logger.js';
import type { TunnelCredentials } from '../token/index.js';
import type { Orchestrator } from '../orchestration/orchestrator.js';
import type { ConnectorIdentity } from './identity.js';

// One definition each, below the connection layer; re-exported because the connection layer speaks in them.
export type { TunnelProtocol } from '../transport/protocol.js';
export type { ConnectionDetails } from '../rpc/tunnel/connection-details.js';

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
  /** Timings every connection reads: the resolved tunnel settings' `connection` group, by reference. */
  readonly settings: ConnectionSettings;
  /** JSON pushed with `updateLocalConfiguration` when the edge says the tunnel is not remotely managed (§6.8). */
  readonly localConfig?: Buffer;
  /** RPC metrics; absent ⇒ not counted. */
  readonly metrics?: ConnectionMetrics;
}

/** The timings of every connection, resolved once with the tunnel's options (defaults applied). */
export interface ConnectionSettings {
  /** Bound on each RPC with the edge and on serving an edge-opened RPC stream (§6.6, §7.5, HEAD `--rpc-timeout`). */
  readonly rpcTimeoutMs: number;
  /** HTTP/2 liveness PING interval (§8.1); only HTTP/2 connections read it. */
  readonly http2PingIntervalMs: number;
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
