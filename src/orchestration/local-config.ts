/**
 * Local configuration: cloudflared's YAML config file (docs/protocol.md §16: `tunnel`, `credentials-file`, `ingress`,
 * `originRequest`, `warp-routing`, plus any top-level flag), `--url` as a single catch-all rule, and the
 * `updateLocalConfiguration` payload built from the result (§9.4).
 */
import { readFile } from 'node:fs/promises';
import { lazyRequire } from '../util/lazy-require.js';
import { CftunnelError } from '../errors.js';
import { IngressConfigError } from '../ingress/errors.js';
import { nonDefaultOriginRequest, type OriginRequestOverrides } from '../ingress/origin-request.js';
import { IngressRules } from '../ingress/rules.js';
import { checkCaPools } from './ca-pools.js';
import { buildTunnelConfig, WARP_ROUTING_DEFAULTS, type TunnelConfig } from './remote-config.js';

/** Only processes that read a config file load the YAML parser. */
export const loadYaml = lazyRequire<typeof import('yaml')>('yaml');

/** Top-level keys of the file that are configuration, not flags (cloudflared's `config.Configuration`). */
const CONFIG_KEYS = new Set(['tunnel', 'ingress', 'warp-routing', 'originRequest']);

/**
 * Flags echoed in `__configuration_flags` when set and non-empty (§9.4; 2023.7.3 `configFlags` plus HEAD's
 * `max-active-flows`).
 */
export const LOCAL_CONFIGURATION_FLAGS: readonly string[] = [
  'autoupdate-freq',
  'no-autoupdate',
  'retries',
  'protocol',
  'loglevel',
  'transport-loglevel',
  'origincert',
  'metrics',
  'metrics-update-freq',
  'edge-ip-version',
  'edge-bind-address',
  'max-active-flows',
];

/** cloudflared's text when a config file has no ingress (`ingress.ErrNoIngressRulesCLI`, §10.3). */
export const NO_INGRESS_RULES_WARNING =
  'No ingress rules were defined in provided config (if any) nor from the cli, cloudflared will return 503 for all incoming HTTP requests';

/** The config file could not be read or is not valid YAML. */
export class ConfigFileError extends CftunnelError {
  constructor(message: string, cause?: unknown) {
    super('CFT_ERR_CONFIG_FILE', message, { retryable: false, cause });
  }
}

/** A loaded config file. */
export interface LocalConfigFile {
  /** Path it was read from ('' for text parsed directly). */
  readonly source: string;
  /** `tunnel:` (tunnel UUID or name), if present. */
  readonly tunnel: string | undefined;
  /** `credentials-file:`, if present. */
  readonly credentialsFile: string | undefined;
  /** Whether the file had at least one ingress rule (else {@link config} is the 503 catch-all). */
  readonly hasIngress: boolean;
  /** The validated ingress / originRequest / warp-routing. */
  readonly config: TunnelConfig;
  /** Every other top-level key, as YAML decoded it: flags for the CLI (`protocol`, `loglevel`, `metrics`, …). */
  readonly flags: Readonly<Record<string, unknown>>;
  /** Warnings to log (e.g. {@link NO_INGRESS_RULES_WARNING}). */
  readonly warnings: readonly string[];
}

/**
 * Parses config-file text. Ingress is validated exactly like a remote configuration, except that durations are Go
 * duration strings (`30s`) and member names are case-sensitive, as with cloudflared's YAML decoder.
 *
 * @throws {ConfigFileError} for YAML syntax errors; {@link IngressConfigError} for invalid ingress.
 */
