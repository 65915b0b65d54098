/**
 * When a tunnel is configured, and with what: `ready()` only says a connection registered, while the routing of a
 * remotely managed tunnel arrives afterwards in a configuration push (docs/protocol.md §9.3). A locally managed
 * tunnel (the edge said `tunnelIsRemotelyManaged: false`, §6.8) never receives one: its local rules are final.
 */
import type { ConnectionDetails } from '../rpc/tunnel/connection-details.js';
import { CftunnelError } from '../errors.js';
import type { TunnelConfig } from './remote-config.js';

/** A configuration the tunnel routes requests with. */
export interface ConfigurationEvent {
  /** `remote`: pushed by the edge (the dashboard's); `local`: the tunnel's own rules (locally managed tunnel). */
  readonly source: 'remote' | 'local';
  /** Version of the remote configuration; -1 for a local one. */
  readonly version: number;
  /**
   * Public hostnames the rules route, in rule order and without duplicates; wildcards as written
   * (`*.example.com`); the catch-all rule has none.
   */
  readonly hostnames: readonly string[];
  /** The validated configuration. */
  readonly config: TunnelConfig;
}

/** Hostnames of a configuration's rules (§10.1): every non-empty rule hostname except the catch-all `*`. */
export function publicHostnames(config: TunnelConfig): string[] {
  const out = new Set<string>();
  for (const rule of config.ingress.rules) if (rule.hostname !== '' && rule.hostname !== '*') out.add(rule.hostname);
  return [...out];
}

/** Builds the event for a configuration. */
export function configurationEvent(
  source: 'remote' | 'local',
  version: number,
  config: TunnelConfig,
): ConfigurationEvent {
  return { source, version, hostnames: publicHostnames(config), config };
}

/**
 * Settles once with the first configuration: the first remote one applied, or the local one when registration says
 * the tunnel is locally managed; rejects when startup fails or the tunnel closes first.
 */
export class FirstConfiguration {
  readonly promise: Promise<ConfigurationEvent>;
  private settle!: { resolve(e: ConfigurationEvent): void; reject(err: unknown): void };

  constructor() {
    this.promise = new Promise<ConfigurationEvent>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // Nobody may ever ask: a rejection must not become an unhandled one.
    this.promise.catch(() => undefined);
  }

  /** A remote configuration was applied. */
  remote(event: ConfigurationEvent): void {
    this.settle.resolve(event);
  }

  /** Connection 0 registered: a locally managed tunnel is configured by its own rules from now on. */
  registered(details: ConnectionDetails, local: () => ConfigurationEvent): ConfigurationEvent | undefined {
    if (details.tunnelIsRemotelyManaged) return undefined;
    const event = local();
    this.settle.resolve(event);
    return event;
  }

  /** Startup failed or the tunnel is closing (a no-op once settled). */
  fail(err: unknown): void {
    this.settle.reject(err);
  }
}

/** `configured()` of a tunnel closed before any configuration arrived. */
export function closedBeforeConfigured(): CftunnelError {
  return new CftunnelError('CFT_ERR_ABORTED', 'tunnel closed before a configuration arrived');
}
