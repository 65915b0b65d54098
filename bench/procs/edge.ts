/** Benchmark child: the local edge (connector-facing port plus visitor HTTP port) in its own process. */
import { LocalEdge } from '../../src/local-edge/index.js';
import { serveChild } from './child.js';

/** Config the driver sends. */
export interface EdgeChildConfig {
  /** Tunnel token the edge accepts (never logged). */
  token: string;
}

/** What the edge child reports. */
export interface EdgeChildInfo {
  port: number;
  visitorUrl: string;
  caPem: string;
}

serveChild<EdgeChildConfig, EdgeChildInfo>(async ({ token }) => {
  const edge = await LocalEdge.start({ tunnels: [token] });
  return {
    info: { port: edge.address.port, visitorUrl: edge.visitorUrl, caPem: edge.caPem },
    stop: () => edge.close(),
  };
});
