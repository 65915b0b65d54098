/**
 * Which certificates verify the edge (docs/protocol.md §4.2): a `--cacert` bundle replaces everything; otherwise
 * Node's root store plus cloudflared's three embedded Cloudflare certificates. Verification is never turned off.
 */
import { parsePemCertificates } from '../../util/pem.js';
import { rootCertificates } from 'node:tls';
import { CftunnelError } from '../../errors.js';
import { CLOUDFLARE_EMBEDDED_ROOTS } from './cloudflare-roots.js';

/** The `--cacert` bundle is unreadable or holds no valid certificate. */
export class CaCertError extends CftunnelError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_CACERT_INVALID', message, { retryable: false, ...options });
  }
}

/**
 * Splits and validates a PEM bundle. Every block must parse: a bundle that silently loses certificates would make
 * verification fail later with a misleading "unknown authority".
 */
export function parseCaBundle(pem: string | Buffer): string[] {
  const parsed = parsePemCertificates(pem);
  if (!parsed.ok) {
    throw new CaCertError(`certificate ${parsed.index + 1} of the CA bundle is not a valid X.509 certificate`, { cause: parsed.cause });
  }
  if (parsed.blocks.length === 0) throw new CaCertError('the CA bundle contains no PEM certificate');
  return parsed.blocks;
}

/** The PEM certificates trusted for the edge: `caCert` alone when given, else Node's roots + Cloudflare's (§4.2). */
export function edgeTrustAnchors(caCert?: string | Buffer): string[] {
  if (caCert !== undefined) return parseCaBundle(caCert);
  return [...rootCertificates, ...CLOUDFLARE_EMBEDDED_ROOTS];
}
