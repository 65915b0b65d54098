/**
 * Live origin services for the rules of the current configuration. One service (and so one connection pool) per
 * rule, created on first use; when a configuration is replaced, the previous rules' services are closed once the
 * requests still using them have finished (PROTOCOL.md §9.3 step 4).
 */
import { createOriginService, type OriginRequestOptions, type OriginService } from '../proxy/index.js';
import type { IngressRule } from '../ingress/rules.js';
import type { TunnelConfig } from './remote-config.js';

function seconds(raw: Record<string, unknown>, key: string): number | undefined {
  const v = raw[key];
  return typeof v === 'number' && Number.isFinite(v) ? v * 1000 : undefined;
}

function text(raw: Record<string, unknown>, key: string): string | undefined {
  const v = raw[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Maps a rule's `originRequest` JSON (§10.5: durations in integer seconds) to the proxy's options. */
export function originRequestOptions(raw: Readonly<Record<string, unknown>>): OriginRequestOptions {
  return {
    connectTimeoutMs: seconds(raw, 'connectTimeout'),
    tcpKeepAliveMs: seconds(raw, 'tcpKeepAlive'),
    keepAliveTimeoutMs: seconds(raw, 'keepAliveTimeout'),
    httpHostHeader: text(raw, 'httpHostHeader'),
    originServerName: text(raw, 'originServerName'),
    caPool: text(raw, 'caPool'),
    noTLSVerify: raw.noTLSVerify === true,
  };
}

/** Resolves ingress rules to origin services. */
export class OriginServices {
  private byRule = new Map<IngressRule, OriginService>();
  private config: TunnelConfig | undefined;

  /** The service for `rule`, created on first use. */
  serviceFor(rule: IngressRule): OriginService {
    let service = this.byRule.get(rule);
    if (service === undefined) {
      service = createOriginService(rule.service.canonical, originRequestOptions(rule.originRequest));
      this.byRule.set(rule, service);
    }
    return service;
  }

  /**
   * Called after a new configuration was swapped in: services of rules that are no longer current are closed.
   * Closing an undici pool lets in-flight requests finish, so requests routed before the swap still complete.
   */
  retire(current: TunnelConfig): void {
    if (this.config === current) return;
    this.config = current;
    const live = new Set(current.ingress.rules);
    for (const [rule, service] of this.byRule) {
      if (!live.has(rule)) {
        this.byRule.delete(rule);
        void service.close().catch(() => undefined);
      }
    }
  }

  /** Closes every service. */
  async close(): Promise<void> {
    const services = [...this.byRule.values()];
    this.byRule.clear();
    await Promise.allSettled(services.map((s) => s.close()));
  }
}