export function parseConfigFile(text: string, source = ''): LocalConfigFile {
  const doc = loadYaml().parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigFileError(
      `error parsing YAML in config file at ${source}: ${doc.errors[0]!.message}`,
      doc.errors[0],
    );
  }
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigFileError(`error parsing YAML in config file at ${source}: the document is not a mapping`);
  }
  const map = data as Record<string, unknown>;
  const flags: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(map)) if (!CONFIG_KEYS.has(k)) flags[k] = v;
  const tunnel = map.tunnel;
  if (tunnel !== undefined && tunnel !== null && typeof tunnel !== 'string') {
    throw new IngressConfigError(`yaml: cannot unmarshal ${JSON.stringify(tunnel)} into string (field tunnel)`);
  }
  const ingress = map.ingress;
  const hasIngress = Array.isArray(ingress) && ingress.length > 0;
  const credentials = flags['credentials-file'] ?? flags['cred-file'];
  return {
    source,
    tunnel: typeof tunnel === 'string' ? tunnel : undefined,
    credentialsFile: typeof credentials === 'string' ? credentials : undefined,
    hasIngress,
    config: buildTunnelConfig(map, text, 'yaml'),
    flags,
    warnings: hasIngress ? [] : [NO_INGRESS_RULES_WARNING],
  };
}

/** Reads and parses a config file (`--config`), and checks the CA pool files its rules name. */
export async function loadConfigFile(path: string): Promise<LocalConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigFileError(
      `cannot read config file ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`,
      cause,
    );
  }
  const file = parseConfigFile(text, path);
  await checkCaPools(file.config);
  return file;
}

/**
 * `--url` (and friends): one catch-all rule for `service`, with `originRequest` from the `--proxy-*` / `--http-host-header`
 * / … flags (§10.4: those flags only apply to this rule). No `url` gives the default 503 catch-all (§10.3).
 */
export function configFromUrl(service: string | undefined, originRequest: OriginRequestOverrides = {}): TunnelConfig {
  const ingress = IngressRules.fromConfig(service === undefined ? [] : [{ service, originRequest }]);
  // The flags' values are the rule's options and, as in cloudflared, the top-level defaults too (shown by /config).
  const options = Object.keys(originRequest).length > 0 ? { originRequest } : {};
  const raw = JSON.stringify({ ingress: service === undefined ? [] : [{ service, ...options }], ...options });
  return { ingress, warpRouting: WARP_ROUTING_DEFAULTS, raw };
}

/**
 * The `updateLocalConfiguration` payload (§9.4): `__configuration_flags` (only the listed flags that are set and
 * non-empty, sorted by name as Go marshals a map; omitted when empty), every rule with only its non-default
 * `originRequest` values and canonical service, and the non-default `warp-routing` values. No top-level
 * `originRequest`: each rule carries what it inherited.
 */
export function localConfigurationJson(
  config: TunnelConfig,
  flags: Readonly<Record<string, string | undefined>> = {},
): Buffer {
  const picked = LOCAL_CONFIGURATION_FLAGS.filter((f) => flags[f] !== undefined && flags[f] !== '').sort();
  const out: Record<string, unknown> = {};
  if (picked.length > 0) out.__configuration_flags = Object.fromEntries(picked.map((f) => [f, flags[f]]));
  out.ingress = config.ingress.rules.map((rule) => ({
    ...(rule.hostname !== '' ? { hostname: rule.hostname } : {}),
    ...(rule.pathSource !== '' ? { path: rule.pathSource } : {}),
    service: rule.service.canonical,
    originRequest: nonDefaultOriginRequest(rule.originRequest),
  }));
  const warp: Record<string, unknown> = { enabled: config.warpRouting.enabled };
  if (config.warpRouting.connectTimeout !== WARP_ROUTING_DEFAULTS.connectTimeout)
    warp.connectTimeout = config.warpRouting.connectTimeout;
  if (config.warpRouting.tcpKeepAlive !== WARP_ROUTING_DEFAULTS.tcpKeepAlive)
    warp.tcpKeepAlive = config.warpRouting.tcpKeepAlive;
  out['warp-routing'] = warp;
  return Buffer.from(JSON.stringify(out), 'utf8');
}
