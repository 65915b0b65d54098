/**
 * Shared by the examples: optional static edge and CA from the environment (cloudflared's `TUNNEL_EDGE` /
 * `TUNNEL_CACERT`). In production leave both unset: the edge is discovered through DNS and verified against
 * Cloudflare's roots. The tests set them to point the examples at the local edge.
 */
import { readFileSync } from 'node:fs';

export function edgeFromEnv(): { edge?: string[]; caCert?: string } {
  return {
    edge: process.env.TUNNEL_EDGE?.split(','),
    caCert: process.env.TUNNEL_CACERT ? readFileSync(process.env.TUNNEL_CACERT, 'utf8') : undefined,
  };
}
