/** Edge address pools for supervisor tests (the production path builds them from `--edge` or DNS). */
import { EdgeAddressPool, type EdgeAddressPoolOptions } from '../../src/edge-discovery/index.js';

/** A pool whose addresses are dealt alternately into the two regions, like `--edge` does (§2.5). */
export function poolOf(
  addresses: ReadonlyArray<{ host: string; port: number }>,
  options: EdgeAddressPoolOptions = {},
): EdgeAddressPool {
  const all = addresses.map((a) => ({ host: a.host, port: a.port, family: 4 as const }));
  return new EdgeAddressPool(
    all.filter((_, i) => i % 2 === 0),
    all.filter((_, i) => i % 2 === 1),
    { ipVersion: 'auto', random: () => 0, ...options },
  );
}
