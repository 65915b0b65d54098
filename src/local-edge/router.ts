/**
 * What the local edge's transport sides (QUIC, HTTP/2), registration handlers and visitor listeners need of the edge:
 * connection tracking, registration, routing a visitor to a connector, ray ids and the raw-TCP result event. The
 * sides depend on this interface, not on the `LocalEdge` class that starts them, so no file imports the other
 * back.
 */
import type { EdgeSideConnection } from './edge-connection.js';
import type { RegistrationDecision, RegistrationRequest } from './types.js';

/** What a raw TCP listener reports after the connector answered a private-network flow. */
export interface TcpFlowResult {
  destination: string;
  ok: boolean;
  error: string | undefined;
}

/** The edge as its parts see it; `LocalEdge` implements it. */
export interface EdgeRouter {
  /** Called for every new connection, so that close() and dropAll() reach it. */
  track(conn: EdgeSideConnection): void;
  /** A connector called `registerConnection`: check the tunnel and its secret, then decide. */
  handleRegistration(
    conn: EdgeSideConnection,
    req: RegistrationRequest,
    secret: Buffer,
  ): Promise<RegistrationDecision & { uuid?: string }>;
  /** A connector called `unregisterConnection`. */
  handleUnregister(conn: EdgeSideConnection): void;
  /** A connector called `updateLocalConfiguration` (docs/protocol.md §9.4). */
  handleLocalConfiguration(conn: EdgeSideConnection, config: Buffer): void;
  /** A registered connection for a visitor's host, or undefined when none serves it. */
  route(host: string): EdgeSideConnection | undefined;
  /** Next `Cf-Ray` value. */
  nextRay(): string;
  /** Reports a raw TCP flow's outcome (the `tcp_result` event). */
  emit(event: 'tcp_result', result: TcpFlowResult): boolean;
}
