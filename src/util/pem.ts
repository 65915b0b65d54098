/** PEM certificate bundles: split into blocks, each checked by parsing it as X.509. */
import { X509Certificate } from 'node:crypto';

const PEM_CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificate blocks of a bundle, or the first block that does not parse. */
export type PemCertificates = { ok: true; blocks: string[] } | { ok: false; index: number; cause: unknown };

/**
 * Splits a PEM bundle into its certificate blocks and parses every one: a bundle that silently lost a certificate
 * would make verification fail later with a misleading "unknown authority". No block at all is `ok` with no blocks;
 * callers decide whether that is an error.
 */
export function parsePemCertificates(pem: string | Buffer): PemCertificates {
  const text = typeof pem === 'string' ? pem : pem.toString('utf8');
  const blocks = text.match(PEM_CERTIFICATE_BLOCK) ?? [];
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (cause) {
      return { ok: false, index, cause };
    }
  }
  return { ok: true, blocks };
}
