/**
 * A real cloudflared as the connector of a bench stack: the same-run baseline of issue #19. The binary is the one the
 * opt-in interop suite uses (`CFTUNNEL_CLOUDFLARED`, built by the user from Cloudflare's source; docs/interop.md);
 * without it the legs that need it are skipped with a message.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCloudflared } from '../../test/interop/cloudflared-child.js';
import { BenchError } from './errors.js';

/** How long cloudflared may take to register every HA connection. */
const REGISTER_TIMEOUT_MS = 60_000;
/** How long it may take to unregister and exit on SIGTERM (its grace period is set to 1 s below). */
const STOP_TIMEOUT_MS = 15_000;

/** The binary named by `CFTUNNEL_CLOUDFLARED`, or why there is none. */
export function cloudflaredBinary(): { path: string } | { skipped: string } {
  const path = process.env.CFTUNNEL_CLOUDFLARED;
  if (path === undefined || path === '')
    return { skipped: 'set CFTUNNEL_CLOUDFLARED=/path/to/cloudflared for the cloudflared baseline' };
  if (!existsSync(path)) return { skipped: `CFTUNNEL_CLOUDFLARED=${path} does not exist` };
  return { path };
}

/** Options of {@link startCloudflaredConnector}. */
export interface CloudflaredConnectorOptions {
  binary: string;
  token: string;
  /** `host:port` of the local edge. */
  edge: string;
  caPem: string;
  url: string;
  protocol: 'quic' | 'http2';
  haConnections: number;
  /**
   * `cftunnel`: `binary` is cftunnel's own bin (`bin/cftunnel.js`), which takes the same flags after the command
   * (`tunnel run --token … --edge …`) instead of cloudflared's `tunnel --edge … run`. Default `cloudflared`.
   */
  cli?: 'cloudflared' | 'cftunnel';
}

/** A registered cloudflared connector process. */
export interface CloudflaredConnector {
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `cloudflared tunnel … run --token` against the local edge, serving `url`, and resolves once it logged
 * `Registered tunnel connection` for every HA connection. Its flags are those of the interop suite, with
 * `--loglevel info` (the registration lines are info; per-request lines are debug, so none are written under load).
 */
export async function startCloudflaredConnector(o: CloudflaredConnectorOptions): Promise<CloudflaredConnector> {
  const home = mkdtempSync(join(tmpdir(), 'cft-bench-cloudflared-'));
  const caFile = join(home, 'edge-ca.pem');
  writeFileSync(caFile, o.caPem);
  const edges = Array.from({ length: o.haConnections }, () => ['--edge', o.edge]).flat();
  // The tunnel flags both commands take; cloudflared's go before `run` (its tunnel-level flags), cftunnel's after.
  const tunnelFlags = [
    ...edges,
    '--cacert',
    caFile,
    '--ha-connections',
    String(o.haConnections),
    '--metrics',
    '127.0.0.1:0',
    '--loglevel',
    'info',
    '--grace-period',
    '1s',
    '--url',
    o.url,
  ];
  const cftunnelArgs = ['tunnel', 'run', '--token', o.token, ...tunnelFlags, '--protocol', o.protocol];
  const cloudflaredArgs = [
    '--no-autoupdate',
    'tunnel',
    ...tunnelFlags,
    '--edge-ip-version',
    '4',
    'run',
    '--protocol',
    o.protocol,
    '--token',
    o.token,
  ];
  // The interop suite's spawner: TUNNEL_* variables hidden, HOME scratch, DNS kept on loopback where possible.
  const child = spawnCloudflared(o.binary, o.cli === 'cftunnel' ? cftunnelArgs : cloudflaredArgs, home);
  const stop = async (): Promise<void> => {
    if (child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill('SIGTERM');
      const timer = setTimeout(() => child.kill(), STOP_TIMEOUT_MS);
      await child.exited;
      clearTimeout(timer);
    }
    rmSync(home, { recursive: true, force: true });
  };
  const registered = child.lines.waitFor({
    match: (l) => l.includes('Registered tunnel connection'),
    count: o.haConnections,
    label: 'Registered tunnel connection',
    timeoutMs: REGISTER_TIMEOUT_MS,
  });
  // Whichever of the two loses the race settles later with nobody listening.
  registered.catch(() => undefined);
  const exitedEarly = child.exited.then(
    ({ code }) =>
      new BenchError(
        `cloudflared exited with code ${String(code)} before it registered:\n${child.lines.all.slice(-20).join('\n')}`,
      ),
  );
  try {
    const outcome = await Promise.race([registered, exitedEarly]);
    if (outcome instanceof BenchError) throw outcome;
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: child.process.pid!, stop };
}
