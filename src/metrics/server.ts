/**
 * The metrics and readiness HTTP server (docs/protocol.md §13.1): `/metrics`, `/ready`, `/healthcheck`, `/quicktunnel`, `/config`, 404 for
 * anything else. It only reads what its callbacks return; the token and tunnel secret are never given to it.
 */
import http from 'node:http';
import { joinHostPort } from '../util/host-port.js';
import { DEFAULT_METRICS_ADDRESS, KNOWN_METRICS_PORTS, listenMetrics } from './listen.js';
import type { TunnelMetrics } from './tunnel-metrics.js';

/** Read and write timeouts of cloudflared's metrics server (§13.1). */
export const METRICS_SERVER_TIMEOUT_MS = 10_000;
/** Go's `net/http` sniffs these bodies as plain text; the same type is kept for identical responses. */
const TEXT = 'text/plain; charset=utf-8';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** `--metrics`. Default `localhost:0` (known ports, then random, on 127.0.0.1). */
  address?: string;
  metrics: TunnelMetrics;
  /** Connector ID reported by `/ready`. */
  connectorId: string;
  /** Number of currently registered connections, read on every `/ready`. */
  readyConnections: () => number;
  /**
   * The versioned configuration JSON served at `/config` (`{"version":…,"config":{…}}`); without it `/config` is 404.
   * A rejection becomes a 500 `ERR: <message>`.
   */
  config?: () => string | Promise<string>;
  /** Hostname `/quicktunnel` reports (`{"hostname":"…"}`, §20.4); empty for a tunnel that is not a quick tunnel. */
  quickTunnelHostname?: string;
  /** Read/write/idle timeout. Default {@link METRICS_SERVER_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Ports tried for the default address. Default {@link KNOWN_METRICS_PORTS}. */
  knownPorts?: readonly number[];
}

/** A running metrics server. */
export interface MetricsServer {
  /** Bound IP address. */
  readonly host: string;
  readonly port: number;
  /** `host:port` as cloudflared prints it (IPv6 in brackets). */
  readonly hostPort: string;
  /** `Starting metrics server on <host:port>/metrics`, cloudflared's start-up log line. */
  readonly logMessage: string;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** `/ready` body, field order as cloudflared's JSON. */
function readyBody(connectorId: string, readyConnections: number): { status: number; body: string } {
  const status = readyConnections > 0 ? 200 : 503;
  return { status, body: JSON.stringify({ status, readyConnections, connectorId }) };
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function route(
  options: MetricsServerOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://metrics').pathname;
  switch (path) {
    case '/metrics':
      send(res, 200, options.metrics.contentType, await options.metrics.exposition());
      return;
    case '/healthcheck':
      send(res, 200, TEXT, 'OK\n');
      return;
    case '/ready': {
      const { status, body } = readyBody(options.connectorId, options.readyConnections());
      send(res, status, TEXT, body);
      return;
    }
    case '/quicktunnel':
      send(res, 200, TEXT, JSON.stringify({ hostname: options.quickTunnelHostname ?? '' }));
      return;
    case '/config':
      if (options.config) {
        let json: string;
        try {
          json = await options.config();
        } catch (err) {
          send(res, 500, TEXT, `ERR: ${(err as Error).message}`);
          return;
        }
        send(res, 200, TEXT, json);
        return;
      }
  }
  send(res, 404, TEXT, '404 page not found\n');
}

/** Starts the server; rejects with `MetricsAddressError` or `MetricsListenError` (fatal for the caller). */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const timeout = options.timeoutMs ?? METRICS_SERVER_TIMEOUT_MS;
  const server = http.createServer({
    requestTimeout: timeout,
    headersTimeout: timeout,
    keepAliveTimeout: timeout,
    // Node enforces request/headers timeouts on this period; the default 30 s would overshoot a 10 s timeout.
    connectionsCheckingInterval: Math.min(timeout, 1000),
  });
  // Socket inactivity bounds both slow readers and slow writers, the role of Go's ReadTimeout/WriteTimeout.
  server.setTimeout(timeout);
  server.on('request', (req, res) => {
    route(options, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, TEXT, `ERR: ${(err as Error).message}`);
      else res.destroy();
    });
  });
  const bound = await listenMetrics(
    server,
    options.address ?? DEFAULT_METRICS_ADDRESS,
    options.knownPorts ?? KNOWN_METRICS_PORTS,
  );
  // Once listening, an error (e.g. EMFILE on accept) must not crash the tunnel; the server keeps serving what it can.
  server.on('error', () => {});
  const hostPort = joinHostPort(bound.address, bound.port);
  return {
    host: bound.address,
    port: bound.port,
    hostPort,
    logMessage: `Starting metrics server on ${hostPort}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
