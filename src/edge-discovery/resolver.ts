/**
 * The DNS lookups edge discovery needs, behind one injectable interface so that tests (and embedders with their own
 * DNS hook) never reach the real network. docs/protocol.md §2.1 (SRV), §2.3 (A/AAAA), §3.2 (TXT).
 */
import dns from 'node:dns';

/** One SRV record, as Node's resolver returns it. */
export interface SrvRecord {
  /** Target host name. */
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/** One resolved IP address. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** The lookups edge discovery performs. Every function rejects on DNS failure. */
export interface EdgeResolver {
  /** SRV records of `name`, in the order the DNS answer listed them. */
  resolveSrv(name: string): Promise<SrvRecord[]>;
  /** TXT records of `name`: one array of character-strings per record. */
  resolveTxt(name: string): Promise<string[][]>;
  /** A and AAAA addresses of `host` together, in the order the host's address selection prefers (§2.3). */
  lookup(host: string): Promise<ResolvedAddress[]>;
}

function toResolved(entries: readonly dns.LookupAddress[]): ResolvedAddress[] {
  return entries.map((e) => ({ address: e.address, family: e.family === 6 ? 6 : 4 }));
}

/**
 * The host's resolver: SRV/TXT through Node's resolver (the servers of `/etc/resolv.conf` or `dns.setServers`), A/AAAA
 * through `getaddrinfo` with the OS order kept (`order: 'verbatim'`), which carries the RFC 6724 preference that decides
 * the `auto` IP family (§2.3, §2.4).
 */
export function systemEdgeResolver(): EdgeResolver {
  return {
    resolveSrv: (name) => dns.promises.resolveSrv(name),
    resolveTxt: (name) => dns.promises.resolveTxt(name),
    lookup: async (host) => toResolved(await dns.promises.lookup(host, { all: true, order: 'verbatim' })),
  };
}

/** Options for {@link edgeResolverForServers}. */
export interface ServerResolverOptions {
  /** Which family comes first from `lookup` (no OS address selection applies here). Default `ipv4first`. */
  order?: 'ipv4first' | 'ipv6first';
  /** Per-query timeout passed to Node's resolver. */
  timeoutMs?: number;
  /** Attempts per server passed to Node's resolver. */
  tries?: number;
}

const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);

/**
 * A resolver that asks the given DNS servers (`"127.0.0.1:5353"`, `"[::1]:53"`, …) for everything, A/AAAA included,
 * without touching the process-wide resolver configuration.
 */
export function edgeResolverForServers(servers: readonly string[], options: ServerResolverOptions = {}): EdgeResolver {
  const resolver = new dns.promises.Resolver({ timeout: options.timeoutMs ?? -1, tries: options.tries ?? 4 });
  resolver.setServers([...servers]);
  const family = async (host: string, fam: 4 | 6): Promise<ResolvedAddress[] | Error> => {
    try {
      const ips = fam === 4 ? await resolver.resolve4(host) : await resolver.resolve6(host);
      return ips.map((address) => ({ address, family: fam }));
    } catch (err) {
      return err as Error;
    }
  };
  return {
    resolveSrv: (name) => resolver.resolveSrv(name),
    resolveTxt: (name) => resolver.resolveTxt(name),
    lookup: async (host) => {
      const [v4, v6] = await Promise.all([family(host, 4), family(host, 6)]);
      const results = options.order === 'ipv6first' ? [v6, v4] : [v4, v6];
      // A family without records is normal; any other failure, or both families failing, fails the lookup.
      for (const r of results) {
        if (r instanceof Error && !NO_RECORDS.has((r as NodeJS.ErrnoException).code ?? '')) throw r;
      }
      if (v4 instanceof Error && v6 instanceof Error) throw v4;
      return results.flatMap((r) => (r instanceof Error ? [] : r));
    },
  };
}
