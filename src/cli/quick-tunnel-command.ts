/**
 * `cftunnel tunnel --url URL` with no token: a quick tunnel, as `cloudflared tunnel --url` does (docs/protocol.md §20) —
 * the account-less notice, `POST <--quick-service>/tunnel`, the URL in a box, then one connection serving `--url`.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import {
  DEFAULT_QUICK_SERVICE_URL,
  QUICK_TUNNEL_HA_CONNECTIONS,
  quickTunnelOptions,
  requestQuickTunnel,
  type QuickTunnelGrant,
} from '../quick-tunnel/index.js';
import { Tunnel } from '../tunnel.js';
import { UsageError } from './errors.js';
import {
  flagValue,
  formatFlagHelp,
  formatUnsupportedHelp,
  parseFlags,
  type FlagSpec,
  type ParsedFlags,
} from './flags.js';
import type { CliIo } from './io.js';
import { keepProcessAlive } from './keep-alive.js';
import { createCliLogger } from './logger.js';
import { RUN_FLAGS, UNSUPPORTED_RUN_FLAGS } from './run-flags.js';
import { connectorHooks, resolveConnectorSettings, type ConnectorSettings } from './run-settings.js';
import { serveUntilShutdown } from './serve-until-shutdown.js';
import { withTestHooks } from '../internal/test-hooks.js';
import { forcedExitMessage, waitForShutdownSignal } from './signals.js';
import { cliVersion, COMPATIBLE_CLOUDFLARED_VERSION } from './version.js';
import { CaCertFileError } from './tunnel-run-command.js';

/** `--quick-service` (cloudflared's hidden flag of `tunnel`; no environment variable). */
const QUICK_SERVICE_FLAG: FlagSpec = {
  name: 'quick-service',
  type: 'string',
  placeholder: 'URL',
  defaultText: DEFAULT_QUICK_SERVICE_URL,
  description: 'Service that creates account-less quick tunnels (POST URL/tunnel).',
};

/** Flags of `cftunnel tunnel`: those of `tunnel run` plus `--quick-service`. */
export const TUNNEL_COMMAND_FLAGS: readonly FlagSpec[] = [...RUN_FLAGS, QUICK_SERVICE_FLAG];

/** The account-less notice logged before the service is asked (the substance of cloudflared's, §20.1). */
export const QUICK_TUNNEL_NOTICE =
  'Quick tunnels need no Cloudflare account, which makes them a quick way to try Cloudflare Tunnel. They have no uptime ' +
  'guarantee, are subject to the Cloudflare Online Services Terms of Use (https://www.cloudflare.com/website-terms/), and ' +
  'Cloudflare may investigate their use for violations of those terms. For production, create a named tunnel: ' +
  'https://developers.cloudflare.com/cloudflare-one/connections/connect-apps';

/** First line of the URL box, cloudflared's text (scripts and wrappers look for it). */
export const QUICK_TUNNEL_CREATED_LINE =
  'Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):';

/**
 * Parses `cftunnel tunnel …` arguments (a subcommand such as `run` stays in the positionals). `--quick-service` is
 * accepted with `run` too, where it has no effect, as in cloudflared.
 */
export function parseTunnelCommandFlags(argv: readonly string[], env: CliIo['env']): ParsedFlags {
  const command = argv.includes('run') ? 'cftunnel tunnel run' : 'cftunnel tunnel';
  return parseFlags(argv, { command, flags: TUNNEL_COMMAND_FLAGS, unsupported: UNSUPPORTED_RUN_FLAGS, env });
}

/** `tunnel` without a subcommand runs a quick tunnel when `--url` is set (§20.1). */
export function isQuickTunnelRequest(parsed: ParsedFlags): boolean {
  return (flagValue(parsed, 'url') ?? '') !== '';
}

/** Help text of the quick-tunnel form of `cftunnel tunnel`. */
export function quickTunnelHelp(): string {
  return `NAME:
   cftunnel tunnel --url URL - A quick tunnel: a public https://….trycloudflare.com URL for URL, no account, no token

USAGE:
   cftunnel tunnel --url http://localhost:3000 [--protocol quic|http2] [--metrics ADDR] [--quick-service URL]

Asks the quick-tunnel service for a tunnel, prints its URL in a box and serves --url over one connection
(quic unless --protocol is given). Takes the flags of \`cftunnel tunnel run\` except the token ones;
see cftunnel tunnel run --help.

OPTIONS:
${formatFlagHelp([QUICK_SERVICE_FLAG])}

CLOUDFLARED FLAGS CFTUNNEL REFUSES (exit code 2):
${formatUnsupportedHelp(UNSUPPORTED_RUN_FLAGS)}
`;
}

