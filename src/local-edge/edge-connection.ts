/**
 * The edge's side of one connector connection, whatever the transport: registration bookkeeping shared by the
 * QUIC and HTTP/2 sides, and the operations the visitor listeners and the API use.
 */
import { EventEmitter } from 'node:events';
import type { ConfigPushResult, EdgeConnectionInfo, EdgeProtocol, TunnelRequest, TunnelResponse } from './types.js';

/** Events of an {@link EdgeSideConnection}. */
export interface EdgeSideConnectionEvents {
  close: [];
}

/** One connector connection as the edge drives it. */
export abstract class EdgeSideConnection extends EventEmitter<EdgeSideConnectionEvents> {
  /** Set once the connector registered successfully. */
  info: EdgeConnectionInfo | undefined;
  /** True after the connector called `unregisterConnection`: no new requests are routed to it. */
  unregistered = false;
  closed = false;

  constructor(
    readonly protocol: EdgeProtocol,
    readonly remoteAddress: string,
  ) {
    super();
  }

  /** Sends a visitor request to the connector. */
  abstract send(req: TunnelRequest): Promise<TunnelResponse>;
  /** Pushes a configuration (`config` is the JSON document of docs/protocol.md §9.2). */
  abstract pushConfig(version: number, config: string): Promise<ConfigPushResult>;
  /** Drops the connection without any goodbye (a test fault). */
  abstract drop(): void;

  /** Marks the connection closed once; emits `close`. */
  protected markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}
