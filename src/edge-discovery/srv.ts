/** SRV names and record order for edge discovery (docs/protocol.md §2.1). */
import { EdgeDiscoveryOptionError } from './errors.js';
import type { SrvRecord } from './resolver.js';

/** SRV service of the global edge (§2.1). */
export const EDGE_SRV_SERVICE = 'v2-origintunneld';
/** SRV protocol label (§2.1). */
export const EDGE_SRV_PROTO = 'tcp';
/** Domain holding the edge SRV records (§2.1). */
export const EDGE_SRV_DOMAIN = 'argotunnel.com';

/** `v2-origintunneld`, or `<region>-v2-origintunneld` for a regional edge such as `us` or `fed` (§2.1). */
export function regionalServiceName(region?: string): string {
  return region ? `${region}-${EDGE_SRV_SERVICE}` : EDGE_SRV_SERVICE;
}

/** The DNS name queried for SRV records, e.g. `_us-v2-origintunneld._tcp.argotunnel.com` (§2.1). */
export function edgeSrvName(region?: string): string {
  return `_${regionalServiceName(region)}._${EDGE_SRV_PROTO}.${EDGE_SRV_DOMAIN}`;
}

/**
 * The region to discover: `--region` or the token's endpoint `e`; both at once is a start-up error in cloudflared
 * (`cmd/cloudflared/tunnel/configuration.go`).
 */
export function resolveEdgeRegion(
  regionFlag: string | undefined,
  tokenEndpoint: string | undefined,
): string | undefined {
  if (regionFlag && tokenEndpoint)
    throw new EdgeDiscoveryOptionError('region provided with a token that has an endpoint');
  return regionFlag || tokenEndpoint || undefined;
}

/**
 * Orders SRV records the way Go's resolver returns them, since the first two become region 1 and 2 (§2.1): ascending
 * priority, and within one priority a weighted random order (RFC 2782: each pick has probability weight/remaining
 * weight; all-zero weights keep their order).
 */
export function orderSrvRecords(records: readonly SrvRecord[], random: () => number = Math.random): SrvRecord[] {
  const sorted = [...records].sort((a, b) => a.priority - b.priority || a.weight - b.weight);
  let start = 0;
  while (start < sorted.length) {
    let end = start + 1;
    while (end < sorted.length && sorted[end]!.priority === sorted[start]!.priority) end++;
    shuffleByWeight(sorted, start, end, random);
    start = end;
  }
  return sorted;
}

function shuffleByWeight(list: SrvRecord[], start: number, end: number, random: () => number): void {
  let remaining = 0;
  for (let i = start; i < end; i++) remaining += list[i]!.weight;
  for (let head = start; remaining > 0 && end - head > 1; head++) {
    const pick = Math.floor(random() * remaining);
    let sum = 0;
    for (let i = head; i < end; i++) {
      sum += list[i]!.weight;
      if (sum > pick) {
        [list[head], list[i]] = [list[i]!, list[head]!];
        break;
      }
    }
    remaining -= list[head]!.weight;
  }
}
