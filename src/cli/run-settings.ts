/**
 * Turns the parsed `tunnel run` flags into validated settings: token precedence (docs/protocol.md §1.2), edge discovery
 * (§2), protocol (§3.3), durations and limits (§12.1), metrics (§13.1), logging (§13.3).
 */
import net from 'node:net';
import { EdgeDiscoveryOptionError, parseEdgeIpVersion, type EdgeIpVersion } from '../edge-discovery/index.js';
import type { TunnelTestHooks } from '../internal/test-hooks.js';
import type { TunnelOptions } from '../tunnel-options.js';
import type { ProtocolOption } from '../supervisor/protocol.js';
import { DEFAULT_GRACE_PERIOD_MS } from '../supervisor/supervisor.js';
import { LOCAL_CONFIGURATION_FLAGS } from '../orchestration/local-config.js';
import { readTokenFile } from '../token/index.js';
import { UsageError } from './errors.js';
import { flagBool, flagInt, flagValue, type ParsedFlags } from './flags.js';
import { formatGoDuration, parseGoDuration, DurationSyntaxError } from '../util/go-duration.js';
import { NO_EFFECT_FLAGS } from './run-flags.js';
import { singleOriginRule, type SingleOriginRule } from './origin-flags.js';
import { splitHostPort } from '../util/host-port.js';
import { DEFAULT_METRICS_ADDRESS } from '../metrics/listen.js';

/** Upper bound of `--grace-period` (§12.1: "must be ≤ 3 min"). */
export const MAX_GRACE_PERIOD_MS = 3 * 60_000;

/**
 * `--tag NAME=VALUE` (§16): the name limited to HTTP header-name characters, the value to printable ASCII, as
 * cloudflared's `tagRegexp` (cmd/cloudflared/tunnel/tag.go).
 */
