/** Edge discovery, address pool and protocol-percentage lookup (docs/protocol.md §2, §3.2). */
export { discoverEdge, staticEdgePool, SRV_FAILURE_HINTS } from './discovery.js';
export type { DiscoverEdgeOptions } from './discovery.js';
export { EdgeAddressPool } from './pool.js';
export type { EdgeAddressPoolOptions } from './pool.js';
export { SECONDARY_SET_TIMEOUT_MS } from './region.js';
export type { EdgeAddress } from './region.js';
export { parseEdgeIpVersion, ipVersionForBindAddress, DEFAULT_EDGE_IP_VERSION } from './ip-version.js';
export type { EdgeIpVersion } from './ip-version.js';
export { systemEdgeResolver, edgeResolverForServers } from './resolver.js';
export type { SrvRecord } from './resolver.js';
export { edgeSrvName, resolveEdgeRegion, orderSrvRecords } from './srv.js';
export { lookupSrvOverTls } from './dot.js';
export {
  fetchProtocolPercentages,
  parseProtocolPercentages,
  protocolBucket,
  selectByPercentage,
  fnv1a32,
  PROTOCOL_PERCENTAGE_RECORD,
} from './protocol-percentage.js';
export {
  EdgeDiscoveryError,
  EdgeDiscoveryOptionError,
  NoFreeEdgeAddressError,
  DnsOverTlsError,
  ProtocolPercentageError,
} from './errors.js';
