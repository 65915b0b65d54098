/** cftunnel: a Cloudflare Tunnel connector for Node.js. */
export { Tunnel, startTunnel, TunnelOptionsError } from './tunnel.js';
export type { TunnelOptions, TunnelEvents } from './tunnel.js';
export { CftunnelError } from './errors.js';
export { parseToken, TokenError } from './token/index.js';
export type { TunnelCredentials } from './token/index.js';
export type { ConnectionDetails, TunnelProtocol } from './connection/types.js';
