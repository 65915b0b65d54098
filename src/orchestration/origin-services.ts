/**
 * Live origin services for the rules of the current configuration. One service (and so one connection pool) per
 * rule, created on first use. When a configuration is replaced, the previous rules' services are closed once the
 * requests still using them have finished — response bodies and upgraded streams included (docs/protocol.md §9.3).
 */
import { finished } from 'node:stream';
import { createOriginService, type OriginService, type OriginServiceContext } from '../proxy/index.js';
import type { OriginRequest, OriginResponse } from '../proxy/types.js';
import type { IngressRule } from '../ingress/rules.js';
import type { TunnelConfig } from './remote-config.js';

/** Counts requests in flight on one service and closes it when retired and idle. */
class TrackedService implements OriginService {
  private active = 0;
  private retired = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly inner: OriginService) {}

  private done(): void {
    this.active--;
    if (this.retired && this.active === 0) void this.close().catch(() => undefined);
  }

  async roundTrip(req: OriginRequest, signal: AbortSignal): Promise<OriginResponse> {
    this.active++;
    let res: OriginResponse;
    try {
      res = await this.inner.roundTrip(req, signal);
    } catch (err) {
      this.done();
      throw err;
    }
    const stream = res.socket ?? res.body;
    if (stream === null) this.done();
    else finished(stream, { readable: true, writable: res.socket !== undefined }, () => this.done());
    return res;
  }

  /** Closes now if idle, else after the last in-flight request. */
  retire(): void {
    this.retired = true;
    if (this.active === 0) void this.close().catch(() => undefined);
  }

  /** Closes after the requests that follow (for a rule of an already replaced configuration). */
  retireAfterUse(): void {
    this.retired = true;
  }

  close(): Promise<void> {
    this.closing ??= this.inner.close();
    return this.closing;
  }
}

/** Resolves ingress rules to origin services. */
export class OriginServices {
  private byRule = new Map<IngressRule, TrackedService>();
  private config: TunnelConfig | undefined;

  /**
   * @param context per-tunnel inputs (tags, Access team URL override). It is read when a rule's service is first
   * used, so changes apply to services created afterwards.
   */
  constructor(readonly context: OriginServiceContext = {}) {}

  /** The service for `rule`, created on first use. */
  serviceFor(rule: IngressRule): OriginService {
    let service = this.byRule.get(rule);
    if (service === undefined) {
      const inProcess = this.context.inProcess?.get(rule.service.canonical);
      service = new TrackedService(
        inProcess ? inProcess() : createOriginService(rule.service, rule.originRequest, this.context, rule.access),
      );
      if (this.config !== undefined && !this.config.ingress.rules.includes(rule)) {
        // A request routed just before a swap: serve it, then close, instead of keeping a stale pool.
        service.retireAfterUse();
        return service;
      }
      this.byRule.set(rule, service);
    }
    return service;
  }

  /**
   * Called after a new configuration was swapped in: services of rules that are no longer current are closed as
   * soon as their in-flight requests have finished.
   */
  retire(current: TunnelConfig): void {
    if (this.config === current) return;
    this.config = current;
    const live = new Set(current.ingress.rules);
    for (const [rule, service] of this.byRule) {
      if (!live.has(rule)) {
        this.byRule.delete(rule);
        service.retire();
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
