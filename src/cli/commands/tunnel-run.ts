/**
 * `cftunnel tunnel run` / `cftunnel run`: what `cloudflared tunnel run --token T` does (PROTOCOL.md §0), with
 * cloudflared's flags (§16), its startup and shutdown log lines (§13.3, §12.5) and exit codes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { CftunnelError } from '../../errors.js';
import { parseToken } from '../../token/index.js';
import { Tunnel } from '../../tunnel.js';
import { formatFlagHelp, formatUnsupportedHelp, parseFlags, type ParsedFlags } from '../flags.js';
import type { CliIo } from '../io.js';
import { createCliLogger } from '../logger.js';
import { RUN_FLAGS, UNSUPPORTED_RUN_FLAGS } from '../run-flags.js';
import { resolveRunSettings, type RunSettings } from '../run-settings.js';
import { waitForShutdownSignal } from '../signals.js';
import { keepProcessAlive } from '../keep-alive.js';
import { cliVersion, COMPATIBLE_CLOUDFLARED_VERSION } from '../version.js';
import { formatGoDuration } from '../go-duration.js';

/** The `--cacert` file cannot be read. */
export class CaCertFileError extends CftunnelError {
  constructor(path: string, cause: unknown) {
    super('CFT_ERR_CACERT_FILE', `Failed to read --cacert file ${path}: ${(cause as Error).message}`, { retryable: false, cause });
  }
}

/** Help text of `tunnel run`. */
export function tunnelRunHelp(): string {
  return `NAME:
   cftunnel tunnel run - Connect a tunnel to the Cloudflare edge (what \`cloudflared tunnel run --token\` does)

USAGE:
   cftunnel tunnel [flags] run [flags]
   cftunnel run [flags]

Every flag can also be set through the environment variable shown in brackets; a flag on the command line wins.
Token precedence: --token / TUNNEL_TOKEN (verbatim), then --token-file / TUNNEL_TOKEN_FILE (trimmed).

OPTIONS:
${formatFlagHelp(RUN_FLAGS)}

CLOUDFLARED FLAGS CFTUNNEL REFUSES (exit code 2):
${formatUnsupportedHelp(UNSUPPORTED_RUN_FLAGS)}
`;
}

/** Parses `tunnel run` arguments (positionals already stripped of `tunnel`/`run`) with cloudflared's rules. */
export function parseRunFlags(argv: readonly string[], env: CliIo['env']): ParsedFlags {
  return parseFlags(argv, { command: 'cftunnel tunnel run', flags: RUN_FLAGS, unsupported: UNSUPPORTED_RUN_FLAGS, env });
}

function logStartup(logger: Logger, settings: RunSettings, tunnelId: string): void {
  logger.info({ tunnelID: tunnelId }, 'Starting tunnel');
  logger.info(`Version ${cliVersion()} (cftunnel, wire-compatible with cloudflared ${COMPATIBLE_CLOUDFLARED_VERSION})`);
  logger.info(`Node.js ${process.version}, ${process.platform} ${process.arch}`);
  // The token itself is never logged; cloudflared masks it as `*****` in the same place (§13.3).
  logger.info(
    {
      settings: {
        token: '*****',
        tokenSource: settings.tokenSource,
        url: settings.url,
        edge: settings.edge,
        cacert: settings.caCertPath,
        protocol: settings.protocol,
        'ha-connections': settings.haConnections,
        retries: settings.retries,
        'grace-period': formatGoDuration(settings.gracePeriodMs),
        'edge-bind-address': settings.edgeBindAddress,
        loglevel: settings.logLevel,
      },
    },
    'Settings',
  );
  if (settings.protocol === 'h2mux') logger.warn('h2mux is no longer supported; using http2 instead');
  if (settings.metrics !== undefined) {
    logger.warn({ metrics: settings.metrics }, '--metrics is not yet supported by cftunnel: no metrics server is started');
  }
  for (const flag of settings.noEffectFlags) logger.debug(`--${flag} has no effect in cftunnel`);
  if (settings.tunnelArgument !== undefined) {
    logger.info({ argument: settings.tunnelArgument }, 'A token is set: the tunnel argument is ignored');
  }
}

/** Runs `tunnel run` until a shutdown signal; throws on usage or startup failure. */
export async function runTunnel(parsed: ParsedFlags, io: CliIo): Promise<void> {
  if (parsed.help) {
    io.stdout.write(tunnelRunHelp());
    return;
  }
  const settings = await resolveRunSettings(parsed);
  const credentials = parseToken(settings.token);
  let caCert: Buffer | undefined;
  if (settings.caCertPath !== undefined) {
    caCert = await readFile(settings.caCertPath).catch((err: unknown) => {
      throw new CaCertFileError(settings.caCertPath!, err);
    });
  }
  const logger = createCliLogger({ level: settings.logLevel, output: settings.output, logFile: settings.logFile, stderr: io.stderr });
  logStartup(logger, settings, credentials.tunnelId);

  const shutdown = waitForShutdownSignal();
  const release = keepProcessAlive();
  const startupAbort = new AbortController();
  let tunnel: Tunnel;
  try {
    tunnel = new Tunnel({
      token: credentials,
      url: settings.url,
      edge: settings.edge,
      caCert,
      protocol: settings.protocol,
      haConnections: settings.haConnections,
      edgeBindAddress: settings.edgeBindAddress,
      retries: settings.retries,
      gracePeriodMs: settings.gracePeriodMs,
      logger,
    });
  } catch (err) {
    shutdown.dispose();
    release();
    throw err;
  }
  logger.info(`Generated Connector ID: ${tunnel.identity.connectorId}`);

  const stopped = shutdown.signal.then(async (signal) => {
    logger.info(`Initiating graceful shutdown due to signal ${signal} ...`);
    startupAbort.abort();
    await tunnel.close({ graceMs: settings.gracePeriodMs });
    logger.info('Tunnel server stopped');
  });
  try {
    await Promise.race([tunnel.ready(), stopped]);
  } catch (err) {
    // A failure caused by a shutdown during startup is not a startup failure: finish the shutdown, exit 0.
    if (!startupAbort.signal.aborted) {
      shutdown.dispose();
      await tunnel.close({ graceMs: 0 });
      release();
      throw err;
    }
  }
  if (settings.pidFile !== undefined && !startupAbort.signal.aborted) {
    await writeFile(settings.pidFile, `${process.pid}`).catch((err: unknown) =>
      logger.error({ err, pidfile: settings.pidFile }, 'Failed to write pidfile'),
    );
  }
  await stopped;
  release();
  process.exitCode = 0;
}
