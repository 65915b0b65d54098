/**
 * Test PKI for the local edge: a throwaway CA and a leaf certificate for the names the connector verifies
 * (docs/protocol.md §4.1: `quic.cftunnel.com` for QUIC, `h2.cftunnel.com` for HTTP/2), generated at start so that
 * nothing secret is ever committed. The connector trusts the CA through `--cacert` / the `caCert` option.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createSelfSignedCa,
  ECDSA_P256_SHA256,
  generateEcdsaKeys,
  loadX509,
  privateKeyPem,
  randomSerialNumber,
} from '../util/x509.js';

/** SNI names the real edge's certificates answer to (docs/protocol.md §4.1). */
export const EDGE_SERVER_NAMES = ['quic.cftunnel.com', 'h2.cftunnel.com'] as const;
/** Loopback addresses added as IP SANs so that tools that skip SNI still verify. */
export const EDGE_SERVER_IPS = ['127.0.0.1', '::1'] as const;

/** PEM material for the local edge. */
export interface EdgeCertificates {
  /** The CA certificate the connector must trust. */
  caPem: string;
  /** The edge's leaf certificate (leaf only; the CA is not a chain element clients need). */
  certPem: string;
  /** The leaf's private key, PKCS#8 PEM. */
  keyPem: string;
}

/** Options for {@link generateEdgeCertificates}; tests use them to make deliberately bad certificates. */
export interface GenerateEdgeCertificatesOptions {
  /** DNS names in the leaf's SAN. Defaults to {@link EDGE_SERVER_NAMES}. */
  dnsNames?: readonly string[];
  /** IP addresses in the leaf's SAN. Defaults to {@link EDGE_SERVER_IPS}. */
  ipAddresses?: readonly string[];
  /** Leaf validity start. Defaults to one hour ago. */
  notBefore?: Date;
  /** Leaf validity end. Defaults to 30 days from now. */
  notAfter?: Date;
  /** Common name of the CA, to tell several test CAs apart. */
  caCommonName?: string;
}

/** Creates a fresh CA and a leaf certificate signed by it (ECDSA P-256). */
export async function generateEdgeCertificates(
  options: GenerateEdgeCertificatesOptions = {},
): Promise<EdgeCertificates> {
  const x509 = await loadX509();
  const now = Date.now();
  const caKeys = await generateEcdsaKeys();
  const ca = await createSelfSignedCa({
    name: `CN=${options.caCommonName ?? 'cftunnel local edge CA'}, O=cftunnel`,
    notBefore: new Date(now - 24 * 3600_000),
    notAfter: new Date(now + 3650 * 24 * 3600_000),
    keys: caKeys,
    keyUsages: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    extensions: [await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey)],
  });

  const leafKeys = await generateEcdsaKeys();
  const dnsNames = options.dnsNames ?? EDGE_SERVER_NAMES;
  const ips = options.ipAddresses ?? EDGE_SERVER_IPS;
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: `CN=${dnsNames[0] ?? 'cftunnel-edge'}`,
    issuer: ca.subject,
    notBefore: options.notBefore ?? new Date(now - 3600_000),
    notAfter: options.notAfter ?? new Date(now + 30 * 24 * 3600_000),
    signingKey: caKeys.privateKey,
    publicKey: leafKeys.publicKey,
    signingAlgorithm: ECDSA_P256_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  return {
    caPem: ca.toString('pem') + '\n',
    certPem: leaf.toString('pem') + '\n',
    keyPem: await privateKeyPem(leafKeys.privateKey),
  };
}

/** File names used inside a `--certs DIR` folder. */
export const EDGE_CERT_FILES = { ca: 'ca.pem', cert: 'edge.pem', key: 'edge.key' } as const;

/**
 * Reuses `dir/ca.pem`, `dir/edge.pem`, `dir/edge.key` when all three exist, otherwise generates and writes them
 * (the key with mode 0600), so a connector started later can be pointed at `dir/ca.pem`.
 */
export async function loadOrCreateEdgeCertificates(dir: string): Promise<EdgeCertificates & { caPath: string }> {
  const caPath = join(dir, EDGE_CERT_FILES.ca);
  try {
    const [caPem, certPem, keyPem] = await Promise.all([
      readFile(caPath, 'utf8'),
      readFile(join(dir, EDGE_CERT_FILES.cert), 'utf8'),
      readFile(join(dir, EDGE_CERT_FILES.key), 'utf8'),
    ]);
    return { caPem, certPem, keyPem, caPath };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const certs = await generateEdgeCertificates();
  await mkdir(dir, { recursive: true });
  await writeFile(caPath, certs.caPem);
  await writeFile(join(dir, EDGE_CERT_FILES.cert), certs.certPem);
  await writeFile(join(dir, EDGE_CERT_FILES.key), certs.keyPem, { mode: 0o600 });
  return { ...certs, caPath };
}
