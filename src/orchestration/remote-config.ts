/**
 * The remotely managed configuration document (PROTOCOL.md §9.2), parsed the way Go's encoding/json reads it:
 * member names match case-insensitively and unknown members are ignored.
 */
import { IngressConfigError } from '../ingress/errors.js';
import { IngressRules, type IngressRuleConfig } from '../ingress/rules.js';

/** Private-network settings. cftunnel refuses private-network flows (product decision), but keeps what was asked. */
export interface WarpRoutingConfig {
  enabled: boolean;
}

/** A validated configuration, ready to swap in. */
export interface TunnelConfig {
  readonly ingress: IngressRules;
  readonly warpRouting: WarpRoutingConfig;
  /** The raw JSON text, for logs and the `config` event. */
  readonly raw: string;
}

function member(obj: Record<string, unknown>, name: string): unknown {
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function ruleConfig(v: unknown, n: number): IngressRuleConfig {
  if (!isObject(v)) throw new IngressConfigError(`Rule #${n} is not an object`);
  const text = (k: string): string | undefined => {
    const x = member(v, k);
    if (x === undefined || x === null) return undefined;
    if (typeof x !== 'string') throw new IngressConfigError(`Rule #${n}: ${k} must be a string`);
    return x;
  };
  const originRequest = member(v, 'originRequest');
  return {
    hostname: text('hostname'),
    path: text('path'),
    service: text('service'),
    originRequest: isObject(originRequest) ? originRequest : undefined,
  };
}

/** Parses and validates a configuration document; throws {@link IngressConfigError} for any problem. */
export function parseTunnelConfig(json: string): TunnelConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (cause) {
    throw new IngressConfigError(`configuration is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (!isObject(doc)) throw new IngressConfigError('configuration must be a JSON object');
  const ingress = member(doc, 'ingress') ?? [];
  if (!Array.isArray(ingress)) throw new IngressConfigError('ingress must be a list of rules');
  const defaults = member(doc, 'originRequest');
  const warp = member(doc, 'warp-routing');
  return {
    ingress: IngressRules.fromConfig(
      ingress.map((r, i) => ruleConfig(r, i + 1)),
      isObject(defaults) ? defaults : {},
    ),
    warpRouting: { enabled: isObject(warp) && member(warp, 'enabled') === true },
    raw: json,
  };
}
