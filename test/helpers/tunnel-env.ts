/**
 * Test environment: a local edge, an origin on loopback and a connector pointed at them. Every test that needs the
 * whole data path uses this, so setup and teardown are written once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { LocalEdge, type LocalEdgeOptions } from '../../src/local-edge/index.js';
import { Tunnel, type TunnelOptions } from '../../src/tunnel.js';
import { pino } from 'pino';
import { createConnectorIdentity } from '../../src/connection/identity.js';
import type { ConnectionContext, ConnectionSettings, TunnelSettings } from '../../src/connection/types.js';
import { HTTP2_PING_INTERVAL_MS } from '../../src/connection/http2-connection.js';
import { Orchestrator } from '../../src/orchestration/orchestrator.js';
import { parseTunnelConfig } from '../../src/orchestration/remote-config.js';
import { parseToken } from '../../src/token/index.js';
import { withTestHooks } from '../../src/internal/test-hooks.js';

/** A fresh random tunnel token (32-byte secret, like `cloudflared tunnel create`). */
export function makeToken(): { token: string; accountTag: string; tunnelId: string; secret: Buffer } {
  const secret = randomBytes(32);
  const accountTag = randomBytes(16).toString('hex');
  const tunnelId = randomUUID();
  const token = Buffer.from(JSON.stringify({ a: accountTag, t: tunnelId, s: secret.toString('base64') })).toString(
    'base64',
  );
  return { token, accountTag, tunnelId, secret };
}

/** Starts an `http.Server` on 127.0.0.1:0 and returns it with its base URL. */
export async function startOrigin(
  handler: http.RequestListener,
): Promise<{ server: http.Server; url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A running edge + connector pair. */
export interface TunnelEnv {
  edge: LocalEdge;
  tunnel: Tunnel;
  token: string;
  close(): Promise<void>;
}

/** Starts a local edge and a connector registered to it; waits until `haConnections` connections registered. */
export async function startTunnelEnv(options: {
  protocol: 'quic' | 'http2';
  url?: string;
  haConnections?: number;
  edge?: Partial<LocalEdgeOptions>;
  tunnel?: Partial<TunnelOptions>;
}): Promise<TunnelEnv> {
  const { token } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token], ...options.edge });
  const ha = options.haConnections ?? 1;
  const registered = new Promise<void>((resolve) => {
    let n = 0;
    edge.on('register', () => {
      if (++n === ha) resolve();
    });
  });
  const tunnel = new Tunnel(
    withTestHooks(
      {
        token,
        url: options.url,
        // cloudflared makes one HA connection per static edge address: list the local edge once per connection.
        edge: Array.from({ length: ha }, () => `${edge.address.host}:${edge.address.port}`),
        caCert: edge.caPem,
        protocol: options.protocol,
        haConnections: ha,
        ...options.tunnel,
      },
      { haSpacingMs: 0 },
    ),
  );
  const connected = new Promise<void>((resolve) => {
    let n = 0;
    tunnel.on('connected', () => {
      if (++n === ha) resolve();
    });
  });
  try {
    await tunnel.ready();
    await Promise.all([registered, connected]);
  } catch (err) {
    await tunnel.close({ graceMs: 0 });
    await edge.close();
    throw err;
  }
  return {
    edge,
    tunnel,
    token,
    async close() {
      await tunnel.close({ graceMs: 1000 });
      await edge.close();
    },
  };
}

/** What a test may replace in a {@link connectionContext}: a shared object or a connection timing. */
export type ContextOverrides = Partial<Omit<TunnelSettings, 'settings'> & ConnectionSettings>;

/**
 * A ConnectionContext (index 0, first attempt) for dialling single connections directly (tests below the supervisor);
 * `overrides` may replace any shared object or connection timing.
 */
export function connectionContext(token: string, overrides: ContextOverrides = {}): ConnectionContext {
  const { rpcTimeoutMs = 5000, http2PingIntervalMs = HTTP2_PING_INTERVAL_MS, ...shared } = overrides;
  return {
    tunnel: {
      credentials: parseToken(token),
      identity: createConnectorIdentity(),
      orchestrator: new Orchestrator(parseTunnelConfig('{}')),
      logger: pino({ level: 'silent' }),
      settings: { rpcTimeoutMs, http2PingIntervalMs },
      ...shared,
    },
    connIndex: 0,
    numPreviousAttempts: 0,
  };
}

/** The remote configuration version a tunnel applied, as its public metrics show it (§13.2). */
export async function appliedConfigVersion(tunnel: Tunnel): Promise<number> {
  const match = /^cloudflared_orchestration_config_version (\S+)$/m.exec(await tunnel.metrics.exposition());
  return match === null ? Number.NaN : Number(match[1]);
}
