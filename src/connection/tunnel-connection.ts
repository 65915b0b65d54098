/** The interface the supervisor sees of a registered tunnel connection, whatever its transport. */
import type { EventEmitter } from 'node:events';
import type { ConnectionDetails, TunnelProtocol } from './types.js';

/** Events of a {@link TunnelConnection}. */
export interface TunnelConnectionEvents {
  /** A configuration push was answered. */
  config: [version: number, err: string | null];
}

/** One registered connection to the edge. */
export interface TunnelConnection extends EventEmitter<TunnelConnectionEvents> {
  readonly protocol: TunnelProtocol;
  readonly connIndex: number;
  readonly details: ConnectionDetails;
  /** Requests currently being served. */
  readonly activeRequests: number;
  /** Local UDP port of a QUIC connection (reused by the next attempt of the same index, §5.2). */
  readonly localPort?: number;
  /** Settles when the connection ends: `undefined` after our own close, else the cause. Never rejects. */
  readonly closed: Promise<Error | undefined>;
  /** Graceful shutdown: unregister, drain in-flight requests for up to `graceMs`, close. */
  shutdown(graceMs: number): Promise<void>;
  /** Immediate close. */
  close(): void;
}
