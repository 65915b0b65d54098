/**
 * One edge region: its addresses split by family into a primary and a secondary set, which one is active, and which
 * connection uses which address (docs/protocol.md §2.4, §2.5).
 */
import type { EdgeIpVersion } from './ip-version.js';

/** One edge address; the same IP and port serve QUIC (UDP) and HTTP/2 (TCP). */
export interface EdgeAddress {
  /** IP literal. */
  host: string;
  port: number;
  family: 4 | 6;
}

/** After an IPv6 connectivity failure, the IPv4 set stays active at least this long (§2.4). */
export const SECONDARY_SET_TIMEOUT_MS = 10 * 60_000;

/** Address → index of the connection using it, or undefined when free. */
type AddressSet = Map<EdgeAddress, number | undefined>;

/** Injected randomness and time, so the pool is deterministic under test. */
export interface PoolEnvironment {
  random: () => number;
  now: () => number;
}

/** One region's address sets; used through `EdgeAddressPool`, which owns two of them. */
export class Region {
  private readonly primary: AddressSet = new Map();
  private readonly secondary: AddressSet = new Map();
  private active: AddressSet;
  private primaryDeadline = 0;

  constructor(
    addresses: readonly EdgeAddress[],
    ipVersion: EdgeIpVersion,
    private readonly env: PoolEnvironment,
  ) {
    const v4: AddressSet = new Map();
    const v6: AddressSet = new Map();
    for (const a of addresses) (a.family === 4 ? v4 : v6).set(a, undefined);
    // The family of the first resolved address is the system's preference (§2.3); an empty region prefers IPv6.
    const preferred = addresses[0]?.family ?? 6;
    const [first, second] =
      ipVersion === '4' ? [v4, undefined] : ipVersion === '6' ? [v6, undefined] : preferred === 4 ? [v4, v6] : [v6, v4];
    for (const [a] of first) this.primary.set(a, undefined);
    if (second) for (const [a] of second) this.secondary.set(a, undefined);
    this.active = this.primary;
  }

  /** Whether the secondary set is currently active. */
  get usingSecondary(): boolean {
    return this.active !== this.primary;
  }

  /** The address `connIndex` holds in either set. */
  addrUsedBy(connIndex: number): EdgeAddress | undefined {
    return usedBy(this.primary, connIndex) ?? usedBy(this.secondary, connIndex);
  }

  /** Free addresses of the active set. */
  available(): number {
    let n = 0;
    for (const owner of this.active.values()) if (owner === undefined) n++;
    return n;
  }

  /** Takes a random free address of the active set other than `excluding` for `connIndex`. */
  assign(connIndex: number, excluding: EdgeAddress | undefined): EdgeAddress | undefined {
    const free = [...this.active].filter(([a, owner]) => owner === undefined && a !== excluding).map(([a]) => a);
    if (free.length === 0) return undefined;
    const chosen = free[Math.floor(this.env.random() * free.length)]!;
    this.active.set(chosen, connIndex);
    return chosen;
  }

  /** Any address of the active set, used or not. */
  any(): EdgeAddress | undefined {
    return this.active.keys().next().value;
  }

  /**
   * Frees `address` if it belongs to this region; with a connectivity error, applies the family switching rules of
   * §2.4. Returns whether the address was found here.
   */
  giveBack(address: EdgeAddress, connectivityError: boolean): boolean {
    const set = this.primary.has(address) ? this.primary : this.secondary.has(address) ? this.secondary : undefined;
    if (!set) return false;
    set.set(address, undefined);
    if (!connectivityError) return true;
    if (!this.usingSecondary) {
      if (address.family === 6 && this.secondary.size > 0) {
        this.active = this.secondary;
        this.primaryDeadline = this.env.now() + SECONDARY_SET_TIMEOUT_MS;
      }
      return true;
    }
    if (address.family === 4 || this.primaryDeadline < this.env.now()) this.active = this.primary;
    return true;
  }
}

function usedBy(set: AddressSet, connIndex: number): EdgeAddress | undefined {
  for (const [a, owner] of set) if (owner === connIndex) return a;
  return undefined;
}