const TAG_PATTERN = /^([a-zA-Z0-9!#$%&'*+\-.^_`|~]+)=([\x20-\x7e]+)$/;

/** Flags whose value cloudflared echoes as a Go duration string (`1h0m0s`) in `__configuration_flags` (§9.4). */
const DURATION_CONFIGURATION_FLAGS: ReadonlySet<string> = new Set(['autoupdate-freq', 'metrics-update-freq']);

/** `--loglevel` values (§13.3). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'fatal'];

/** `--output` values (§13.3). */
export type LogOutput = 'default' | 'json';

/** Where the token came from (§1.2): `--token`, `TUNNEL_TOKEN`, the `token` key of `--config`, or a token file. */
export type TokenSource = 'flag' | 'env' | 'config' | 'file';

/** `--metrics` default (§13.1): `localhost:0` tries 127.0.0.1:20241-20245 in order, then a random port. */

/**
 * The library options every CLI run takes from its flags (environment and configuration file keys included, §16),
 * resolved once here: `tunnel run` and quick tunnels pass them to the Tunnel as they are, so a flag added to one
 * reaches both. The Tunnel validates and resolves them like any caller's.
 */
export interface ConnectorTunnelOptions extends Readonly<
  Pick<
    TunnelOptions,
    | 'tags'
    | 'edge'
    | 'region'
    | 'edgeIpVersion'
    | 'postQuantum'
    | 'edgeBindAddress'
    | 'retries'
    | 'features'
    | 'rpcTimeoutMs'
    | 'quicFlowControl'
  >
> {
  /** Metrics server address; {@link DEFAULT_METRICS_ADDRESS} when not set. */
  readonly metrics: string;
  readonly gracePeriodMs: number;
  /** Set flags echoed to the edge in `__configuration_flags` (§9.4). */
  readonly configurationFlags: Record<string, string>;
}

/** Everything `tunnel run` needs, validated. */
export interface RunSettings {
  token: string;
  tokenSource: TokenSource;
  /** `--url` as given. */
  url: string | undefined;
  /** The single catch-all rule of `--url` / `--hello-world` / … and the origin flags (§10.4). */
  singleOrigin: SingleOriginRule;
  caCertPath: string | undefined;
  protocol: ProtocolOption;
  haConnections: number | undefined;
  logLevel: LogLevel;
  logFile: string | undefined;
  /** Undefined: console lines (`default`). */
  output: LogOutput | undefined;
  /** `--config` file path. */
  configFile: string | undefined;
  pidFile: string | undefined;
  /** Compatibility flags that were set and have no effect. */
  noEffectFlags: string[];
  /** A positional tunnel name/UUID; ignored when a token is present (§1.2). */
  tunnelArgument: string | undefined;
  /** `--client-version` / `CFTUNNEL_CLIENT_VERSION`: the version reported at registration (§6.6). */
  clientVersion: string | undefined;
  /**
   * `--edge`, `--region`, `--edge-ip-version`, `--post-quantum`, `--metrics`, `--retries`, `--grace-period`,
   * `--edge-bind-address`, `--tag`, `--features`, `--rpc-timeout` and the QUIC flow-control limits, as library options.
   */
  tunnel: ConnectorTunnelOptions;
}

/** A usage error for a missing token. */
export const NO_TOKEN_MESSAGE =
  'a tunnel token is required: pass --token or --token-file, or set TUNNEL_TOKEN or TUNNEL_TOKEN_FILE (runs with a credentials file are not supported)';

/**
 * Picks the token by cloudflared's precedence (§1.2): `--token`/`TUNNEL_TOKEN` verbatim; only when that is empty,
 * `--token-file`/`TUNNEL_TOKEN_FILE`, read and trimmed.
 *
 * @param missing - message of the usage error when there is no token (default {@link NO_TOKEN_MESSAGE}).
 * @throws {UsageError} no token at all.
 * @throws {import('../token/index.js').TokenFileError} the token file cannot be read.
 */
export async function resolveToken(
  parsed: ParsedFlags,
  missing = NO_TOKEN_MESSAGE,
): Promise<{ token: string; source: TokenSource }> {
  const direct = flagValue(parsed, 'token');
  if (direct !== undefined && direct !== '') return { token: direct, source: parsed.sources.get('token') ?? 'flag' };
  const file = flagValue(parsed, 'token-file');
  if (file !== undefined && file !== '') return { token: await readTokenFile(file), source: 'file' };
  throw new UsageError(missing);
}

/** `--grace-period`: Go duration, 0 ≤ d ≤ 3m (§12.1). */
export function parseGracePeriod(text: string | undefined): number {
  if (text === undefined) return DEFAULT_GRACE_PERIOD_MS;
  let ms: number;
  try {
    ms = parseGoDuration(text);
  } catch (err) {
    if (err instanceof DurationSyntaxError) throw new UsageError(`--grace-period: ${err.message}`);
    throw err;
  }
  if (ms < 0 || ms > MAX_GRACE_PERIOD_MS)
    throw new UsageError(`--grace-period ${text} is out of range: it must be between 0s and 3m`);
  return ms;
}

/** `--protocol` (§3.3): anything but auto/quic/http2/h2mux is an error. */
export function parseProtocol(text: string | undefined): ProtocolOption {
  const value = text ?? 'auto';
  if (value === 'auto' || value === 'quic' || value === 'http2' || value === 'h2mux') return value;
  throw new UsageError(`unknown protocol ${value} (expected auto, quic or http2)`);
}

function parseChoice<T extends string>(flag: string, text: string | undefined, choices: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  const lower = text.toLowerCase() as T;
  if (choices.includes(lower)) return lower;
  throw new UsageError(`invalid value ${JSON.stringify(text)} for --${flag} (expected ${choices.join(', ')})`);
}

/** `--edge-ip-version` (§2.4): cloudflared's text for a bad value, as a usage error. */
export function parseIpVersionFlag(text: string | undefined): EdgeIpVersion | undefined {
  if (text === undefined) return undefined;
  try {
    return parseEdgeIpVersion(text);
  } catch (err) {
    if (err instanceof EdgeDiscoveryOptionError) throw new UsageError(err.message);
    throw err;
  }
}

/** `--tag` values; cloudflared's text for a bad one (`Tag parse failure: Cannot parse tag value X`). */
export function parseTags(list: readonly string[] | undefined): Record<string, string> | undefined {
  if (list === undefined || list.length === 0) return undefined;
  const tags: Record<string, string> = {};
  for (const compound of list) {
    const m = TAG_PATTERN.exec(compound);
    if (m === null) throw new UsageError(`Tag parse failure: Cannot parse tag value ${compound}`);
    tags[m[1]!] = m[2]!;
  }
  return tags;
}

/**
 * The flags cloudflared echoes in `updateLocalConfiguration` (§9.4): those set (command line, environment or config
 * file) and non-empty, durations in Go's format.
 */
export function configurationFlags(parsed: ParsedFlags): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of LOCAL_CONFIGURATION_FLAGS) {
    const value = flagValue(parsed, name);
    if (value === undefined || value === '') continue;
    out[name] = DURATION_CONFIGURATION_FLAGS.has(name) ? goDurationOrRaw(value) : value;
  }
  return out;
}

function goDurationOrRaw(text: string): string {
  try {
    return formatGoDuration(parseGoDuration(text));
  } catch {
    return text;
  }
}

function parseFeatures(list: readonly string[] | undefined): string[] | undefined {
  const features = (list ?? []).map((f) => f.trim()).filter((f) => f !== '');
  return features.length === 0 ? undefined : features;
}

