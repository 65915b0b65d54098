/**
 * The library entry point: a tunnel connector you start from your own process.
 */
import { EventEmitter } from 'node:events';
import { pino, type Logger } from 'pino';
import { createConnectorIdentity, type ConnectorIdentity } from './connection/identity.js';
import type { TunnelConnection } from './connection/tunnel-connection.js';
import type { ConnectionDetails, TunnelProtocol } from './connection/types.js';
import { CftunnelError } from './errors.js';
import { Orchestrator } from './orchestration/orchestrator.js';
import { OriginServices } from './orchestration/origin-services.js';
import { parseTunnelConfig, type TunnelConfig } from './orchestration/remote-config.js';
import { DEFAULT_GRACE_PERIOD_MS, Supervisor, type SupervisorEvents } from './supervisor/supervisor.js';
import { selectProtocol, type ProtocolOption } from './supervisor/protocol.js';
import type { EdgeAddress } from './supervisor/dial.js';
import { parseToken, type TunnelCredentials } from './token/index.js';
import { quicAvailability } from './transport/quic/index.js';
import { createRequestObserver, type RequestSummary } from './observability/request-observer.js';

/** Options of {@link Tunnel}. */
export interface TunnelOptions {
  /** Tunnel token (`cloudflared tunnel run --token`) or parsed credentials. */
  token: string | TunnelCredentials;
  /** Origin for every request (`--url`), e.g. `http://localhost:8080`. Remote configuration replaces it. */
  url?: string;
  /** Edge addresses `host:port` (`--edge`). Required until edge discovery lands. */
  edge: string[];
  /** PEM bundle that replaces the edge trust anchors (`--cacert`). */
  caCert?: string | Buffer;
  /** `auto` (QUIC, falling back to HTTP/2), `quic` or `http2`. */
  protocol?: ProtocolOption;
  /** Number of HA connections (default 4). */
  haConnections?: number;
  /** Local address to dial the edge from (`--edge-bind-address`). */
  edgeBindAddress?: string;
  /** `--retries`: backoff exponent cap and fallback trigger (default 5). */
  retries?: number;
  /** Grace period for `close()` (default 30 s). */
  gracePeriodMs?: number;
  /** Any pino logger; default silent. */
  logger?: Logger;
  /** Aborts startup / closes the tunnel. */
  signal?: AbortSignal;
  /** Overrides of the connector identity (tests pin the connector id). */
  identity?: Partial<Omit<ConnectorIdentity, 'clientId'>>;
  /** Milliseconds between starting HA connections (default 1000, PROTOCOL.md §12.1). */
  haSpacingMs?: number;
}

/**
 * Events of {@link Tunnel}. `request` fires when a proxied request is over (only computed while someone listens);
 * `error` fires for failed requests, and only when an `error` listener exists — an unhandled `error` event must never
 * crash the host application.
 */
export interface TunnelEvents extends SupervisorEvents {
  request: [summary: RequestSummary];
  error: [err: Error, summary: RequestSummary];
}

/** An option value is invalid. */
export class TunnelOptionsError extends CftunnelError {
  constructor(message: string) {
    super('CFT_ERR_OPTIONS', message, { retryable: false });
  }
}

function parseEdgeAddress(text: string): EdgeAddress {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text.trim());
  if (m === null) throw new TunnelOptionsError(`edge address ${JSON.stringify(text)} is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

function initialConfig(url: string | undefined): TunnelConfig {
  // No ingress at all ⇒ the single catch-all `http_status:503` (PROTOCOL.md §10.3).
  return parseTunnelConfig(JSON.stringify({ ingress: url === undefined ? [] : [{ service: url }] }));
}

/** A running tunnel connector. */
export class Tunnel extends EventEmitter<TunnelEvents> {
  readonly credentials: TunnelCredentials;
  readonly identity: ConnectorIdentity;
  readonly orchestrator: Orchestrator;
  private readonly origins = new OriginServices();
  private readonly supervisor: Supervisor;
  private readonly logger: Logger;
  private readonly readyPromise: Promise<ConnectionDetails>;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: TunnelOptions) {
    super();
    this.credentials = typeof options.token === 'string' ? parseToken(options.token) : options.token;
    if (options.edge.length === 0) throw new TunnelOptionsError('at least one edge address is required');
    const edgeAddresses = options.edge.map(parseEdgeAddress);
    this.identity = createConnectorIdentity(options.identity);
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.orchestrator = new Orchestrator(initialConfig(options.url));
    this.orchestrator.on('config', (_v, cfg) => this.origins.retire(cfg));
    const quic = quicAvailability();
    const protocolOption = options.protocol ?? 'auto';
    if (protocolOption === 'quic' && !quic.available) throw new TunnelOptionsError(`QUIC is not available: ${quic.reason}`);
    this.supervisor = new Supervisor({
      credentials: this.credentials,
      identity: this.identity,
      orchestrator: this.orchestrator,
      origins: this.origins,
      logger: this.logger,
      edgeAddresses,
      protocol: selectProtocol(protocolOption, quic.available),
      haConnections: options.haConnections,
      haSpacingMs: options.haSpacingMs,
      retries: options.retries,
      caCert: options.caCert,
      bindAddress: options.edgeBindAddress,
      observer: createRequestObserver(
        this.credentials.tunnelId,
        () => this.listenerCount('request') > 0 || this.listenerCount('error') > 0,
        (summary) => {
          this.emit('request', summary);
          if (summary.error !== undefined && this.listenerCount('error') > 0) this.emit('error', summary.error, summary);
        },
      ),
    });
    for (const name of ['connected', 'disconnected', 'reconnecting', 'protocol_fallback', 'config'] as const) {
      this.supervisor.on(name, (...args: unknown[]) => (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args));
    }
    this.readyPromise = this.supervisor.start(options.signal).then((c) => c.details);
    this.readyPromise.catch(() => undefined);
    options.signal?.addEventListener('abort', () => void this.close({ graceMs: 0 }), { once: true });
  }

  /** Resolves with connection 0's details once it registered; rejects when startup failed for good. */
  ready(): Promise<ConnectionDetails> {
    return this.readyPromise;
  }

  /** Registered connections. */
  get connections(): ReadonlyArray<{ connIndex: number; protocol: TunnelProtocol; details: ConnectionDetails }> {
    return this.supervisor.connections.map((c: TunnelConnection) => ({ connIndex: c.connIndex, protocol: c.protocol, details: c.details }));
  }

  /** The configuration requests are routed with. */
  get config(): TunnelConfig {
    return this.orchestrator.config;
  }

  /** Graceful close: unregister, drain in-flight requests up to `graceMs`, close connections and origin pools. */
  close(options: { graceMs?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      await this.supervisor.shutdown(options.graceMs ?? this.options.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS);
      await this.origins.close();
    })();
    return this.closing;
  }
}

/** Starts a tunnel and waits until its first connection is registered. */
export async function startTunnel(options: TunnelOptions): Promise<Tunnel> {
  const tunnel = new Tunnel(options);
  try {
    await tunnel.ready();
  } catch (err) {
    await tunnel.close({ graceMs: 0 });
    throw err;
  }
  return tunnel;
}
