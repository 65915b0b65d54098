/**
 * `cftunnel tunnel run` / `cftunnel run`: what `cloudflared tunnel run --token T` does (docs/protocol.md §0), with
 * cloudflared's flags (§16), its startup and shutdown log lines (§13.3, §12.5) and exit codes.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { edgeResolverForServers } from '../edge-discovery/index.js';
import { parseCaBundle } from '../transport/tls/trust.js';
import { CftunnelError } from '../errors.js';
import { parseToken } from '../token/index.js';
import { Tunnel } from '../tunnel.js';
import { configFromUrl } from '../orchestration/local-config.js';
import { useFatalLogger } from './fatal.js';
import { applyConfigFile, type AppliedConfigFile } from './config-file.js';
import { flagValue, formatFlagHelp, formatUnsupportedHelp, parseFlags, type ParsedFlags } from './flags.js';
import type { CliIo } from './io.js';
import { createCliLogger } from './logger.js';
import { RUN_FLAGS, UNSUPPORTED_RUN_FLAGS } from './run-flags.js';
import { connectorHooks, resolveRunSettings, type RunSettings } from './run-settings.js';
import { forcedExitMessage, waitForShutdownSignal } from './signals.js';
import { keepProcessAlive } from './keep-alive.js';
import { serveUntilShutdown } from './serve-until-shutdown.js';
import { withTestHooks } from '../internal/test-hooks.js';
import { cliVersion, COMPATIBLE_CLOUDFLARED_VERSION } from './version.js';
import { formatGoDuration } from '../util/go-duration.js';

/** The `--cacert` file cannot be read. */
export class CaCertFileError extends CftunnelError {
  constructor(path: string, cause: unknown) {
    super('CFT_ERR_CACERT_FILE', `Failed to read --cacert file ${path}: ${(cause as Error).message}`, {
      retryable: false,
      cause,
    });
  }
}

/**
 * Test-only and deliberately absent from `--help`: `HOST:PORT` of the one DNS server edge discovery asks, with the
 * DNS-over-TLS fallback disabled, so tests can point discovery at a loopback server.
 */
const TEST_DNS_SERVER_ENV = 'CFTUNNEL_DNS_SERVER';
/** Keeps a test's discovery failure quick when the loopback DNS server drops queries instead of refusing them. */
const TEST_DNS_TIMEOUT_MS = 2_000;

/** Help text of `tunnel run`. */
export function tunnelRunHelp(): string {
  return `NAME:
   cftunnel tunnel run - Connect a tunnel to the Cloudflare edge (what \`cloudflared tunnel run --token\` does)

USAGE:
   cftunnel tunnel [flags] run [flags]
   cftunnel run [flags]

Every flag can also be set through the environment variable shown in brackets; a flag on the command line wins.
Token precedence: --token / TUNNEL_TOKEN (verbatim), then --token-file / TUNNEL_TOKEN_FILE (trimmed).
With --config FILE, the file's top-level keys (cloudflared's names, e.g. protocol, edge, metrics, token) are used
for flags set neither on the command line nor in the environment.
The origin flags (--proxy-*, --http-host-header, --no-tls-verify, …) shape the single rule of --url / --hello-world /
--bastion / --unix-socket and the top-level originRequest, as in cloudflared; ingress rules in --config and a remote
configuration do not use them.

OPTIONS:
${formatFlagHelp(RUN_FLAGS)}

CLOUDFLARED FLAGS CFTUNNEL REFUSES (exit code 2):
${formatUnsupportedHelp(UNSUPPORTED_RUN_FLAGS)}
`;
}

/** Parses `tunnel run` arguments (positionals already stripped of `tunnel`/`run`) with cloudflared's rules. */
export function parseRunFlags(argv: readonly string[], env: CliIo['env']): ParsedFlags {
  return parseFlags(argv, {
    command: 'cftunnel tunnel run',
    flags: RUN_FLAGS,
    unsupported: UNSUPPORTED_RUN_FLAGS,
    env,
  });
}

