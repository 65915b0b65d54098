/**
 * `originRequest` settings (docs/protocol.md §10.4, §10.5): type-checked parsing of the JSON (remote) and YAML (local)
 * forms, per-field inheritance, and the "only non-default values" view used by `updateLocalConfiguration` (§9.4).
 */
import { isIP } from 'node:net';
import { parseGoDuration } from '../util/go-duration.js';
import { IngressConfigError } from './errors.js';
import { goJsonMember, isPlainObject } from '../util/go-json.js';

/** `access` block of a rule (§10.5, §10.6). */
export interface AccessConfig {
  readonly required: boolean;
  readonly teamName: string;
  readonly audTag: readonly string[];
  /** `fed` selects FedRAMP Access (HEAD only). */
  readonly environment: string;
}

/** One `ipRules` entry (§10.5; used by `socks-proxy` only). */
export interface IpRuleConfig {
  readonly prefix: string;
  readonly ports: readonly number[];
  readonly allow: boolean;
}

/** Fully resolved options of one rule. Durations are in seconds, as in the JSON document. */
export interface OriginRequestConfig {
  readonly connectTimeout: number;
  readonly tlsTimeout: number;
  readonly tcpKeepAlive: number;
  readonly noHappyEyeballs: boolean;
  readonly keepAliveConnections: number;
  readonly keepAliveTimeout: number;
  readonly httpHostHeader: string;
  readonly originServerName: string;
  readonly matchSNItoHost: boolean;
  readonly caPool: string;
  readonly noTLSVerify: boolean;
  readonly disableChunkedEncoding: boolean;
  readonly bastionMode: boolean;
  readonly proxyAddress: string;
  readonly proxyPort: number;
  readonly proxyType: string;
  readonly ipRules: readonly IpRuleConfig[];
  readonly http2Origin: boolean;
  readonly access: AccessConfig | undefined;
}

/** Fields that were present in one `originRequest` object (the unset ones inherit, §10.4). */
export type OriginRequestOverrides = Partial<OriginRequestConfig>;

/** Built-in defaults (§10.5; `ingress/config.go` of cloudflared). */
export const ORIGIN_REQUEST_DEFAULTS: OriginRequestConfig = Object.freeze({
  connectTimeout: 30,
  tlsTimeout: 10,
  tcpKeepAlive: 30,
  noHappyEyeballs: false,
  keepAliveConnections: 100,
  keepAliveTimeout: 90,
  httpHostHeader: '',
  originServerName: '',
  matchSNItoHost: false,
  caPool: '',
  noTLSVerify: false,
  disableChunkedEncoding: false,
  bastionMode: false,
  proxyAddress: '127.0.0.1',
  proxyPort: 0,
  proxyType: '',
  ipRules: [],
  http2Origin: false,
  access: undefined,
});

/**
 * How a document is decoded: `json` = remote configuration (Go encoding/json: member names case-insensitive,
 * durations integer seconds); `yaml` = config file (yaml.v3: exact names, durations Go syntax such as `30s`).
 */
export type ConfigSyntax = 'json' | 'yaml';

type Kind = 'duration' | 'bool' | 'int' | 'uint' | 'string';

const FIELD_KINDS: Readonly<Record<string, Kind>> = {
  connectTimeout: 'duration',
  tlsTimeout: 'duration',
  tcpKeepAlive: 'duration',
  noHappyEyeballs: 'bool',
  keepAliveConnections: 'int',
  keepAliveTimeout: 'duration',
  httpHostHeader: 'string',
  originServerName: 'string',
  matchSNItoHost: 'bool',
  caPool: 'string',
  noTLSVerify: 'bool',
  disableChunkedEncoding: 'bool',
  bastionMode: 'bool',
  proxyAddress: 'string',
  proxyPort: 'uint',
  proxyType: 'string',
  http2Origin: 'bool',
};

const GO_TYPE: Readonly<Record<Kind, string>> = {
  duration: 'config.CustomDuration',
  bool: 'bool',
  int: 'int',
  uint: 'uint',
  string: 'string',
};

