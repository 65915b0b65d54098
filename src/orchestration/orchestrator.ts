/**
 * Holds the tunnel's current configuration and applies pushed versions (docs/protocol.md §9.3): a version at or below
 * the current one is ignored, an invalid one keeps the last good configuration, a valid one is swapped in
 * atomically (requests already routed keep the rules object they were given).
 */
import { EventEmitter } from 'node:events';
import { checkCaPools } from './ca-pools.js';
import { parseTunnelConfig, type TunnelConfig } from './remote-config.js';
import { wireText } from '../errors.js';
import { OriginProxy } from '../proxy/origin-proxy.js';
import type { RequestObserver } from '../proxy/types.js';
import { OriginServices } from './origin-services.js';

/** Version before any remote configuration was applied (§9.3). */
export const INITIAL_CONFIG_VERSION = -1;

/** What the connector answers to an `updateConfiguration` (§9.3). */
export interface ConfigUpdateResult {
  latestAppliedVersion: number;
  /** Error text, or null when the update applied or was ignored. */
  err: string | null;
}

/** Events emitted by {@link Orchestrator}. */
export interface OrchestratorEvents {
  config: [version: number, config: TunnelConfig];
}

/** Owns the live configuration. */
export class Orchestrator extends EventEmitter<OrchestratorEvents> {
  private version = INITIAL_CONFIG_VERSION;
  private current: TunnelConfig;
  private currentProxy: OriginProxy | undefined;

  /**
   * @param initial the local configuration (from `--url`, a config file, or the default 503 catch-all).
   * @param origins the live origin services the configurations' rules resolve to.
   * @param observer observes every request the origin proxies serve (metrics, events, diagnostics_channel).
   */
  constructor(
    initial: TunnelConfig,
    readonly origins: OriginServices = new OriginServices(),
    private readonly observer?: RequestObserver,
  ) {
    super();
    this.current = initial;
  }

  /**
   * The origin proxy of the current configuration (cloudflared's `GetOriginProxy`): a request routed with it keeps
   * its rules even when a newer configuration is swapped in while it runs (§9.3).
   */
  originProxy(): OriginProxy {
    this.currentProxy ??= new OriginProxy(this.current.ingress, this.origins, this.observer);
    return this.currentProxy;
  }

  /** The configuration new requests are routed with. */
  get config(): TunnelConfig {
    return this.current;
  }

  /** Version of the applied remote configuration, or -1. */
  get currentVersion(): number {
    return this.version;
  }

  /**
   * Applies a pushed configuration (`config` is the UTF-8 JSON document of §9.2). Never rejects. Asynchronous because
   * the rules' CA pool files are read before the swap.
   */
  async updateConfiguration(version: number, config: Buffer | string): Promise<ConfigUpdateResult> {
    if (version <= this.version) return { latestAppliedVersion: this.version, err: null };
    let next: TunnelConfig;
    try {
      next = parseTunnelConfig(typeof config === 'string' ? config : config.toString('utf8'));
      await checkCaPools(next);
    } catch (err) {
      return { latestAppliedVersion: this.version, err: wireText(err) };
    }
    // Another connection may have applied a newer version while the CA pools were read.
    if (version <= this.version) return { latestAppliedVersion: this.version, err: null };
    this.current = next;
    this.currentProxy = undefined;
    this.version = version;
    this.emit('config', version, next);
    return { latestAppliedVersion: version, err: null };
  }
}
