/**
 * The local edge: the edge side of the tunnel protocol on loopback, for tests, benchmarks and offline use.
 * One port serves both transports (QUIC on UDP, TLS+HTTP/2 on TCP, docs/protocol.md §5, §8); visitors reach tunnels
 * through an HTTP/1.1 listener and raw TCP listeners.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import type net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { parseToken, type TunnelCredentials } from '../token/index.js';
import { generateEdgeCertificates, loadOrCreateEdgeCertificates, type EdgeCertificates } from './certs.js';
import type { EdgeSideConnection } from './edge-connection.js';
import { acceptHttp2Connection } from './http2-side.js';
import { startQuicSide, type QuicSide } from './quic-side.js';
import { quicAvailability } from '../transport/quic/index.js';
import { startVisitorListener, type VisitorListener } from './visitor.js';
import { startTcpListener, type TcpListener } from './tcp-listener.js';
import {
  startQuickTunnelService,
  type QuickTunnelCreated,
  type QuickTunnelService,
  type QuickTunnelServiceOptions,
} from './quick-service.js';
import type {
  ConfigPushResult,
  EdgeConnectionInfo,
  EdgeProtocol,
  RegistrationDecision,
  RegistrationRequest,
} from './types.js';
import type { EdgeRouter, TcpFlowResult } from './router.js';

/** Location code the local edge reports (the vectors' reference edge used `TST`). */
export const LOCAL_EDGE_LOCATION = 'TST';

/** A tunnel the local edge accepts: a token string or parsed credentials. */
export type LocalEdgeTunnel = string | TunnelCredentials;

/** Options of {@link LocalEdge.start}. */
export interface LocalEdgeOptions {
  /** Address for the connector-facing port (UDP for QUIC and TCP for HTTP/2). Default 127.0.0.1. */
  host?: string;
  /** Connector-facing port, 0 for any. */
  port?: number;
  /** Visitor HTTP listener address. Default 127.0.0.1, port 0. */
  httpHost?: string;
  httpPort?: number;
  /** Raw TCP visitor listeners, each mapped to a private-network destination `host:port` (a `tcp` request). */
  tcp?: Array<{ host?: string; port?: number; destination: string }>;
  /** Tunnels allowed to register. */
  tunnels: LocalEdgeTunnel[];
  /** PEM material; generated when absent (or read from / written to `certsDir`). */
  certs?: EdgeCertificates;
  certsDir?: string;
  /** Remote configuration pushed to each connection after it registers. */
  config?: { version: number; config: unknown };
  /**
   * Which transports to serve. HTTP/2 always and QUIC where the native binding loads, by default; an explicit
   * `quic: true` where it cannot fails with `CFT_ERR_QUIC_UNAVAILABLE`.
   */
  transports?: { quic?: boolean; http2?: boolean };
  /** What `ConnectionDetails.tunnelIsRemotelyManaged` says. Default true (token tunnels). */
  remotelyManaged?: boolean;
  /**
   * Also serve a quick-tunnel service (docs/protocol.md §20.5) on its own loopback port ({@link LocalEdge.quickServiceUrl}):
   * `POST /tunnel` creates a tunnel this edge accepts, routed by its generated hostname.
   */
  quickTunnels?: boolean | QuickTunnelServiceOptions;
}

/** Events of {@link LocalEdge}. */
export interface LocalEdgeEvents {
  register: [info: EdgeConnectionInfo];
  registration_refused: [request: RegistrationRequest, decision: RegistrationDecision];
  unregister: [info: EdgeConnectionInfo];
  local_config: [info: EdgeConnectionInfo, config: string];
  config_pushed: [result: ConfigPushResult];
  transport_closed: [info: { id?: string; protocol: EdgeProtocol; connIndex?: number; remoteAddress: string }];
  /** What the connector answered to a private-network TCP flow from a raw TCP listener. */
  tcp_result: [result: TcpFlowResult];
  /** The quick-tunnel service created a tunnel. */
  quick_tunnel: [created: QuickTunnelCreated];
}