/** Reads member `name`: exact first, then (JSON only) case-insensitively like Go's encoding/json. */
export function member(obj: Record<string, unknown>, name: string, syntax: ConfigSyntax): unknown {
  if (syntax === 'yaml') return Object.hasOwn(obj, name) ? obj[name] : undefined;
  return goJsonMember(obj, name);
}

function jsonTypeName(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

/** Go's wording for a type mismatch, so a rejected update reads like cloudflared's. */
export function typeError(value: unknown, field: string, goType: string, syntax: ConfigSyntax): IngressConfigError {
  return syntax === 'json'
    ? new IngressConfigError(
        `json: cannot unmarshal ${jsonTypeName(value)} into Go struct field ${field} of type ${goType}`,
      )
    : new IngressConfigError(`yaml: cannot unmarshal ${JSON.stringify(value)} into ${goType} (field ${field})`);
}

/** A duration value: JSON integer seconds (`CustomDuration.UnmarshalJSON` uses ParseInt), YAML Go duration text. */
export function parseDurationSeconds(value: unknown, field: string, syntax: ConfigSyntax): number {
  if (syntax === 'json') {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
    const text = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value));
    throw new IngressConfigError(`strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax (field ${field})`);
  }
  if (typeof value !== 'string') throw typeError(value, field, 'time.Duration', syntax);
  try {
    return parseGoDuration(value) / 1000;
  } catch (cause) {
    throw new IngressConfigError(`time: invalid duration ${JSON.stringify(value)} (field ${field})`, { cause });
  }
}

function scalar(kind: Kind, value: unknown, field: string, syntax: ConfigSyntax): number | boolean | string {
  switch (kind) {
    case 'duration':
      return parseDurationSeconds(value, field, syntax);
    case 'bool':
      if (typeof value === 'boolean') return value;
      break;
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'int':
    case 'uint':
      if (typeof value === 'number' && Number.isSafeInteger(value) && (kind === 'int' || value >= 0)) return value;
      break;
  }
  throw typeError(value, field, GO_TYPE[kind], syntax);
}

function stringList(value: unknown, field: string, syntax: ConfigSyntax): string[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value) || value.some((x) => typeof x !== 'string'))
    throw typeError(value, field, '[]string', syntax);
  return value as string[];
}

function parseAccess(value: unknown, field: string, syntax: ConfigSyntax): AccessConfig {
  if (!isPlainObject(value)) throw typeError(value, field, 'config.AccessConfig', syntax);
  const get = (k: string): unknown => member(value, k, syntax);
  const required = get('required') ?? false;
  const teamName = get('teamName') ?? '';
  const environment = get('environment') ?? '';
  if (typeof required !== 'boolean') throw typeError(required, `${field}.required`, 'bool', syntax);
  if (typeof teamName !== 'string') throw typeError(teamName, `${field}.teamName`, 'string', syntax);
  if (typeof environment !== 'string') throw typeError(environment, `${field}.environment`, 'string', syntax);
  return { required, teamName, audTag: stringList(get('audTag'), `${field}.audTag`, syntax), environment };
}

function parseIpRules(value: unknown, field: string, syntax: ConfigSyntax): IpRuleConfig[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw typeError(value, field, '[]config.IngressIPRule', syntax);
  return value.map((raw, i) => {
    const where = `${field}[${i}]`;
    if (!isPlainObject(raw)) throw typeError(raw, where, 'config.IngressIPRule', syntax);
    const prefix = member(raw, 'prefix', syntax) ?? '';
    const allow = member(raw, 'allow', syntax) ?? false;
    const ports = member(raw, 'ports', syntax) ?? [];
    if (typeof prefix !== 'string') throw typeError(prefix, `${where}.prefix`, 'string', syntax);
    if (typeof allow !== 'boolean') throw typeError(allow, `${where}.allow`, 'bool', syntax);
    if (!Array.isArray(ports) || ports.some((p) => !Number.isSafeInteger(p)))
      throw typeError(ports, `${where}.ports`, '[]int', syntax);
    return { prefix, allow, ports: ports as number[] };
  });
}

