/** Transport-neutral request/response shapes exchanged between the connection layers and the origin proxy. */
import type { Duplex, Readable } from 'node:stream';
import type { TunnelProtocol } from '../transport/protocol.js';

/** One edge request, as the QUIC or HTTP/2 layer hands it over (docs/protocol.md §7.2, §8.5). */
export interface OriginRequest {
  /** Request method, e.g. `GET`. */
  method: string;
  /** Absolute eyeball URL (ConnectRequest.dest, or HTTP/2 scheme + authority + :path). Only path+query are used. */
  url: string;
  /** Eyeball host (`HttpHost` / `:authority`), sent as `Host` unless `httpHostHeader` overrides it. */
  host: string;
  /** Edge request headers in order; repeated names allowed. */
  headers: Array<[string, string]>;
  /** Request body, or `null` when {@link requestHasBody} says there is none (docs/protocol.md §7.2). */
  body: Readable | null;
  /** True for `type=websocket` (QUIC) or the `websocket` upgrade header (HTTP/2). */
  isWebsocket: boolean;
  /** Connector UUID, sent as `Cf-Warp-Tag-Id` (docs/protocol.md §1.4, §10.6). */
  connectorId: string;
}

/** The origin's answer. */
export interface OriginResponse {
  /** HTTP status; 101 for an accepted WebSocket upgrade. */
  status: number;
  /**
   * Response headers in order, Go-canonical names, `Transfer-Encoding` removed (docs/protocol.md §10.6). Values are
   * byte strings: each char is one byte (0-255) as the origin sent it, so bytes that are no UTF-8 reach the edge
   * unchanged (a char above 0xFF is sent as UTF-8).
   */
  headers: Array<[string, string]>;
  /** De-chunked body, streaming with backpressure; `null` for `http_status:` services and upgrades. */
  body: Readable | null;
  /** For a 101 answer: the byte stream to relay both ways with the edge side (origin socket or WebSocket server). */
  socket?: Duplex;
  /**
   * Trailers of an HTTP origin response (e.g. gRPC `Grpc-Status`), Go-canonical names; resolves once the body has
   * ended (empty when there were none or the body failed). Only HTTP/2 towards the edge can carry them (§8.5).
   */
  trailers?: Promise<Array<[string, string]>>;
}

/** One configured origin (an ingress rule's service). */
export interface OriginService {
  /**
   * Sends one request. Rejects with an `OriginError` when the origin cannot be reached or the signal aborts before
   * the response headers arrive; after that, failures surface as an error on `body`. The signal belongs to this
   * request only while it is served: once it is over, a signal that never aborted and has no listener left may be
   * handed to a later request, so remove listeners when done and do not consult it afterwards.
   */
  roundTrip(req: OriginRequest, signal: AbortSignal): Promise<OriginResponse>;
  /** Closes pooled connections / listeners. */
  close(): Promise<void>;
}

/** Per-tunnel inputs of origin services that do not come from the rule itself. */
export interface OriginServiceContext {
  /** `--tag Name=Value` pairs, sent as `Cf-Warp-Tag-<Name>` after `Cf-Warp-Tag-Id` (docs/protocol.md §10.6). */
  tags?: ReadonlyArray<readonly [string, string]>;
  /**
   * Base URL of the Access team domain (issuer; keys at `<base>/cdn-cgi/access/certs`). Default
   * `https://<team>.cloudflareaccess.com` (§10.6); tests point it at a local JWKS server.
   */
  accessTeamUrl?: (teamName: string, environment: string) => string;
  /**
   * In-process origins by canonical service string: a rule whose service is one of these keys is served by a fresh
   * service from the factory instead of being dialled (library users map `http://localhost:3000` or a synthetic
   * `http://in-process-N.invalid` to their app).
   */
  inProcess?: ReadonlyMap<string, () => OriginService>;
}

/** How the connection that carried a request answers the edge, as the origin proxy drives it (cloudflared's `ResponseWriter`). */
export interface ProxyResponseWriter {
  /** Writes the origin's response to the edge (head, then body or upgraded stream); settles when it is done. */
  respond(res: OriginResponse): Promise<void>;
  /** The request failed, before or after the head: the connection logs it and answers with the error or a reset. */
  fail(err: unknown): void;
}

/** What the origin proxy tells observers (metrics, diagnostics_channel, library events) per request. */
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

/** Observes the requests the origin proxy serves. */
export interface RequestObserver {
  start(info: RequestInfo): RequestHandle;
}
