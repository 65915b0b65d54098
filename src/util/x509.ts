/**
 * `@peculiar/x509` loaded on first use. With its reflect-metadata / tsyringe / ASN.1 stack it adds ~10 MB of RSS to a
 * process that imports it, and only the local edge and the `hello_world` service ever generate a certificate: a
 * tunnel to an ordinary origin should not pay for it.
 */
import { webcrypto } from 'node:crypto';

/** The `@peculiar/x509` module namespace. */
export type X509Module = typeof import('@peculiar/x509');

let loading: Promise<X509Module> | undefined;

/** Loads `@peculiar/x509` once, with Node's WebCrypto as its crypto provider. */
export function loadX509(): Promise<X509Module> {
  loading ??= (async () => {
    // @peculiar/x509 resolves its ASN.1 codecs through tsyringe, which needs the Reflect metadata polyfill first.
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<X509Module['cryptoProvider']['set']>[0]);
    return x509;
  })();
  return loading;
}

/** The one key and signature algorithm cftunnel generates certificates with: ECDSA P-256 with SHA-256. */
export const ECDSA_P256_SHA256: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = {
  name: 'ECDSA',
  namedCurve: 'P-256',
  hash: 'SHA-256',
};

/** A fresh exportable {@link ECDSA_P256_SHA256} key pair. */
export async function generateEcdsaKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ECDSA_P256_SHA256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

/** A random positive 128-bit serial number in hex (top bit clear, so DER needs no sign byte). */
export function randomSerialNumber(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');
}

/** The PEM text of a private key, from its PKCS#8 export. */
export async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const b64 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key))
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

/** What {@link createSelfSignedCa} puts in the certificate besides the CA basic constraints. */
export interface SelfSignedCaOptions {
  /** Distinguished name, e.g. `CN=localhost, O=cftunnel`. */
  name: string;
  notBefore: Date;
  notAfter: Date;
  keys: webcrypto.CryptoKeyPair;
  /** `KeyUsageFlags` bits. */
  keyUsages: number;
  /** Further extensions (SAN, key identifiers). */
  extensions?: ReadonlyArray<InstanceType<X509Module['Extension']>>;
}

/** A self-signed CA certificate (basic constraints: CA, path length 0, critical), signed with {@link ECDSA_P256_SHA256}. */
export async function createSelfSignedCa(
  options: SelfSignedCaOptions,
): Promise<InstanceType<X509Module['X509Certificate']>> {
  const x509 = await loadX509();
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: options.name,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    keys: options.keys,
    signingAlgorithm: ECDSA_P256_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(options.keyUsages, true),
      ...(options.extensions ?? []),
    ],
  });
}
