/**
 * Start-up edge discovery (docs/protocol.md §2.1–§2.3, §2.5 `--edge`): SRV lookup with a DNS-over-TLS fallback, then every
 * SRV target resolved to IPs; the first two targets become the two regions of an {@link EdgeAddressPool}.
 */
import { isIP } from 'node:net';
import { lookupSrvOverTls, type DnsOverTlsOptions } from './dot.js';
import { EdgeDiscoveryError } from './errors.js';
import { splitHostPort } from '../util/host-port.js';
import { EdgeAddressPool, type EdgeAddressPoolOptions } from './pool.js';
import type { EdgeAddress } from './region.js';
import { systemEdgeResolver, type EdgeResolver, type SrvRecord } from './resolver.js';
import { edgeSrvName, orderSrvRecords } from './srv.js';

/** The logger calls discovery makes (a pino logger fits). Never given secrets. */
export interface EdgeDiscoveryLog {
  debug(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Options of {@link discoverEdge}. */
export interface DiscoverEdgeOptions extends EdgeAddressPoolOptions {
  /** `--region`, else the token's endpoint `e` (see `resolveEdgeRegion`). Empty or undefined = global edge. */
  region?: string;
  /** DNS access. Default {@link systemEdgeResolver}. */
  resolver?: EdgeResolver;
  /** Where the SRV fallback goes (§2.2), or `false` to disable it. Defaults to `1.1.1.1:853`. */
  dnsOverTls?: DnsOverTlsOptions | false;
  log?: EdgeDiscoveryLog;
}

/** Logged after a failed SRV lookup, like cloudflared's hints (§2.2). */
export const SRV_FAILURE_HINTS: readonly string[] = [
  'Please check the following to diagnose the edge discovery failure:',
  '  1. argotunnel.com must return "v2-origintunneld" SRV records; try: dig srv _v2-origintunneld._tcp.argotunnel.com',
  '  2. your DNS resolver must not return compressed SRV records (Go issue https://github.com/golang/go/issues/27546);',
  '     a public resolver such as 1.1.1.1 avoids that: https://developers.cloudflare.com/1.1.1.1/setting-up-1.1.1.1/',
];

/** Go prints a `*net.SRV` as `&{Target Port Priority Weight}` with a fully qualified target; messages keep that form. */
function describeSrv(r: SrvRecord): string {
  return `&{${r.name.endsWith('.') ? r.name : `${r.name}.`} ${r.port} ${r.priority} ${r.weight}}`;
}

async function lookupEdgeSrv(name: string, resolver: EdgeResolver, options: DiscoverEdgeOptions): Promise<SrvRecord[]> {
  let systemError: Error;
  try {
    return orderSrvRecords(await resolver.resolveSrv(name), options.random);
  } catch (err) {
    systemError = err as Error;
  }
  if (options.dnsOverTls !== false) {
    try {
      const records = await lookupSrvOverTls(name, { random: options.random, ...options.dnsOverTls });
      if (records.length > 0) return records;
    } catch {
      // cloudflared reports the system resolver's error, not the fallback's.
    }
  }
  options.log?.error(
    { err: systemError.message },
    'edge discovery: error looking up Cloudflare edge IPs: the DNS query failed',
  );
  for (const line of SRV_FAILURE_HINTS) options.log?.error({}, line);
  throw new EdgeDiscoveryError(`Could not lookup srv records on ${name}: ${systemError.message}`, {
    cause: systemError,
  });
}

async function resolveTarget(record: SrvRecord, resolver: EdgeResolver): Promise<EdgeAddress[]> {
  let ips;
  try {
    ips = await resolver.lookup(record.name);
  } catch (cause) {
    throw new EdgeDiscoveryError(`Couldn't resolve SRV record ${describeSrv(record)}: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (ips.length === 0) throw new EdgeDiscoveryError(`SRV record ${describeSrv(record)} had no IPs`);
  return ips.map((ip) => ({ host: ip.address, port: record.port, family: ip.family }));
}

/**
 * Discovers the edge. Every SRV target must resolve; at least two are required. Rejects with
 * {@link EdgeDiscoveryError} (fatal at start-up, §12.2).
 */
export async function discoverEdge(options: DiscoverEdgeOptions = {}): Promise<EdgeAddressPool> {
  const resolver = options.resolver ?? systemEdgeResolver();
  const name = edgeSrvName(options.region);
  options.log?.debug({ domain: name }, 'edge discovery: looking up edge SRV record');
  const records = await lookupEdgeSrv(name, resolver, options);
  const regions: EdgeAddress[][] = [];
  for (const record of records) {
    const addresses = await resolveTarget(record, resolver);
    options.log?.debug({ addresses: addresses.map((a) => a.host) }, 'edge discovery: resolved edge addresses');
    regions.push(addresses);
  }
  if (regions.length < 2) {
    throw new EdgeDiscoveryError(
      `expected at least 2 Cloudflare Regions regions, but SRV only returned ${regions.length}`,
    );
  }
  return new EdgeAddressPool(regions[0]!, regions[1]!, options);
}

/** Options of {@link staticEdgePool}: the pool options except `ipVersion`, which `--edge` fixes to `auto`. */
export interface StaticEdgeOptions extends Omit<EdgeAddressPoolOptions, 'ipVersion'> {
  resolver?: EdgeResolver;
  log?: EdgeDiscoveryLog;
}

/**
 * Resolves one `--edge` entry to a single address the way Go's `ResolveTCPAddr` does: an IP literal as is, a name to
 * its first IPv4 address (first non-IPv4 one when the host was bracketed).
 */
async function resolveStaticEntry(entry: string, resolver: EdgeResolver): Promise<EdgeAddress> {
  const hp = splitHostPort(entry);
  if (!hp) throw new Error(`invalid address ${entry}: expected host:port`);
  const literal = isIP(hp.host);
  if (literal !== 0) return { host: hp.host, port: hp.port, family: literal === 6 ? 6 : 4 };
  const ips = await resolver.lookup(hp.host);
  const wantV6 = entry.startsWith('[');
  const ip = ips.find((a) => (a.family === 6) === wantV6) ?? ips[0];
  if (!ip) throw new Error(`no address for ${hp.host}`);
  return { host: ip.address, port: hp.port, family: ip.family };
}

/**
 * `--edge host:port,…` (§2.5): each entry resolved to one address; entries that fail are logged and skipped; the
 * addresses are dealt alternately into region 1 and region 2 with IP version `auto`. Rejects with
 * {@link EdgeDiscoveryError} when no entry resolves.
 */
export async function staticEdgePool(
  entries: readonly string[],
  options: StaticEdgeOptions = {},
): Promise<EdgeAddressPool> {
  const resolver = options.resolver ?? systemEdgeResolver();
  const resolved: EdgeAddress[] = [];
  for (const entry of entries) {
    try {
      resolved.push(await resolveStaticEntry(entry, resolver));
    } catch (err) {
      options.log?.error(
        { address: entry, err: (err as Error).message },
        'edge discovery: failed to resolve to TCP address',
      );
    }
  }
  if (resolved.length === 0) throw new EdgeDiscoveryError('failed to resolve any edge address');
  return new EdgeAddressPool(
    resolved.filter((_, i) => i % 2 === 0),
    resolved.filter((_, i) => i % 2 === 1),
    { ...options, ipVersion: 'auto' },
  );
}
