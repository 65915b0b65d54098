/** Edge discovery, address pool and protocol-percentage lookup (docs/protocol.md §2, §3.2). */
export { discoverEdge, staticEdgePool, SRV_FAILURE_HINTS } from './discovery.js';
export type { DiscoverEdgeOptions, StaticEdgeOptions, EdgeDiscoveryLog } from './discovery.js';
export { EdgeAddressPool, DEFAULT_MAX_EDGE_ADDR_RETRIES } from './pool.js';
export type { EdgeAddressPoolOptions, EdgeRotation, HaConnectionsCap } from './pool.js';
export { SECONDARY_SET_TIMEOUT_MS } from './region.js';
export type { EdgeAddress } from './region.js';
export { parseEdgeIpVersion, ipVersionForBindAddress, DEFAULT_EDGE_IP_VERSION } from './ip-version.js';
export type { EdgeIpVersion, IpVersionForBind } from './ip-version.js';
export { systemEdgeResolver, edgeResolverForServers } from './resolver.js';
export type { EdgeResolver, SrvRecord, ResolvedAddress, ServerResolverOptions } from './resolver.js';
export { edgeSrvName, regionalServiceName, resolveEdgeRegion, orderSrvRecords } from './srv.js';
export { lookupSrvOverTls, DOT_DEFAULT_HOST, DOT_DEFAULT_PORT, DOT_SERVER_NAME, DOT_TIMEOUT_MS } from './dot.js';
export type { DnsOverTlsOptions } from './dot.js';
export {
  fetchProtocolPercentages,
  parseProtocolPercentages,
  percentageOf,
  protocolBucket,
  selectByPercentage,
  fnv1a32,
  PROTOCOL_PERCENTAGE_RECORD,
} from './protocol-percentage.js';
export type { ProtocolPercentage } from './protocol-percentage.js';
export type { HostPort } from '../util/host-port.js';
export {
  EdgeDiscoveryError,
  EdgeDiscoveryOptionError,
  NoFreeEdgeAddressError,
  DnsOverTlsError,
  ProtocolPercentageError,
} from './errors.js';
