/**
 * Benchmark child: the connector (`Tunnel`) in its own process, so its CPU and memory are its own. Reports ready
 * once every HA connection is registered. Set up like `cftunnel tunnel run`: the CLI's heap flags (applied by the
 * first import), the CLI's logger and a metrics server; unlike the CLI it has an IPC channel to the driver and no
 * flag parsing or signal handling.
 */
import './cli-heap.js';
import { createCliLogger } from '../../src/cli/logger.js';
import { Tunnel } from '../../src/tunnel.js';
import type { OriginAppKind } from '../harness/origin-app.js';
import { serveChild } from './child.js';
import { withTestHooks } from '../../src/internal/test-hooks.js';
import type { LogLevel } from '../../src/cli/run-settings.js';

/** Config the driver sends. */
export interface ConnectorChildConfig {
  token: string;
  /** The origin: a URL (`--url`), or the bench app served in this process (no port). */
  origin: { url: string } | { inProcess: OriginAppKind };
  /** `host:port` the connector dials (the edge, or a counting relay in front of it). */
  edge: string;
  caPem: string;
  protocol: 'quic' | 'http2';
  haConnections: number;
}

/** Connector log level (to stderr): warnings explain a connector that never gets ready. */
const LOG_LEVEL = (process.env.CFT_BENCH_LOG_LEVEL ?? 'warn') as LogLevel;

/** Grace period on stop: the bench has already drained its load. */
const STOP_GRACE_MS = 1000;

serveChild<ConnectorChildConfig, { connections: number }>(async (config) => {
  // Loaded only for an in-process app: it imports `ws`, which the connector itself loads only for a WebSocket
  // request (~10 MB of RSS an idle CLI does not have).
  const app =
    'inProcess' in config.origin
      ? (await import('../harness/origin-app.js')).createOriginApp(config.origin.inProcess)
      : undefined;
  const tunnel = new Tunnel(
    withTestHooks(
      {
        token: config.token,
        ...(app === undefined ? { url: (config.origin as { url: string }).url } : { origin: app.server }),
        // Like cloudflared, one HA connection per static edge address: list the edge once per connection.
        edge: Array.from({ length: config.haConnections }, () => config.edge),
        caCert: config.caPem,
        protocol: config.protocol,
        haConnections: config.haConnections,
        logger: createCliLogger({ level: LOG_LEVEL, output: 'json' }),
        // The CLI always serves metrics (`--metrics` defaults to localhost:0, docs/protocol.md §13.1).
        metrics: '127.0.0.1:0',
      },
      { haSpacingMs: 0 },
    ),
  );
  let connected = 0;
  const all = new Promise<void>((resolve) => {
    tunnel.on('connected', () => {
      if (++connected === config.haConnections) resolve();
    });
  });
  await tunnel.ready();
  await all;
  let stopping = false;
  // A tunnel that lost a connection mid-run makes every figure doubtful: say so loudly.
  tunnel.on('disconnected', () => {
    if (!stopping) console.error(`[connector] a ${config.protocol} connection dropped during the run`);
  });
  return {
    info: { connections: connected },
    stop: () => {
      stopping = true;
      return tunnel.close({ graceMs: STOP_GRACE_MS });
    },
  };
});