/** The local edge. */
export class LocalEdge extends EventEmitter<LocalEdgeEvents> implements EdgeRouter {
  /** Decides each registration; replace it in tests to refuse or delay. Default: accept known tunnels. */
  registrationDecider: (req: RegistrationRequest) => RegistrationDecision | Promise<RegistrationDecision>;
  private readonly tunnels = new Map<string, TunnelCredentials>();
  /** Hostnames routed to one tunnel (quick tunnels), by lower-case hostname. */
  private readonly hostnames = new Map<string, string>();
  private quickService: QuickTunnelService | undefined;
  private readonly live = new Set<EdgeSideConnection>();
  private readonly all = new Set<EdgeSideConnection>();
  private readonly roundRobin = new Map<string, number>();
  private tcpServer: net.Server | undefined;
  private quicSide: QuicSide | undefined;
  private visitor: VisitorListener | undefined;
  private tcpListeners: TcpListener[] = [];
  private currentConfig: { version: number; config: string } | undefined;
  private rayCounter = 0;

  private constructor(
    readonly options: LocalEdgeOptions,
    readonly certs: EdgeCertificates,
    readonly caPath: string | undefined,
  ) {
    super();
    for (const t of options.tunnels) {
      const creds = typeof t === 'string' ? parseToken(t) : t;
      this.tunnels.set(creds.tunnelId, creds);
    }
    if (options.config)
      this.currentConfig = { version: options.config.version, config: JSON.stringify(options.config.config) };
    this.registrationDecider = () => ({ accept: true });
  }

  /** Starts listening; resolves once every listener is bound. */
  static async start(options: LocalEdgeOptions): Promise<LocalEdge> {
    let certs = options.certs;
    let caPath: string | undefined;
    if (certs === undefined && options.certsDir !== undefined) {
      const loaded = await loadOrCreateEdgeCertificates(options.certsDir);
      certs = loaded;
      caPath = loaded.caPath;
    }
    const edge = new LocalEdge(options, certs ?? (await generateEdgeCertificates()), caPath);
    try {
      await edge.listen();
    } catch (err) {
      await edge.close();
      throw err;
    }
    return edge;
  }

  private async listen(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    const transports = { quic: quicAvailability().available, http2: true, ...this.options.transports };
    let port = this.options.port ?? 0;
    if (transports.http2) {
      this.tcpServer = tls.createServer({ cert: this.certs.certPem, key: this.certs.keyPem }, (socket) =>
        acceptHttp2Connection(socket, this),
      );
      this.tcpServer.on('tlsClientError', () => undefined);
      await new Promise<void>((resolve, reject) => {
        this.tcpServer!.once('error', reject);
        this.tcpServer!.listen(port, host, () => resolve());
      });
      port = (this.tcpServer.address() as AddressInfo).port;
    }
    if (transports.quic)
      this.quicSide = await startQuicSide(this, { host, port, cert: this.certs.certPem, key: this.certs.keyPem });
    if (port === 0 && this.quicSide) port = this.quicSide.port;
    this.boundPort = port;
    this.visitor = await startVisitorListener(this, {
      host: this.options.httpHost ?? '127.0.0.1',
      port: this.options.httpPort ?? 0,
    });
    if (this.options.quickTunnels) {
      const options = this.options.quickTunnels === true ? {} : this.options.quickTunnels;
      this.quickService = await startQuickTunnelService((creds, created) => {
        this.addTunnel(creds, created.hostname);
        this.emit('quick_tunnel', created);
      }, options);
    }
    for (const l of this.options.tcp ?? []) {
      this.tcpListeners.push(
        await startTcpListener(this, { host: l.host ?? '127.0.0.1', port: l.port ?? 0, destination: l.destination }),
      );
    }
  }

  private boundPort = 0;

  /**
   * Starts serving QUIC on the connector-facing UDP port of an edge started without it (`transports.quic: false`):
   * what a connector sees when UDP to the edge opens again.
   */
  async enableQuic(): Promise<void> {
    if (this.quicSide !== undefined) return;
    this.quicSide = await startQuicSide(this, {
      host: this.address.host,
      port: this.boundPort,
      cert: this.certs.certPem,
      key: this.certs.keyPem,
    });
  }

