/**
 * Which certificates verify the edge (docs/protocol.md §4.2): a `--cacert` bundle replaces everything; otherwise
 * Node's root store plus cloudflared's three embedded Cloudflare certificates. Verification is never turned off.
 */
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { parsePemCertificates } from '../../util/pem.js';
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
    throw new CaCertError(`certificate ${parsed.index + 1} of the CA bundle is not a valid X.509 certificate`, {
      cause: parsed.cause,
    });
  }
  if (parsed.blocks.length === 0) throw new CaCertError('the CA bundle contains no PEM certificate');
  return parsed.blocks;
}

/** The PEM certificates trusted for the edge: `caCert` alone when given, else Node's roots + Cloudflare's (§4.2). */
export function edgeTrustAnchors(caCert?: string | Buffer): string[] {
  if (caCert !== undefined) return parseCaBundle(caCert);
  return [...rootCertificates, ...CLOUDFLARE_EMBEDDED_ROOTS];
}

/** Secure contexts built so far, by trust bundle and key-exchange groups; a handful at most per process. */
const secureContexts = new Map<string, SecureContext>();
const MAX_CACHED_CONTEXTS = 8;

/**
 * The TLS context for edge connections: built once per trust bundle and key-exchange groups and shared by every
 * connection, since each context holds its own parsed copy of the ~150 root certificates (~1.3 MB, issue #19).
 */
export function edgeSecureContext(caCert?: string | Buffer, ecdhCurve?: string): SecureContext {
  const key = `${ecdhCurve ?? ''}\n${caCert === undefined ? '' : typeof caCert === 'string' ? caCert : caCert.toString('utf8')}`;
  let context = secureContexts.get(key);
  if (context === undefined) {
    context = createSecureContext({ ca: edgeTrustAnchors(caCert), ...(ecdhCurve !== undefined ? { ecdhCurve } : {}) });
    if (secureContexts.size >= MAX_CACHED_CONTEXTS) secureContexts.delete(secureContexts.keys().next().value as string);
    secureContexts.set(key, context);
  }
  return context;
}
