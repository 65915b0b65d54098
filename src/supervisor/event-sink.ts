/**
 * The one place a connection's state changes are reported (docs/protocol.md §13): the supervisor's events (which the
 * Tunnel re-emits), diagnostics_channel and the Prometheus metrics, fed together from each call.
 */
import type { EventEmitter } from 'node:events';
import type { ConnectionDetails, TunnelProtocol } from '../connection/types.js';
import type { EdgeAddress } from '../edge-discovery/index.js';
import type { TunnelMetrics } from '../metrics/index.js';
import { connectionConnectedChannel, connectionDisconnectedChannel } from '../observability/diagnostics.js';
import { RegistrationError } from '../rpc/tunnel/registration-error.js';

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
  /** A dial starts; `recovery` marks a background QUIC attempt beside a serving HTTP/2 connection. */
  dialing: [event: ConnectionEvent & { recovery: boolean }];
  protocol_fallback: [event: { connIndex: number; from: TunnelProtocol; to: TunnelProtocol }];
  /** A QUIC connection registered for an index served over HTTP/2 and replaced it (docs/protocol.md §3.4). */
  protocol_restored: [event: { connIndex: number; from: TunnelProtocol; to: TunnelProtocol }];
  config: [event: { connIndex: number; version: number; err: string | null }];
}

/** Fans each state change out to the events, diagnostics_channel and metrics. */
export class SupervisorEventSink {
  constructor(
    private readonly events: EventEmitter<SupervisorEvents>,
    private readonly tunnelId: string,
    private readonly metrics: TunnelMetrics | undefined,
  ) {}

  /** A dial of one index starts (a connection loop is counted from here until {@link attemptEnded}). */
  dialing(event: SupervisorEvents['dialing'][0]): void {
    this.events.emit('dialing', event);
    this.metrics?.haConnectionStarted();
  }

  /** The attempt started with {@link dialing} is over (failed dial, or the connection ended). */
  attemptEnded(): void {
    this.metrics?.haConnectionEnded();
  }

  /** An attempt failed; a registration refusal is counted by kind (`connection/control.go`). */
  attemptFailed(err: unknown): void {
    if (err instanceof RegistrationError)
      this.metrics?.registrationFailed(err.isDuplicateConnection ? 'dup_edge_conn' : 'server_error');
  }

  connected(event: SupervisorEvents['connected'][0]): void {
    const { connIndex, protocol, address, details } = event;
    this.metrics?.registered(connIndex, details.locationName);
    this.events.emit('connected', event);
    if (connectionConnectedChannel.hasSubscribers) {
      connectionConnectedChannel.publish({
        tunnelId: this.tunnelId,
        connIndex,
        protocol,
        location: details.locationName,
        connectionId: details.uuid,
        edge: `${address.host}:${address.port}`,
      });
    }
  }

  disconnected(event: SupervisorEvents['disconnected'][0]): void {
    this.events.emit('disconnected', event);
    if (connectionDisconnectedChannel.hasSubscribers) {
      connectionDisconnectedChannel.publish({
        tunnelId: this.tunnelId,
        connIndex: event.connIndex,
        protocol: event.protocol,
        error: event.error,
      });
    }
  }
}