function logStartup(
  logger: Logger,
  settings: RunSettings,
  tunnelId: string,
  config: AppliedConfigFile | undefined,
): void {
  logger.info({ tunnelID: tunnelId }, 'Starting tunnel');
  logger.info(`Version ${cliVersion()} (cftunnel, wire-compatible with cloudflared ${COMPATIBLE_CLOUDFLARED_VERSION})`);
  logger.info(`Node.js ${process.version}, ${process.platform} ${process.arch}`);
  // The token itself is never logged; cloudflared masks it as `*****` in the same place (§13.3).
  logger.info(
    {
      settings: {
        token: '*****',
        tokenSource: settings.tokenSource,
        config: settings.configFile,
        url: settings.url,
        service: settings.singleOrigin.service,
        originRequest:
          Object.keys(settings.singleOrigin.originRequest).length > 0 ? settings.singleOrigin.originRequest : undefined,
        edge: settings.tunnel.edge,
        tag: settings.tunnel.tags,
        region: settings.tunnel.region,
        'edge-ip-version': settings.tunnel.edgeIpVersion,
        'post-quantum': settings.tunnel.postQuantum || undefined,
        metrics: settings.tunnel.metrics,
        cacert: settings.caCertPath,
        protocol: settings.protocol,
        'ha-connections': settings.haConnections,
        retries: settings.tunnel.retries,
        'grace-period': formatGoDuration(settings.tunnel.gracePeriodMs),
        'edge-bind-address': settings.tunnel.edgeBindAddress,
        loglevel: settings.logLevel,
        features: settings.tunnel.features,
        'rpc-timeout':
          settings.tunnel.rpcTimeoutMs === undefined ? undefined : formatGoDuration(settings.tunnel.rpcTimeoutMs),
        'quic-connection-level-flow-control-limit': settings.tunnel.quicFlowControl?.maxConnectionWindow,
        'quic-stream-level-flow-control-limit': settings.tunnel.quicFlowControl?.maxStreamWindow,
        'client-version': settings.clientVersion,
      },
    },
    'Settings',
  );
  if (settings.protocol === 'h2mux') logger.warn('h2mux is no longer supported; using http2 instead');
  if (settings.tunnel.postQuantum && (settings.protocol === 'quic' || settings.protocol === 'auto')) {
    logger.info('Post-quantum mode runs on HTTP/2: the QUIC transport cannot choose key-exchange groups');
  }
  if (config !== undefined) {
    logger.info({ config: config.file.source, keys: config.applied }, 'Applied settings from the configuration file');
    for (const key of config.ignoredKeys)
      logger.warn({ config: config.file.source, key }, 'Configuration file key is not a cftunnel flag; ignored');
    if (config.nonTokenRun !== undefined)
      logger.info('A token is set: the tunnel and credentials-file of the configuration file are ignored');
    if (config.localConfig !== undefined) {
      logger.info(
        { rules: config.localConfig.ingress.rules.length },
        'Using the ingress rules of the configuration file',
      );
      if (settings.singleOrigin.service !== undefined || Object.keys(settings.singleOrigin.originRequest).length > 0) {
        logger.warn(
          '--url and the origin flags are ignored: the configuration file has ingress rules, which take precedence',
        );
      }
    }
    for (const section of config.unusedSections)
      logger.warn({ section }, 'Configuration file section is only used together with ingress rules; ignored');
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
  const configPath = flagValue(parsed, 'config');
  const config =
    configPath === undefined || configPath === ''
      ? undefined
      : await applyConfigFile(parsed, configPath, RUN_FLAGS, UNSUPPORTED_RUN_FLAGS);
  const settings = await resolveRunSettings(config?.parsed ?? parsed, config?.nonTokenRun);
  const credentials = parseToken(settings.token);
  let caCert: Buffer | undefined;
  if (settings.caCertPath !== undefined) {
    caCert = await readFile(settings.caCertPath).catch((err: unknown) => {
      throw new CaCertFileError(settings.caCertPath!, err);
    });
    // Checked here, so that a bundle without a usable certificate is reported with its file name, before start.
    try {
      parseCaBundle(caCert);
    } catch (err) {
      throw new CaCertFileError(settings.caCertPath, err);
    }
  }
  const logger = createCliLogger({
    level: settings.logLevel,
    output: settings.output,
    logFile: settings.logFile,
    stderr: io.stderr,
  });
  useFatalLogger(logger);
  logStartup(logger, settings, credentials.tunnelId, config);
  const testDnsServer = io.env[TEST_DNS_SERVER_ENV];

  const shutdown = waitForShutdownSignal((signal) => logger.warn(forcedExitMessage(signal)));
  const release = keepProcessAlive();
  const createTunnel = (): Tunnel =>
    new Tunnel(
      withTestHooks(
        {
          ...settings.tunnel,
          caCert,
          logger,
          token: credentials,
          config:
            config?.localConfig ?? configFromUrl(settings.singleOrigin.service, settings.singleOrigin.originRequest),
          ...(testDnsServer ? { dnsOverTls: false } : {}),
          protocol: settings.protocol,
          // §3.3: `auto` starts on QUIC when a token was *set* (flag, env or config key); with --token-file
          // cloudflared consults the protocol-v2 TXT percentages instead.
          protocolSelector: settings.tokenSource === 'file' ? 'remote' : 'default',
          haConnections: settings.haConnections,
          // cloudflared retries an Unauthorized registration forever at startup (docs/protocol.md §6.7).
          retryUnauthorizedAtStartup: true,
        },
        {
          ...connectorHooks(settings),
          ...(testDnsServer
            ? { dnsResolver: edgeResolverForServers([testDnsServer], { timeoutMs: TEST_DNS_TIMEOUT_MS, tries: 1 }) }
            : {}),
        },
      ),
    );
  await serveUntilShutdown({ createTunnel, logger, shutdown, release, settings });
}
