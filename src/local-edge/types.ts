/** Shapes shared by the local edge's transports, its visitor listeners and its public API. */
import type { Duplex, Readable } from 'node:stream';

import type { TunnelProtocol } from '../transport/protocol.js';

/** Transport of a connector's connection to the local edge: the connector's {@link TunnelProtocol}. */
export type EdgeProtocol = TunnelProtocol;

/** What a connector sent in `registerConnection` (docs/protocol.md §6.6), as the edge decoded it. */
export interface RegistrationRequest {
  accountTag: string;
  /** Canonical UUID of the tunnel. */
  tunnelId: string;
  connIndex: number;
  /** Connector id (canonical UUID of `ClientInfo.clientId`). */
  clientId: string;
  features: string[];
  version: string;
  arch: string;
  /** `originLocalIp` as text. */
  originLocalIp: string;
  replaceExisting: boolean;
  compressionQuality: number;
  numPreviousAttempts: number;
}

/** How the edge answers a registration (tests set this to provoke each error path of §6.7). */
export type RegistrationDecision =
  | { accept: true; locationName?: string; tunnelIsRemotelyManaged?: boolean }
  | { accept: false; cause: string; shouldRetry: boolean; retryAfterSeconds?: number };

/** A request from a visitor, on its way to a connector. */
export interface TunnelRequest {
  type: 'http' | 'websocket' | 'tcp';
  method: string;
  /** Host the visitor asked for (no port for the default port). */
  host: string;
  /** Path and query. */
  path: string;
  /** Request headers (visitor's plus the edge's own), Go-canonical names, in order. */
  headers: Array<[string, string]>;
  /** Body stream or null. For websocket/tcp this is the visitor→origin byte stream. */
  body: Readable | null;
  /** `ip:port` destination for `tcp` requests. */
  dest?: string;
  /** Visitor address (for Cf-Connecting-Ip / proxy-src). */
  visitorAddress: string;
  /** Aborted when the visitor leaves before the response: the tunnel stream is then cancelled. */
  signal?: AbortSignal;
}

/** The connector's answer. */
export type TunnelResponse =
  | {
      ok: true;
      status: number;
      /** Response headers; values are byte strings (one char per byte, as the connector sent them). */
      headers: Array<[string, string]>;
      /** Response body; for websocket/tcp the connection both ways. */
      stream: Duplex | Readable;
      /** What the connector sent, as received (QUIC: the ConnectResponse; HTTP/2: the header block). */
      wire: WireResponse;
    }
  | { ok: false; error: string; wire: WireResponse };

/** The connector's answer as it was on the wire, for conformance checks. */
export type WireResponse =
  | { protocol: 'quic'; connectResponse: { error: string; metadata: Array<{ key: string; val: string }> } }
  | { protocol: 'http2'; headers: Array<[string, string]> };

/** A connection as the edge tracks it. */
export interface EdgeConnectionInfo {
  /** The edge's id for it (the `uuid` of ConnectionDetails). */
  id: string;
  protocol: EdgeProtocol;
  tunnelId: string;
  connIndex: number;
  registration: RegistrationRequest;
  remoteAddress: string;
}

/** What the connector answered to a configuration push. */
export interface ConfigPushResult {
  connectionId: string;
  connIndex: number;
  protocol: EdgeProtocol;
  latestAppliedVersion: number;
  /** Error text (QUIC) or the JSON `err` value (HTTP/2, where Go drops the text). */
  err: string | null;
}
