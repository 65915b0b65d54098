/**
 * Ingress rules: validation (PROTOCOL.md §10.3) and first-match routing (§10.1) of requests to services.
 * Immutable once built, so a configuration swap is a pointer swap and in-flight requests keep their rules.
 */
import { domainToASCII } from 'node:url';
import { IngressConfigError } from './errors.js';
import { parseIngressService, type IngressService } from './service.js';

/** One rule as it appears in a configuration document (§9.2). */
export interface IngressRuleConfig {
  hostname?: string;
  path?: string;
  service?: string;
  originRequest?: Record<string, unknown>;
}

/** A validated rule. */
export interface IngressRule {
  /** Zero-based position in the configuration. */
  readonly index: number;
  readonly hostname: string;
  /** IDNA/punycode form of `hostname` when it differs, else undefined. */
  readonly punycodeHostname: string | undefined;
  readonly path: RegExp | undefined;
  readonly pathSource: string;
  readonly service: IngressService;
  readonly originRequest: Readonly<Record<string, unknown>>;
}

/** Used when a configuration has no rules at all (§10.3). */
export const DEFAULT_CATCH_ALL_SERVICE = 'http_status:503';

function isCatchAll(hostname: string, path: string): boolean {
  return (hostname === '' || hostname === '*') && path === '';
}

function validateHostname(hostname: string, ruleNumber: number): void {
  if (/:\d+$/.test(hostname)) throw new IngressConfigError('Hostname cannot contain a port');
  const star = hostname.lastIndexOf('*');
  if (star > 0 || (star === 0 && hostname.length > 1 && !hostname.startsWith('*.'))) {
    throw new IngressConfigError(
      `Hostname patterns can have at most one wildcard character ("*") and it can only be used for subdomains, e.g. "*.example.com" (rule #${ruleNumber})`,
    );
  }
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '' || pattern === '*') return true;
  if (pattern === host) return true;
  return pattern.startsWith('*.') && host.endsWith(pattern.slice(1));
}

/** Strips a `:port` suffix the way cloudflared does before matching (§10.1 step 1). */
export function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(1, end) : host;
  }
  const colon = host.lastIndexOf(':');
  if (colon > 0 && host.indexOf(':') === colon && /^\d*$/.test(host.slice(colon + 1))) return host.slice(0, colon);
  return host;
}

/** An ordered, validated rule list. */
export class IngressRules {
  private constructor(readonly rules: readonly IngressRule[]) {}

  /** Validates rules in order; throws {@link IngressConfigError} on the first problem (§10.3). */
  static fromConfig(configs: readonly IngressRuleConfig[], defaults: Record<string, unknown> = {}): IngressRules {
    if (configs.length === 0) configs = [{ service: DEFAULT_CATCH_ALL_SERVICE }];
    const rules: IngressRule[] = [];
    for (const [index, cfg] of configs.entries()) {
      const hostname = cfg.hostname ?? '';
      const pathSource = cfg.path ?? '';
      const ruleNumber = index + 1;
      validateHostname(hostname, ruleNumber);
      const last = index === configs.length - 1;
      if (last && !isCatchAll(hostname, pathSource)) {
        throw new IngressConfigError(
          'The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)',
        );
      }
      if (!last && isCatchAll(hostname, pathSource)) {
        throw new IngressConfigError(
          `Rule #${ruleNumber} is matching the hostname '${hostname}', but this will match every hostname, meaning the rules which follow it will never be triggered.`,
        );
      }
      let path: RegExp | undefined;
      if (pathSource !== '') {
        try {
          path = new RegExp(pathSource);
        } catch (cause) {
          throw new IngressConfigError(`Rule #${ruleNumber} has an invalid regex`, { cause });
        }
      }
      if (cfg.service === undefined || cfg.service === '') {
        throw new IngressConfigError(`Rule #${ruleNumber} has no service`);
      }
      const ascii = hostname === '' ? '' : domainToASCII(hostname.replace(/^\*\./, 'x.'));
      const punycode = ascii === '' ? undefined : hostname.startsWith('*.') ? `*.${ascii.slice(2)}` : ascii;
      rules.push({
        index,
        hostname,
        punycodeHostname: punycode !== undefined && punycode !== hostname ? punycode : undefined,
        path,
        pathSource,
        service: parseIngressService(cfg.service),
        originRequest: { ...defaults, ...(cfg.originRequest ?? {}) },
      });
    }
    return new IngressRules(rules);
  }

  /** The first rule matching `host` (port ignored) and `path`, else the last (catch-all) rule (§10.1). */
  match(host: string, path: string): IngressRule {
    const bare = stripPort(host);
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      const hostOk =
        hostMatches(rule.hostname, bare) ||
        (rule.punycodeHostname !== undefined && hostMatches(rule.punycodeHostname, bare));
      if (hostOk && (rule.path === undefined || rule.path.test(path))) return rule;
    }
    return rules[rules.length - 1]!;
  }
}
