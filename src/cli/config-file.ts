/**
 * `--config FILE` for `tunnel run` (docs/protocol.md §16): cloudflared's YAML file, whose top-level keys are defaults for
 * the flags of the same name. cloudflared applies a file value only when neither the flag nor its environment
 * variable is set (urfave/cli altsrc), so the order is flag > environment > file.
 */
import { CftunnelError } from '../errors.js';
import { loadConfigFile, loadYaml, type LocalConfigFile } from '../orchestration/local-config.js';
import type { TunnelConfig } from '../orchestration/remote-config.js';
import {
  dashed,
  refusedValue,
  unsupportedMessage,
  type FlagSource,
  type FlagSpec,
  type ParsedFlags,
  type UnsupportedFlagSpec,
} from './flags.js';

/**
 * File keys that name a non-token run. With a token they are ignored (the token wins, §1.2); without one the run is
 * refused with a message naming them.
 */
const NON_TOKEN_KEYS: ReadonlySet<string> = new Set(['credentials-file', 'cred-file']);

/** Configuration sections that only take effect together with `ingress` rules. */
const INGRESS_ONLY_SECTIONS = ['originRequest', 'warp-routing'] as const;

/** A config-file value has the wrong YAML type for its flag (cloudflared's altsrc text, exit code 1). */
export class ConfigFileValueError extends CftunnelError {
  constructor(path: string, message: string) {
    super('CFT_ERR_CONFIG_FILE_VALUE', `config file ${path}: ${message}`, { retryable: false });
  }
}

/** What {@link applyConfigFile} produced. */
export interface AppliedConfigFile {
  /** The parsed flags with the file's values added where neither the flag nor its environment variable was set. */
  readonly parsed: ParsedFlags;
  /** The loaded file. */
  readonly file: LocalConfigFile;
  /** Flag names whose value came from the file. */
  readonly applied: readonly string[];
  /** Top-level keys that are not cftunnel flags; cloudflared ignores unknown keys too (it only warns). */
  readonly ignoredKeys: readonly string[];
  /**
   * The file's ingress (with its originRequest and warp-routing) when it has rules: it replaces `--url`, as in
   * cloudflared where configured ingress rules take precedence over the single-origin flags.
   */
  readonly localConfig: TunnelConfig | undefined;
  /** originRequest / warp-routing sections present without ingress rules, which cftunnel does not use. */
  readonly unusedSections: readonly string[];
  /** Set when the file names a tunnel or credentials file: the message to give if no token turns up. */
  readonly nonTokenRun: string | undefined;
}

function yamlType(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  return value === null ? 'null' : typeof value;
}

/** Converts one YAML value to the flag's string values, with cloudflared's type strictness where it matters. */
function flagValues(spec: FlagSpec, value: unknown, path: string): string[] {
  if (spec.type === 'boolean') {
    if (typeof value === 'boolean') return [String(value)];
    throw new ConfigFileValueError(path, `expected boolean found ${yamlType(value)} for ${spec.name}`);
  }
  if (spec.repeatable && Array.isArray(value)) {
    return value.map((item) => {
      if (typeof item === 'string') return item;
      throw new ConfigFileValueError(
        path,
        `expected a list of strings for ${spec.name}, found ${yamlType(item)} in it`,
      );
    });
  }
  // Numbers are accepted for numeric flags such as ha-connections and retries (YAML reads `4` as a number).
  if (typeof value === 'string' || typeof value === 'number') return [String(value)];
  throw new ConfigFileValueError(
    path,
    `expected ${spec.repeatable ? 'string or list' : 'string'} found ${yamlType(value)} for ${spec.name}`,
  );
}

/** Sections that would be silently dropped: originRequest / warp-routing in a file without ingress rules. */
function unusedSectionsOf(file: LocalConfigFile): string[] {
  if (file.hasIngress) return [];
  const doc: unknown = loadYaml().parse(file.config.raw);
  if (typeof doc !== 'object' || doc === null) return [];
  return INGRESS_ONLY_SECTIONS.filter(
    (k) => (doc as Record<string, unknown>)[k] !== undefined && (doc as Record<string, unknown>)[k] !== null,
  );
}

/**
 * Loads `path` and merges its top-level keys into `parsed` as defaults. Refused flags in the file are refused like on
 * the command line; unknown keys are reported back, not fatal.
 *
 * @throws {import('../orchestration/local-config.js').ConfigFileError} unreadable file or invalid YAML.
 * @throws {ConfigFileValueError} a value of the wrong type.
 * @throws {import('../ingress/errors.js').IngressConfigError} invalid ingress rules.
 * @throws {import('./errors.js').UnsupportedFlagError} a refused flag.
 */
export async function applyConfigFile(
  parsed: ParsedFlags,
  path: string,
  flags: readonly FlagSpec[],
  unsupported: readonly UnsupportedFlagSpec[],
): Promise<AppliedConfigFile> {
  const file = await loadConfigFile(path);
  const known = new Map(flags.map((f) => [f.name, f]));
  const refused = new Map(unsupported.map((f) => [f.name, f]));
  const values = new Map(parsed.values);
  const sources = new Map<string, FlagSource>(parsed.sources);
  const applied: string[] = [];
  const ignoredKeys: string[] = [];
  for (const [key, value] of Object.entries(file.flags)) {
    if (value === null || value === undefined || NON_TOKEN_KEYS.has(key)) continue;
    const spec = known.get(key);
    if (spec === undefined || key === 'config') {
      const bad = refused.get(key);
      const via = `config file key ${key} (flag ${dashed(key)})`;
      if (bad !== undefined && refusedValue(bad, typeof value === 'boolean' ? value : String(value), via))
        throw unsupportedMessage(bad, via);
      ignoredKeys.push(key);
      continue;
    }
    if (values.has(key)) continue;
    values.set(key, flagValues(spec, value, path));
    sources.set(key, 'config');
    applied.push(key);
  }
  const named = [
    file.tunnel === undefined ? undefined : `tunnel ${file.tunnel}`,
    file.credentialsFile === undefined ? undefined : `credentials-file ${file.credentialsFile}`,
  ].filter((x) => x !== undefined);
  const nonTokenRun =
    named.length === 0
      ? undefined
      : `config file ${path} names ${named.join(' and ')}, but cftunnel only runs tunnels with a token: pass --token or --token-file, or set TUNNEL_TOKEN (runs with a credentials file are not supported)`;
  return {
    parsed: { ...parsed, values, sources },
    file,
    applied,
    ignoredKeys,
    nonTokenRun,
    localConfig: file.hasIngress ? file.config : undefined,
    unusedSections: unusedSectionsOf(file),
  };
}
