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
