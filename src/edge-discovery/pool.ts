/**
 * Edge addresses handed out to HA connections across two regions, with rotation after failures (docs/protocol.md §2.5,
 * §2.6). Single-threaded JavaScript needs no lock; every method is synchronous.
 */
import { NoFreeEdgeAddressError } from './errors.js';
import { DEFAULT_EDGE_IP_VERSION, type EdgeIpVersion } from './ip-version.js';
import { Region, type EdgeAddress, type PoolEnvironment } from './region.js';

/** `--max-edge-addr-retries` default (§2.6, §12.1). */
export const DEFAULT_MAX_EDGE_ADDR_RETRIES = 8;

/** Options of {@link EdgeAddressPool}. */
export interface EdgeAddressPoolOptions {
  /** How each region splits its addresses by family (§2.4). Default `auto`. */
  ipVersion?: EdgeIpVersion;
  /** `--max-edge-addr-retries`. Default 8. */
  maxEdgeAddrRetries?: number;
  /** Random source in [0, 1) for region tie-breaks and address picks. Default `Math.random`. */
  random?: () => number;
  /** Clock in ms for the 10-minute IPv4 fallback timer. Default `Date.now`. */
  now?: () => number;
}

/** What {@link EdgeAddressPool.giveBack} did. */
export interface EdgeRotation {
  /** The connection's new address, or undefined when no other address is free (cloudflared's `ErrNoAddressesLeft`). */
  address: EdgeAddress | undefined;
  /**
   * The connection's connectivity-error counter passed `--max-edge-addr-retries` (and was reset): cloudflared then
   * lets the protocol fall back (§2.6, §3.4 rule 1).
   */
  maxRetriesReached: boolean;
}

/** Result of {@link EdgeAddressPool.capHaConnections}. */
export interface HaConnectionsCap {
  haConnections: number;
  /** cloudflared's info log line when the request was reduced. */
  message: string | undefined;
}

/** The edge addresses of one tunnel and which connection index uses which. */
export class EdgeAddressPool {
  private readonly regions: [Region, Region];
  private readonly env: PoolEnvironment;
  private readonly maxRetries: number;
  private readonly connectivityErrors = new Map<number, number>();

  /** Builds the pool from the addresses of region 1 and region 2 (the first two SRV targets, §2.1). */
  constructor(region1: readonly EdgeAddress[], region2: readonly EdgeAddress[], options: EdgeAddressPoolOptions = {}) {
    this.env = { random: options.random ?? Math.random, now: options.now ?? Date.now };
    const ipVersion = options.ipVersion ?? DEFAULT_EDGE_IP_VERSION;
    this.regions = [new Region(region1, ipVersion, this.env), new Region(region2, ipVersion, this.env)];
    this.maxRetries = options.maxEdgeAddrRetries ?? DEFAULT_MAX_EDGE_ADDR_RETRIES;
  }

  /** Free addresses in both regions' active sets: the most HA connections the pool can serve right now. */
  get capacity(): number {
    return this.regions[0].available() + this.regions[1].available();
  }

  /**
   * Caps the requested `--ha-connections` at what the pool can serve, with cloudflared's message when it does
   * (`supervisor/supervisor.go`: requested total vs. available addresses, e.g. "You requested 4 HA connections but
   * I can give you at most 1." with one `--edge`).
   *
   * @param held - addresses already taken by connections counted in `requested` (index 0 when the others start).
   */
  capHaConnections(requested: number, held = 0): HaConnectionsCap {
    const available = this.capacity + held;
    if (requested <= available) return { haConnections: requested, message: undefined };
    return {
      haConnections: available,
      message: `You requested ${requested} HA connections but I can give you at most ${available}.`,
    };
  }

  /** The address `connIndex` currently holds, if any. */
  addrUsedBy(connIndex: number): EdgeAddress | undefined {
    return this.regions[0].addrUsedBy(connIndex) ?? this.regions[1].addrUsedBy(connIndex);
  }

  /**
   * The address for a connection attempt of `connIndex`: the one it already holds, else a free one from the region
   * with more free addresses (§2.5). Throws {@link NoFreeEdgeAddressError} when none is free.
   */
  getAddr(connIndex: number): EdgeAddress {
    const address = this.addrUsedBy(connIndex) ?? this.takeUnused(connIndex, undefined);
    if (!address) throw new NoFreeEdgeAddressError();
    return address;
  }

  /**
   * Rotates `connIndex` to another address after an error that calls for it (§2.6): its address goes back to the pool
   * (always as a connectivity failure, which drives the IPv6→IPv4 switch of §2.4) and a different free one is taken.
   * `connectivityError` (a dial/handshake failure) also counts towards `--max-edge-addr-retries`; like cloudflared the
   * count only resets when the limit is passed, not on success.
   */
  giveBack(connIndex: number, options: { connectivityError: boolean }): EdgeRotation {
    let maxRetriesReached = false;
    if (options.connectivityError) {
      const count = this.connectivityErrors.get(connIndex) ?? 0;
      maxRetriesReached = count >= this.maxRetries;
      this.connectivityErrors.set(connIndex, maxRetriesReached ? 0 : count + 1);
    }
    const old = this.addrUsedBy(connIndex);
    if (old && !this.regions[0].giveBack(old, true)) this.regions[1].giveBack(old, true);
    return { address: this.takeUnused(connIndex, old), maxRetriesReached };
  }

  /** Any address, used or not, from region 1's active set else region 2's (cloudflared's `GetAddrForRPC`, §2.7). */
  anyAddress(): EdgeAddress | undefined {
    return this.regions[0].any() ?? this.regions[1].any();
  }

  private takeUnused(connIndex: number, excluding: EdgeAddress | undefined): EdgeAddress | undefined {
    const [r1, r2] = this.regions;
    const a1 = r1.available();
    const a2 = r2.available();
    const first = a1 > a2 || (a1 === a2 && this.env.random() < 0.5) ? r1 : r2;
    const second = first === r1 ? r2 : r1;
    return first.assign(connIndex, excluding) ?? second.assign(connIndex, excluding);
  }
}
