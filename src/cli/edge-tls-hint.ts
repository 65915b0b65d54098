/**
 * One log line explaining a failing edge TLS handshake. The supervisor keeps redialling after it, as cloudflared does
 * (docs/protocol.md §12.2 step 3: TLS dial errors never end the run, and the address rotates when there are others),
 * but with a single `--edge` or a wrong `--cacert` every attempt fails the same way: say so once, with the cause.
 */
import type { EdgeTlsError } from '../transport/errors.js';

const WHAT_FAILED: Readonly<Record<EdgeTlsError['reason'], string>> = {
  'unknown-authority': 'presents a certificate signed by an authority that is not trusted',
  'name-mismatch': 'presents a certificate that does not name the edge server (quic.cftunnel.com / h2.cftunnel.com)',
  expired: 'presents a certificate that is expired or not yet valid',
  alpn: 'does not speak the tunnel protocol (ALPN argotunnel / h2)',
  handshake: 'fails the TLS handshake',
};

/** The line logged the first time a connection fails with an {@link EdgeTlsError}. */
export function edgeTlsHint(err: EdgeTlsError, address: string, caCertPath: string | undefined): string {
  const trust = caCertPath === undefined ? "the system roots and Cloudflare's roots" : `--cacert ${caCertPath}`;
  const fix =
    err.reason === 'unknown-authority'
      ? `check that ${trust} holds the CA of that edge`
      : 'check the --edge address and --cacert';
  return `The edge at ${address} ${WHAT_FAILED[err.reason]} (trusted: ${trust}); cftunnel keeps redialling as cloudflared does, but every attempt will fail the same way until that changes: ${fix}`;
}