  /** Connector-facing address (`--edge host:port`). */
  get address(): { host: string; port: number } {
    return { host: this.options.host ?? '127.0.0.1', port: this.boundPort };
  }

  /** `http://host:port` of the visitor listener. */
  get visitorUrl(): string {
    const a = this.visitor!.address;
    return `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
  }

  /** Base URL of the quick-tunnel service (`--quick-service`), when `quickTunnels` is on. */
  get quickServiceUrl(): string | undefined {
    return this.quickService?.url;
  }

  /** Accepts one more tunnel; visitors asking for `hostname` reach it. */
  addTunnel(tunnel: LocalEdgeTunnel, hostname?: string): void {
    const creds = typeof tunnel === 'string' ? parseToken(tunnel) : tunnel;
    this.tunnels.set(creds.tunnelId, creds);
    if (hostname !== undefined) this.hostnames.set(hostname.toLowerCase(), creds.tunnelId);
  }

  /** Ports of the raw TCP listeners, in option order. */
  /** What `console.log(edge)` shows: addresses, tunnel ids and connection counts, never the tokens of `options`. */
  [inspect.custom](_depth: number, opts: object, show: typeof inspect): string {
    return `LocalEdge ${show(
      {
        address: this.boundPort === 0 ? undefined : this.address,
        visitorUrl: this.visitor === undefined ? undefined : this.visitorUrl,
        tunnels: [...this.tunnels.keys()],
        liveConnections: this.live.size,
      },
      opts,
    )}`;
  }

  get tcpPorts(): number[] {
    return this.tcpListeners.map((l) => l.port);
  }

  /** The CA certificate a connector must trust (`--cacert`). */
  get caPem(): string {
    return this.certs.caPem;
  }

  /** Registered, not yet unregistered connections. */
  connections(tunnelId?: string): EdgeConnectionInfo[] {
    const out: EdgeConnectionInfo[] = [];
    for (const c of this.live) {
      if (c.info && !c.unregistered && (tunnelId === undefined || c.info.tunnelId === tunnelId)) out.push(c.info);
    }
    return out.sort((a, b) => a.connIndex - b.connIndex);
  }

  /** Next Cf-Ray value (deterministic counter, like the reference edge). */
  nextRay(): string {
    this.rayCounter++;
    return `${this.rayCounter.toString(16).padStart(16, '0')}-${LOCAL_EDGE_LOCATION}`;
  }

  /**
   * Called by a transport side when a connector calls `registerConnection`. Checks the tunnel and its secret,
   * then asks {@link registrationDecider}.
   */
  async handleRegistration(
    conn: EdgeSideConnection,
    req: RegistrationRequest,
    secret: Buffer,
  ): Promise<RegistrationDecision & { uuid?: string }> {
    const tunnel = this.tunnels.get(req.tunnelId);
    if (tunnel === undefined || tunnel.accountTag !== req.accountTag || !tunnel.tunnelSecret.equals(secret)) {
      const decision: RegistrationDecision = {
        accept: false,
        cause: 'Unauthorized: Failed to authenticate tunnel',
        shouldRetry: false,
      };
      this.emit('registration_refused', req, decision);
      return decision;
    }
    const decision = await this.registrationDecider(req);
    if (!decision.accept) {
      this.emit('registration_refused', req, decision);
      return decision;
    }
    const uuid = randomUUID();
    conn.info = {
      id: uuid,
      protocol: conn.protocol,
      tunnelId: req.tunnelId,
      connIndex: req.connIndex,
      registration: req,
      remoteAddress: conn.remoteAddress,
    };
    this.live.add(conn);
    conn.once('close', () => {
      this.live.delete(conn);
      this.emit('transport_closed', {
        id: conn.info?.id,
        protocol: conn.protocol,
        connIndex: conn.info?.connIndex,
        remoteAddress: conn.remoteAddress,
      });
    });
    this.emit('register', conn.info);
    if (this.currentConfig) {
      const { version, config } = this.currentConfig;
      // Like the real edge, push the tunnel's configuration once the connection is registered.
      setImmediate(() => void this.pushTo(conn, version, config).catch(() => undefined));
    }
    return {
      accept: true,
      uuid,
      locationName: decision.locationName ?? LOCAL_EDGE_LOCATION,
      tunnelIsRemotelyManaged: decision.tunnelIsRemotelyManaged ?? this.options.remotelyManaged ?? true,
    };
  }

  /** Called by a transport side on `unregisterConnection`. */
  handleUnregister(conn: EdgeSideConnection): void {
    if (conn.info === undefined || conn.unregistered) return;
    conn.unregistered = true;
    this.emit('unregister', conn.info);
  }

  /** Called by a transport side on `updateLocalConfiguration` (§9.4). */
  handleLocalConfiguration(conn: EdgeSideConnection, config: Buffer): void {
    if (conn.info) this.emit('local_config', conn.info, config.toString('utf8'));
  }

  /** Called by a transport side for every new connection, so that close() and dropAll() reach it. */
  track(conn: EdgeSideConnection): void {
    this.all.add(conn);
    conn.once('close', () => {
      this.all.delete(conn);
      if (conn.info === undefined)
        this.emit('transport_closed', { protocol: conn.protocol, remoteAddress: conn.remoteAddress });
    });
  }

  /** Picks a registered connection for a visitor's host, round-robin (one tunnel: every host). */
  route(host: string): EdgeSideConnection | undefined {
    const candidates: EdgeSideConnection[] = [];
    const tunnelId = this.tunnelForHost(host);
    for (const c of this.live)
      if (c.info && !c.unregistered && !c.closed && c.info.tunnelId === tunnelId) candidates.push(c);
    if (candidates.length === 0) return undefined;
    const n = (this.roundRobin.get(tunnelId) ?? 0) % candidates.length;
    this.roundRobin.set(tunnelId, n + 1);
    return candidates[n];
  }

  private tunnelForHost(host: string): string {
    const named = this.hostnames.get(host.replace(/:\d+$/, '').toLowerCase());
    if (named !== undefined) return named;
    // With several tunnels, a hostname belongs to the tunnel whose name prefix it carries (`<tunnel-id>.…`);
    // otherwise to the first tunnel.
    for (const id of this.tunnels.keys()) if (host.startsWith(`${id}.`)) return id;
    return this.tunnels.keys().next().value as string;
  }

  /** Pushes a configuration to every registered connection (optionally of one tunnel) and collects the answers. */
  async pushConfig(version: number, config: unknown, options: { tunnelId?: string } = {}): Promise<ConfigPushResult[]> {
    const text = typeof config === 'string' ? config : JSON.stringify(config);
    const targets = [...this.live].filter(
      (c) => c.info && !c.unregistered && (options.tunnelId === undefined || c.info.tunnelId === options.tunnelId),
    );
    const results = await Promise.all(targets.map((c) => this.pushTo(c, version, text)));
    // Only a configuration a connector accepted becomes the one new connections receive (the real edge never holds
    // an invalid one: the dashboard validates first).
    if (targets.length === 0 || results.some((r) => r.err === null && r.latestAppliedVersion === version)) {
      this.currentConfig = { version, config: text };
    }
    return results;
  }

  private async pushTo(conn: EdgeSideConnection, version: number, config: string): Promise<ConfigPushResult> {
    const result = await conn.pushConfig(version, config);
    this.emit('config_pushed', result);
    return result;
  }

  /** Drops one connection abruptly (by edge connection id or conn index). */
  dropConnection(which: string | number): void {
    for (const c of this.live) {
      if (c.info && (c.info.id === which || c.info.connIndex === which)) c.drop();
    }
  }

  /** Drops every connection abruptly. */
  dropAll(): void {
    for (const c of [...this.all]) c.drop();
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    this.dropAll();
    await Promise.allSettled([
      this.visitor?.close(),
      this.quickService?.close(),
      this.quicSide?.close(),
      ...this.tcpListeners.map((l) => l.close()),
      new Promise<void>((resolve) => (this.tcpServer ? this.tcpServer.close(() => resolve()) : resolve())),
    ]);
  }
}
