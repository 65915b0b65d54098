/** The local edge (`cftunnel/edge`): the edge side of the tunnel protocol, on loopback. */
export { LocalEdge, LOCAL_EDGE_LOCATION } from './edge.js';
export type { LocalEdgeOptions, LocalEdgeEvents, LocalEdgeTunnel } from './edge.js';
export { generateEdgeCertificates, loadOrCreateEdgeCertificates, EDGE_SERVER_NAMES } from './certs.js';
export { DEFAULT_QUICK_TUNNEL_DOMAIN } from './quick-service.js';
export type { QuickTunnelCreated, QuickTunnelServiceOptions } from './quick-service.js';
export type { EdgeCertificates, GenerateEdgeCertificatesOptions } from './certs.js';
export type {
  ConfigPushResult,
  EdgeConnectionInfo,
  EdgeProtocol,
  RegistrationDecision,
  RegistrationRequest,
} from './types.js';