/**
 * Type-checks one `originRequest` object and returns the fields it sets. Any wrongly typed value (including a
 * non-integer JSON duration) throws, which fails the whole configuration (§9.2).
 */
export function parseOriginRequest(value: unknown, field: string, syntax: ConfigSyntax): OriginRequestOverrides {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw typeError(value, field, 'config.OriginRequestConfig', syntax);
  const out: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(FIELD_KINDS)) {
    const v = member(value, name, syntax);
    if (v !== undefined && v !== null) out[name] = scalar(kind, v, `${field}.${name}`, syntax);
  }
  const ipRules = member(value, 'ipRules', syntax);
  if (ipRules !== undefined && ipRules !== null) out.ipRules = parseIpRules(ipRules, `${field}.ipRules`, syntax);
  const access = member(value, 'access', syntax);
  if (access !== undefined && access !== null) out.access = parseAccess(access, `${field}.access`, syntax);
  return out as OriginRequestOverrides;
}

/** Per-field inheritance (§10.4): an override wins when present; empty `ipRules` never overrides. */
export function resolveOriginRequest(
  base: OriginRequestConfig,
  overrides: OriginRequestOverrides,
): OriginRequestConfig {
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    if (k === 'ipRules' && (v as unknown[]).length === 0) continue;
    merged[k] = v;
  }
  return merged as unknown as OriginRequestConfig;
}

/** §10.3: `access.required` with audience tags needs a team name (cloudflared's `validateAccessConfiguration`). */
export function validateAccess(access: AccessConfig | undefined): void {
  if (access === undefined || !access.required) return;
  if (access.teamName === '' && access.audTag.length > 0) {
    throw new IngressConfigError('access.TeamName cannot be blank when access.audTags are present');
  }
}

/** Parses a CIDR the way Go's net.ParseCIDR accepts it; returns undefined when invalid. */
export function parseCidr(prefix: string): { address: string; bits: number; family: 4 | 6 } | undefined {
  const slash = prefix.indexOf('/');
  if (slash < 0) return undefined;
  const address = prefix.slice(0, slash);
  const bitsText = prefix.slice(slash + 1);
  const family = isIP(address);
  if (family === 0 || !/^\d{1,3}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits > (family === 4 ? 32 : 128)) return undefined;
  return { address, bits, family: family as 4 | 6 };
}

/** The option fields in cloudflared's struct order, which is the JSON member order of §9.4. */
const RAW_ORDER = [
  'connectTimeout',
  'tlsTimeout',
  'tcpKeepAlive',
  'noHappyEyeballs',
  'keepAliveConnections',
  'keepAliveTimeout',
  'httpHostHeader',
  'originServerName',
  'matchSNItoHost',
  'caPool',
  'noTLSVerify',
  'disableChunkedEncoding',
  'bastionMode',
  'proxyAddress',
  'proxyPort',
  'proxyType',
  'ipRules',
  'http2Origin',
  'access',
] as const;

/**
 * The `originRequest` object of §9.4: only values that differ from the defaults; `access` only when required;
 * durations as seconds.
 */
export function nonDefaultOriginRequest(cfg: OriginRequestConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of RAW_ORDER) {
    const v = cfg[key];
    if (key === 'access') {
      if (cfg.access?.required) {
        const { required, teamName, audTag, environment } = cfg.access;
        out.access = { required, teamName, audTag: [...audTag], ...(environment !== '' ? { environment } : {}) };
      }
    } else if (key === 'ipRules') {
      if (cfg.ipRules.length > 0)
        out.ipRules = cfg.ipRules.map((r) => ({ prefix: r.prefix, ports: [...r.ports], allow: r.allow }));
    } else if (v !== ORIGIN_REQUEST_DEFAULTS[key]) {
      out[key] = v;
    }
  }
  return out;
}
