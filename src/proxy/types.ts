/** Transport-neutral request/response shapes exchanged between the connection layers and the origin proxy. */
import type { Duplex, Readable } from 'node:stream';

/** One edge request, as the QUIC or HTTP/2 layer hands it over (PROTOCOL.md §7.2, §8.5). */
export interface OriginRequest {
  /** Request method, e.g. `GET`. */
  method: string;
  /** Absolute eyeball URL (ConnectRequest.dest, or HTTP/2 scheme + authority + :path). Only path+query are used. */
  url: string;
  /** Eyeball host (`HttpHost` / `:authority`), sent as `Host` unless `httpHostHeader` overrides it. */
  host: string;
  /** Edge request headers in order; repeated names allowed. */
  headers: Array<[string, string]>;
  /** Request body, or `null` when {@link requestHasBody} says there is none (PROTOCOL.md §7.2). */
  body: Readable | null;
  /** True for `type=websocket` (QUIC) or the `websocket` upgrade header (HTTP/2). */
  isWebsocket: boolean;
  /** Connector UUID, sent as `Cf-Warp-Tag-Id` (PROTOCOL.md §1.4, §10.6). */
  connectorId: string;
}

/** The origin's answer. */
export interface OriginResponse {
  /** HTTP status; 101 for an accepted WebSocket upgrade. */
  status: number;
  /** Response headers in order, Go-canonical names, `Transfer-Encoding` removed (PROTOCOL.md §10.6). */
  headers: Array<[string, string]>;
  /** De-chunked body, streaming with backpressure; `null` for `http_status:` services and upgrades. */
  body: Readable | null;
  /** For a 101 answer: the upgraded origin connection, to pipe both ways. */
  socket?: Duplex;
}

/** One configured origin (an ingress rule's service). */
export interface OriginService {
  /**
   * Sends one request. Rejects with an `OriginError` when the origin cannot be reached or the signal aborts before
   * the response headers arrive; after that, failures surface as an error on `body`.
   */
  roundTrip(req: OriginRequest, signal: AbortSignal): Promise<OriginResponse>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

/** `originRequest` options (PROTOCOL.md §10.5), durations in milliseconds. */
export interface OriginRequestOptions {
  /** TCP (and, with undici, TLS) connect timeout. Default 30 s. */
  connectTimeoutMs?: number;
  /** TCP keep-alive period on origin connections. Default 30 s. */
  tcpKeepAliveMs?: number;
  /** Idle pooled connection lifetime. Default 90 s. */
  keepAliveTimeoutMs?: number;
  /** Replaces the outbound `Host`; the original goes to `X-Forwarded-Host`. */
  httpHostHeader?: string;
  /** TLS SNI / certificate name for HTTPS origins. */
  originServerName?: string;
  /** Path of an extra PEM bundle trusted for origin certificates. */
  caPool?: string;
  /** Skip origin certificate verification. */
  noTLSVerify?: boolean;
  /** `--tag Name=Value` pairs, sent as `Cf-Warp-Tag-<Name>` after `Cf-Warp-Tag-Id`. */
  tags?: Array<[string, string]>;
}
