/**
 * The configuration document (docs/protocol.md §9.2), validated in full before anything is applied: every rule, every
 * service and every `originRequest` value type. The same builder serves the remote JSON form and the local YAML file.
 */
import { IngressConfigError } from '../ingress/errors.js';
import {
  ORIGIN_REQUEST_DEFAULTS,
  member,
  parseDurationSeconds,
  parseOriginRequest,
  resolveOriginRequest,
  typeError,
  type ConfigSyntax,
} from '../ingress/origin-request.js';
import { isPlainObject } from '../util/go-json.js';
import { IngressRules, type IngressRuleConfig } from '../ingress/rules.js';

/** `warp-routing` defaults (§9.2, 2023.7.3 `ingress/config.go`). */
export const WARP_ROUTING_DEFAULTS = Object.freeze({ enabled: false, connectTimeout: 5, tcpKeepAlive: 30 });

/**
 * Private-network settings. cftunnel refuses private-network flows whatever `enabled` says (product decision);
 * the values are kept so they can be echoed (§9.4).
 */
export interface WarpRoutingConfig {
  readonly enabled: boolean;
  /** Seconds. */
  readonly connectTimeout: number;
  /** Seconds. */
  readonly tcpKeepAlive: number;
}

/** A validated configuration, ready to swap in. */
export interface TunnelConfig {
  readonly ingress: IngressRules;
  readonly warpRouting: WarpRoutingConfig;
  /** The source text (JSON document, or the YAML file), for logs and the `config` event. */
  readonly raw: string;
}

function optionalString(
  obj: Record<string, unknown>,
  key: string,
  field: string,
  syntax: ConfigSyntax,
): string | undefined {
  const v = member(obj, key, syntax);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw typeError(v, `${field}.${key}`, 'string', syntax);
  return v;
}

function ruleConfig(v: unknown, i: number, syntax: ConfigSyntax): IngressRuleConfig {
  const field = `ingress[${i}]`;
  if (!isPlainObject(v)) throw typeError(v, field, 'config.UnvalidatedIngressRule', syntax);
  return {
    hostname: optionalString(v, 'hostname', field, syntax),
    path: optionalString(v, 'path', field, syntax),
    service: optionalString(v, 'service', field, syntax),
    originRequest: parseOriginRequest(member(v, 'originRequest', syntax), `${field}.originRequest`, syntax),
  };
}

function warpRouting(v: unknown, syntax: ConfigSyntax): WarpRoutingConfig {
  if (v === undefined || v === null) return WARP_ROUTING_DEFAULTS;
  if (!isPlainObject(v)) throw typeError(v, 'warp-routing', 'config.WarpRoutingConfig', syntax);
  const enabled = member(v, 'enabled', syntax) ?? false;
  if (typeof enabled !== 'boolean') throw typeError(enabled, 'warp-routing.enabled', 'bool', syntax);
  const seconds = (key: 'connectTimeout' | 'tcpKeepAlive'): number => {
    const raw = member(v, key, syntax);
    return raw === undefined || raw === null
      ? WARP_ROUTING_DEFAULTS[key]
      : parseDurationSeconds(raw, `warp-routing.${key}`, syntax);
  };
  return { enabled, connectTimeout: seconds('connectTimeout'), tcpKeepAlive: seconds('tcpKeepAlive') };
}

/**
 * Builds a configuration from an already-decoded document (JSON object or YAML mapping).
 *
 * @throws {IngressConfigError} (or `UnsupportedServiceError`) for the first problem found.
 */
export function buildTunnelConfig(doc: unknown, raw: string, syntax: ConfigSyntax): TunnelConfig {
  if (!isPlainObject(doc)) throw typeError(doc, 'config', 'ingress.RemoteConfigJSON', syntax);
  const ingress = member(doc, 'ingress', syntax) ?? [];
  if (!Array.isArray(ingress)) throw typeError(ingress, 'ingress', '[]config.UnvalidatedIngressRule', syntax);
  const rules = ingress.map((r, i) => ruleConfig(r, i, syntax));
  const defaults = resolveOriginRequest(
    ORIGIN_REQUEST_DEFAULTS,
    parseOriginRequest(member(doc, 'originRequest', syntax), 'originRequest', syntax),
  );
  const warp = warpRouting(member(doc, 'warp-routing', syntax), syntax);
  return { ingress: IngressRules.fromConfig(rules, defaults), warpRouting: warp, raw };
}

/** Parses and validates a remote configuration document (UTF-8 JSON, §9.2). */
export function parseTunnelConfig(json: string): TunnelConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (cause) {
    throw new IngressConfigError(`configuration is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  // Go decodes `null` into the zero struct: no rules, so the 503 catch-all.
  return buildTunnelConfig(doc ?? {}, json, 'json');
}
