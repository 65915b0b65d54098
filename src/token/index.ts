/** Tunnel token and credentials parsing (docs/protocol.md §1). */
export { parseToken, readTokenFile, parseCredentialsFile, readCredentialsFile } from './credentials.js';
export type { TunnelCredentials } from './credentials.js';
export { TokenError, TokenFileError } from './errors.js';
export type { TokenErrorReason } from './errors.js';
export { TunnelSecret } from './secret.js';
export { parseUuid, formatUuid } from './uuid.js';
export { decodeStdBase64 } from './base64.js';