/** cloudflared's box: `+---+` borders, two spaces of padding (§20.1). */
export function asciiBox(lines: readonly string[], padding = 2): string[] {
  const width = Math.max(0, ...lines.map((l) => l.length));
  const border = `+${'-'.repeat(width + 2 * padding)}+`;
  const space = ' '.repeat(padding);
  return [border, ...lines.map((l) => `|${space}${l.padEnd(width)}${space}|`), border];
}

function validateQuickRun(parsed: ParsedFlags): void {
  for (const flag of ['token', 'token-file']) {
    if ((flagValue(parsed, flag) ?? '') !== '') {
      throw new UsageError(
        `--${flag} is set: run a named tunnel with cftunnel tunnel run (a quick tunnel needs no token)`,
      );
    }
  }
  if (flagValue(parsed, 'config') !== undefined)
    throw new UsageError('--config is not supported with a quick tunnel; use flags');
  if (flagValue(parsed, 'quick-service') === '') throw new UsageError('--quick-service is empty');
}

function logQuickStartup(
  logger: Logger,
  settings: ConnectorSettings,
  grant: QuickTunnelGrant,
  protocolSet: boolean,
): void {
  logger.info({ tunnelID: grant.credentials.tunnelId }, 'Starting tunnel');
  logger.info(`Version ${cliVersion()} (cftunnel, wire-compatible with cloudflared ${COMPATIBLE_CLOUDFLARED_VERSION})`);
  logger.info(
    {
      settings: {
        url: settings.url,
        edge: settings.tunnel.edge,
        metrics: settings.tunnel.metrics,
        cacert: settings.caCertPath,
        protocol: protocolSet ? settings.protocol : undefined,
        'ha-connections': QUICK_TUNNEL_HA_CONNECTIONS,
      },
    },
    'Settings',
  );
  if (settings.haConnections !== undefined && settings.haConnections !== QUICK_TUNNEL_HA_CONNECTIONS) {
    logger.warn(`--ha-connections ${settings.haConnections} is ignored: a quick tunnel runs one connection`);
  }
}

/** Runs a quick tunnel until a shutdown signal; throws on usage, service or startup failure. */
export async function runQuickTunnel(parsed: ParsedFlags, io: CliIo): Promise<void> {
  if (parsed.help) {
    io.stdout.write(quickTunnelHelp());
    return;
  }
  validateQuickRun(parsed);
  const settings = resolveConnectorSettings(parsed);
  const protocolSet = flagValue(parsed, 'protocol') !== undefined;
  const serviceUrl = flagValue(parsed, 'quick-service') ?? DEFAULT_QUICK_SERVICE_URL;
  let caCert: Buffer | undefined;
  if (settings.caCertPath !== undefined) {
    caCert = await readFile(settings.caCertPath).catch((err: unknown) => {
      throw new CaCertFileError(settings.caCertPath!, err);
    });
  }
  const logger = createCliLogger({
    level: settings.logLevel,
    output: settings.output,
    logFile: settings.logFile,
    stderr: io.stderr,
  });
  const shutdown = waitForShutdownSignal((signal) => logger.warn(forcedExitMessage(signal)));
  const release = keepProcessAlive();
  const requestAbort = new AbortController();
  void shutdown.signal.then(() => requestAbort.abort());
  let grant: QuickTunnelGrant;
  try {
    logger.info(QUICK_TUNNEL_NOTICE);
    logger.info(
      `Requesting new quick Tunnel on ${serviceUrl === DEFAULT_QUICK_SERVICE_URL ? 'trycloudflare.com' : serviceUrl}...`,
    );
    grant = await requestQuickTunnel({
      serviceUrl,
      userAgent: `cftunnel/${cliVersion()}`,
      signal: requestAbort.signal,
    });
  } catch (err) {
    shutdown.dispose();
    release();
    // A signal while the service is asked ends the run quietly, like a signal during startup.
    if (requestAbort.signal.aborted) {
      process.exitCode = 0;
      return;
    }
    throw err;
  }
  for (const line of asciiBox([QUICK_TUNNEL_CREATED_LINE, grant.url])) logger.info(line);
  logQuickStartup(logger, settings, grant, protocolSet);

  const createTunnel = (): Tunnel =>
    new Tunnel(
      withTestHooks(
        quickTunnelOptions(
          {
            // --url (http:// added where the scheme is missing) or --hello-world, with the origin flags (§10.4).
            origin: settings.singleOrigin.service ?? settings.url!,
            ...(Object.keys(settings.singleOrigin.originRequest).length > 0
              ? { originRequest: settings.singleOrigin.originRequest }
              : {}),
            ...settings.tunnel,
            caCert,
            logger,
            protocol: protocolSet ? settings.protocol : undefined,
          },
          grant,
        ),
        connectorHooks(settings),
      ),
    );
  await serveUntilShutdown({ createTunnel, logger, shutdown, release, settings });
}
