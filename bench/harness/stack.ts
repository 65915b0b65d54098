/**
 * The system under test, each part in its own process: origin, local edge and connector (optionally behind a
 * counting relay that lives in the driver).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startChild, type BenchChild, type ChildMode } from './children.js';
import { startCloudflaredConnector } from './cloudflared.js';
import { startCountingRelay, type CountingRelay } from './relay.js';
import type { ConnectorChildConfig } from '../procs/connector.js';
import type { EdgeChildConfig, EdgeChildInfo } from '../procs/edge.js';
import type { OriginChildConfig } from '../procs/origin.js';
import type { ChildMemory } from '../procs/child.js';

/** Transport between connector and edge. */
export type Protocol = 'quic' | 'http2';

/** Where `--profile` puts the connector's CPU profiles. */
export const PROFILE_DIR = fileURLToPath(new URL('../profiles/', import.meta.url));

/** HA connections, as `cloudflared tunnel run` opens by default (docs/protocol.md §12.1). */
export const DEFAULT_HA_CONNECTIONS = 4;

/** Options of {@link startStack}. */
export interface StackOptions {
  protocol: Protocol;
  origin: OriginChildConfig['kind'];
  haConnections?: number;
  /** Start the connector with `--cpu-prof` into {@link PROFILE_DIR}. */
  profile?: boolean;
  /** Put a byte-counting relay between connector and edge. */
  relay?: boolean;
  /** How the child processes run (default compiled). */
  mode?: ChildMode;
  /**
   * Which connector: cftunnel (default) or a real cloudflared binary (the same-run baseline). With `inProcess`,
   * cftunnel serves the origin's app inside its own process (no origin process, no origin port). `cftunnel-cli` is
   * the `cftunnel tunnel run` command itself (bin/cftunnel.js, built `dist/`): what a user runs, without the bench
   * child's IPC channel, so without V8's memory breakdown. `CFT_BENCH_CONNECTOR=cli` makes it the default.
   */
  connector?:
    { kind: 'cftunnel'; inProcess?: boolean } | { kind: 'cftunnel-cli' } | { kind: 'cloudflared'; binary: string };
}

/** A running stack. */
export interface Stack {
  protocol: Protocol;
  /** Where visitors go (the edge's HTTP listener). */
  visitorUrl: string;
  /** The origin itself, for the direct baseline. */
  originUrl: string;
  /** Process ids by role, for {@link ProcSampler} (no origin process when the app runs in the connector). */
  pids: { edge: number; connector: number; origin?: number };
  relay: CountingRelay | undefined;
  /** The connector's `process.memoryUsage()`; undefined for cloudflared (not a Node process). */
  connectorMemory(): Promise<ChildMemory | undefined>;
  stop(): Promise<void>;
}

/** A token of a fresh random tunnel (the edge and the connector share it; it never leaves this machine). */
function benchToken(): string {
  const body = { a: randomBytes(16).toString('hex'), t: randomUUID(), s: randomBytes(32).toString('base64') };
  return Buffer.from(JSON.stringify(body)).toString('base64');
}

/** The `cftunnel` command as installed: the bin runs the compiled `dist/`. */
const CLI_BIN = fileURLToPath(new URL('../../bin/cftunnel.js', import.meta.url));

let cliBuilt = false;

/** Builds `dist/` if any source is newer (once per driver run), so the CLI leg runs the code under test. */
function buildCli(): void {
  if (cliBuilt) return;
  execFileSync(process.execPath, [fileURLToPath(new URL('../../scripts/build-if-stale.mjs', import.meta.url))], {
    stdio: 'inherit',
  });
  cliBuilt = true;
}

/** Starts origin, edge and connector processes and waits until every HA connection is registered. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const token = benchToken();
  const started: Array<Pick<BenchChild<unknown>, 'stop'>> = [];
  let relay: CountingRelay | undefined;
  const stopAll = async (): Promise<void> => {
    // Connector first so that it unregisters while the edge still listens.
    for (const c of started.reverse()) await c.stop();
    await relay?.close();
  };
  const connectorKind =
    options.connector ?? (process.env.CFT_BENCH_CONNECTOR === 'cli' ? { kind: 'cftunnel-cli' } : { kind: 'cftunnel' });
  const inProcess = connectorKind.kind === 'cftunnel' && connectorKind.inProcess === true;
  try {
    const origin = inProcess
      ? undefined
      : await startChild<OriginChildConfig, { url: string }>(
          'origin',
          { kind: options.origin },
          { name: `origin(${options.origin})`, mode: options.mode },
        );
    if (origin !== undefined) started.push(origin);
    const edge = await startChild<EdgeChildConfig, EdgeChildInfo>('edge', { token }, { mode: options.mode });
    started.push(edge);
    let edgePort = edge.info.port;
    if (options.relay) {
      relay = await startCountingRelay({ host: '127.0.0.1', port: edge.info.port });
      edgePort = relay.port;
    }
    const haConnections = options.haConnections ?? DEFAULT_HA_CONNECTIONS;
    const common = {
      pids: { edge: edge.pid, ...(origin === undefined ? {} : { origin: origin.pid }) },
      protocol: options.protocol,
      visitorUrl: edge.info.visitorUrl,
      relay,
      stop: stopAll,
    };
    if (connectorKind.kind === 'cloudflared' || connectorKind.kind === 'cftunnel-cli') {
      const cli = connectorKind.kind === 'cftunnel-cli';
      if (cli) buildCli();
      const cloudflared = await startCloudflaredConnector({
        binary: cli ? CLI_BIN : connectorKind.binary,
        cli: cli ? 'cftunnel' : 'cloudflared',
        token,
        edge: `127.0.0.1:${edgePort}`,
        caPem: edge.info.caPem,
        url: origin!.info.url,
        protocol: options.protocol,
        haConnections,
      });
      started.push(cloudflared);
      return {
        ...common,
        originUrl: origin!.info.url,
        pids: { ...common.pids, connector: cloudflared.pid },
        connectorMemory: () => Promise.resolve(undefined),
      };
    }
    // CFT_BENCH_CONNECTOR_FLAGS: extra node flags for the connector alone (e.g. "--max-semi-space-size=2" to see what
    // V8's young-generation sizing costs in RSS and CPU).
    const execArgv: string[] = process.env.CFT_BENCH_CONNECTOR_FLAGS?.split(' ').filter(Boolean) ?? [];
    if (options.profile) {
      mkdirSync(PROFILE_DIR, { recursive: true });
      execArgv.push('--cpu-prof', '--cpu-prof-dir', PROFILE_DIR);
    }
    const connector = await startChild<ConnectorChildConfig, { connections: number }>(
      'connector',
      {
        token,
        origin: origin === undefined ? { inProcess: options.origin } : { url: origin.info.url },
        edge: `127.0.0.1:${edgePort}`,
        caPem: edge.info.caPem,
        protocol: options.protocol,
        haConnections,
      },
      { name: `connector(${options.protocol}${inProcess ? ', in-process app' : ''})`, execArgv, mode: options.mode },
    );
    started.push(connector);
    return {
      ...common,
      originUrl: origin?.info.url ?? '',
      pids: { ...common.pids, connector: connector.pid },
      connectorMemory: connector.memory,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