/** `--rpc-timeout` (§6.6): a positive Go duration. */
function parseRpcTimeout(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  let ms: number;
  try {
    ms = parseGoDuration(text);
  } catch (err) {
    if (err instanceof DurationSyntaxError)
      throw new UsageError(`invalid value ${JSON.stringify(text)} for flag --rpc-timeout: ${err.message}`);
    throw err;
  }
  if (ms <= 0) throw new UsageError(`invalid value ${JSON.stringify(text)} for flag --rpc-timeout: must be positive`);
  return ms;
}

/** `--metrics` (§13.1): a `host:port` address, checked before anything starts (a usage error, exit code 2). */
export function parseMetricsAddress(text: string | undefined): string {
  if (text === undefined || text === '') return DEFAULT_METRICS_ADDRESS;
  if (splitHostPort(text) === undefined)
    throw new UsageError(
      `invalid value ${JSON.stringify(text)} for --metrics: expected HOST:PORT (e.g. 127.0.0.1:20241)`,
    );
  return text;
}

function parseEdge(list: readonly string[] | undefined): string[] | undefined {
  if (list === undefined || list.length === 0) return undefined;
  const edge = [...list];
  for (const e of edge) {
    if (!/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(e)) throw new UsageError(`--edge ${JSON.stringify(e)} is not HOST:PORT`);
  }
  return edge;
}

/** {@link RunSettings} without the token: what a quick tunnel (docs/protocol.md §20), which has none, runs with. */
export type ConnectorSettings = Omit<RunSettings, 'token' | 'tokenSource'>;

/** Validates every `tunnel run` flag except the token. */
export function resolveConnectorSettings(parsed: ParsedFlags): ConnectorSettings {
  if (parsed.positionals.length > 1) throw new UsageError(`too many arguments: ${parsed.positionals.join(' ')}`);
  const edgeBindAddress = flagValue(parsed, 'edge-bind-address');
  if (edgeBindAddress !== undefined && net.isIP(edgeBindAddress) === 0) {
    throw new UsageError(`--edge-bind-address ${JSON.stringify(edgeBindAddress)} is not an IP address`);
  }
  const settings: Omit<RunSettings, 'token' | 'tokenSource'> = {
    url: flagValue(parsed, 'url'),
    singleOrigin: singleOriginRule(parsed),
    caCertPath: flagValue(parsed, 'cacert'),
    protocol: parseProtocol(flagValue(parsed, 'protocol')),
    haConnections: flagInt(parsed, 'ha-connections', 1),
    logLevel: parseChoice('loglevel', flagValue(parsed, 'loglevel'), LOG_LEVELS) ?? 'info',
    logFile: flagValue(parsed, 'logfile'),
    output: parseChoice('output', flagValue(parsed, 'output'), ['default', 'json'] as const),
    configFile: flagValue(parsed, 'config'),
    pidFile: flagValue(parsed, 'pidfile'),
    noEffectFlags: [...parsed.values.keys()].filter((k) => NO_EFFECT_FLAGS.has(k)),
    tunnelArgument: parsed.positionals[0],
    clientVersion: flagValue(parsed, 'client-version') || undefined,
    tunnel: {
      edge: parseEdge(parsed.values.get('edge')),
      region: flagValue(parsed, 'region') || undefined,
      edgeIpVersion: parseIpVersionFlag(flagValue(parsed, 'edge-ip-version')),
      postQuantum: flagBool(parsed, 'post-quantum', false),
      retries: flagInt(parsed, 'retries', 0),
      gracePeriodMs: parseGracePeriod(flagValue(parsed, 'grace-period')),
      edgeBindAddress,
      metrics: parseMetricsAddress(flagValue(parsed, 'metrics')),
      tags: parseTags(parsed.values.get('tag')),
      configurationFlags: configurationFlags(parsed),
      features: parseFeatures(parsed.values.get('features')),
      rpcTimeoutMs: parseRpcTimeout(flagValue(parsed, 'rpc-timeout')),
      quicFlowControl: {
        maxConnectionWindow: flagInt(parsed, 'quic-connection-level-flow-control-limit', 1),
        maxStreamWindow: flagInt(parsed, 'quic-stream-level-flow-control-limit', 1),
      },
    },
  };
  return settings;
}

/**
 * The internal hooks every CLI run sets from its settings: the version `--client-version` / `CFTUNNEL_CLIENT_VERSION`
 * reports at registration (§6.6), which the library keeps out of its public options.
 */
export function connectorHooks(settings: ConnectorSettings): TunnelTestHooks {
  return settings.clientVersion === undefined ? {} : { clientVersion: settings.clientVersion };
}

/**
 * Validates every `tunnel run` flag and reads the token.
 *
 * @param missingToken - message when no token is set (the `--config` file may explain why).
 */
export async function resolveRunSettings(parsed: ParsedFlags, missingToken?: string): Promise<RunSettings> {
  const settings = resolveConnectorSettings(parsed);
  // The token last: flag errors are reported before the token file is touched.
  const { token, source } = await resolveToken(parsed, missingToken);
  return { ...settings, token, tokenSource: source };
}
