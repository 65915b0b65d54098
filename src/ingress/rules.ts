/**
 * Ingress rules: validation (docs/protocol.md §10.3) and first-match routing (§10.1) of requests to services.
 * Immutable once built, so a configuration swap is a pointer swap and in-flight requests keep their rules.
 */
import { domainToASCII } from 'node:url';
import { IngressConfigError } from './errors.js';
import {
  ORIGIN_REQUEST_DEFAULTS,
  resolveOriginRequest,
  validateAccess,
  type AccessConfig,
  type OriginRequestConfig,
  type OriginRequestOverrides,
} from './origin-request.js';
import { compileRe2, type PathPattern } from './regex.js';
import { parseIngressService, type IngressService } from './service.js';
import { splitGoHostPort } from '../util/host-port.js';

/** One rule as read from a configuration document (§9.2), `originRequest` already type-checked. */
export interface IngressRuleConfig {
  hostname?: string;
  path?: string;
  service?: string;
  originRequest?: OriginRequestOverrides;
}

/** A validated rule. */
export interface IngressRule {
  /** Zero-based position in the configuration. */
  readonly index: number;
  readonly hostname: string;
  /** IDNA/punycode form of `hostname` when it differs, else undefined. */
  readonly punycodeHostname: string | undefined;
  /** The compiled `path` pattern (linear-time RE2, see regex.ts), undefined when the rule has none. */
  readonly path: PathPattern | undefined;
  /** The `path` as configured (RE2 source), '' when absent. */
  readonly pathSource: string;
  readonly service: IngressService;
  /** Resolved options (§10.4). */
  readonly originRequest: OriginRequestConfig;
  /**
   * The rule's *own* `access` block. cloudflared enforces Access only from the rule's own `originRequest`, not
   * from the inherited top-level one (`ingress/ingress.go` validateIngress).
   */
  readonly access: AccessConfig | undefined;
}

/** Used when a configuration has no rules at all (§10.3). */
export const DEFAULT_CATCH_ALL_SERVICE = 'http_status:503';

/** cloudflared's texts for the §10.3 checks (`ingress/ingress.go`). */
export const ERR_LAST_RULE_NOT_CATCH_ALL =
  'The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)';
export const ERR_BAD_WILDCARD =
  'Hostname patterns can have at most one wildcard character ("*") and it can only be used for subdomains, e.g. "*.example.com"';
export const ERR_HOSTNAME_CONTAINS_PORT = 'Hostname cannot contain a port';

function isCatchAll(hostname: string, path: string): boolean {
  return (hostname === '' || hostname === '*') && path === '';
}

function validateHostname(hostname: string, pathSource: string, index: number, total: number): void {
  if (splitGoHostPort(hostname) !== undefined) throw new IngressConfigError(ERR_HOSTNAME_CONTAINS_PORT);
  if (hostname.lastIndexOf('*') > 0) throw new IngressConfigError(ERR_BAD_WILDCARD);
  const catchAll = isCatchAll(hostname, pathSource);
  const last = index === total - 1;
  if (last && !catchAll) throw new IngressConfigError(ERR_LAST_RULE_NOT_CATCH_ALL);
  if (!last && catchAll) {
    throw new IngressConfigError(
      `Rule #${index + 1} is matching the hostname '${hostname}', but this will match every hostname, meaning the rules which follow it will never be triggered.`,
    );
  }
}

/** cloudflared's host test (`matchHost`): exact (case-sensitive) or `*.`-suffix. */
function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  return pattern.startsWith('*.') && host.endsWith(pattern.slice(1));
}

/** Strips a `:port` suffix the way cloudflared does before matching (§10.1 step 1: Go SplitHostPort). */
export function stripPort(host: string): string {
  return splitGoHostPort(host)?.host ?? host;
}

function punycodeOf(hostname: string): string | undefined {
  if (isCatchAll(hostname, '')) return undefined;
  const wildcard = hostname.startsWith('*.');
  const ascii = domainToASCII(wildcard ? hostname.slice(2) : hostname);
  if (ascii === '') return undefined;
  const full = wildcard ? `*.${ascii}` : ascii;
  return full !== hostname ? full : undefined;
}

function buildRule(cfg: IngressRuleConfig, index: number, total: number, defaults: OriginRequestConfig): IngressRule {
  const hostname = cfg.hostname ?? '';
  const pathSource = cfg.path ?? '';
  const originRequest = resolveOriginRequest(defaults, cfg.originRequest ?? {});
  // cloudflared's order: service, access, hostname, path regex (CA pools are read afterwards: orchestration/ca-pools.ts).
  const service = parseIngressService(cfg.service ?? '', originRequest);
  const access = cfg.originRequest?.access;
  validateAccess(access);
  validateHostname(hostname, pathSource, index, total);
  let path: PathPattern | undefined;
  if (pathSource !== '') {
    try {
      path = compileRe2(pathSource);
    } catch (cause) {
      throw new IngressConfigError(`Rule #${index + 1} has an invalid regex: ${(cause as Error).message}`, { cause });
    }
  }
  return { index, hostname, punycodeHostname: punycodeOf(hostname), path, pathSource, service, originRequest, access };
}

/** An ordered, validated rule list. */
export class IngressRules {
  private constructor(
    readonly rules: readonly IngressRule[],
    /** The top-level `originRequest` every rule inherits from. */
    readonly defaults: OriginRequestConfig,
  ) {}

  /**
   * Validates rules in order; throws on the first problem (§10.3). With no rules at all the single catch-all
   * `http_status:503` is used.
   */
  static fromConfig(
    configs: readonly IngressRuleConfig[],
    defaults: OriginRequestConfig = ORIGIN_REQUEST_DEFAULTS,
  ): IngressRules {
    const list = configs.length === 0 ? [{ service: DEFAULT_CATCH_ALL_SERVICE }] : configs;
    return new IngressRules(
      list.map((cfg, i) => buildRule(cfg, i, list.length, defaults)),
      defaults,
    );
  }

  /** The first rule matching `host` (port ignored) and `path`, else the last (catch-all) rule (§10.1). */
  match(host: string, path: string): IngressRule {
    const bare = stripPort(host);
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      const hostOk =
        rule.hostname === '' ||
        rule.hostname === '*' ||
        hostMatches(rule.hostname, bare) ||
        (rule.punycodeHostname !== undefined && hostMatches(rule.punycodeHostname, bare));
      if (hostOk && (rule.path === undefined || rule.path.test(path))) return rule;
    }
    return rules[rules.length - 1]!;
  }
}
