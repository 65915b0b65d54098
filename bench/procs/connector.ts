/**
 * Benchmark child: the connector (`Tunnel`) in its own process, so its CPU and memory are its own. Reports ready
 * once every HA connection is registered.
 */
import { pino } from 'pino';
import { Tunnel } from '../../src/tunnel.js';
import { createOriginApp, type OriginAppKind } from '../harness/origin-app.js';
import { serveChild } from './child.js';
import { withTestHooks } from '../../src/internal/test-hooks.js';

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
const LOG_LEVEL = process.env.CFT_BENCH_LOG_LEVEL ?? 'warn';

/** Grace period on stop: the bench has already drained its load. */
const STOP_GRACE_MS = 1000;

serveChild<ConnectorChildConfig, { connections: number }>(async (config) => {
  const app = 'inProcess' in config.origin ? createOriginApp(config.origin.inProcess) : undefined;
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
        logger: pino({ level: LOG_LEVEL, base: { proc: 'connector' } }, pino.destination(2)),
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
