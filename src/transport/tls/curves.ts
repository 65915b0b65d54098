/**
 * Key-exchange groups offered to the edge over TLS (docs/protocol.md §4.4), for the HTTP/2 transport: our QUIC binding
 * cannot choose groups. Post-quantum support is detected on the running Node/OpenSSL by a real loopback handshake.
 *
 * Decision: no X25519. cloudflared HEAD offers exactly {X25519MLKEM768, P-256} (its P256Kyber768Draft00 is unknown to
 * OpenSSL) and 2023.7.3 offered only P-256; adding X25519 would change the ClientHello for no gain, since the edge
 * accepts P-256.
 */
import { getCurves, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { CftunnelError } from '../../errors.js';

/** OpenSSL name of the standard hybrid ML-KEM group, codepoint 0x11EC (§4.4). */
export const X25519MLKEM768 = 'X25519MLKEM768';
/** OpenSSL name of secp256r1, codepoint 0x0017 (§4.4). */
export const P256 = 'P-256';

/** How cloudflared's log prints each group: Go's `tls.CurveID` names (`crypto/tls`), not OpenSSL's. */
const GO_CURVE_NAMES: Readonly<Record<string, string>> = { [X25519MLKEM768]: 'X25519MLKEM768', [P256]: 'CurveP256' };

/** `prefer` (default): post-quantum first with a classical fallback. `strict` (`--post-quantum`): post-quantum only. */
export type PostQuantumMode = 'prefer' | 'strict';

/** What {@link detectPostQuantumSupport} found. */
export interface PostQuantumSupport {
  /** A TLS 1.3 handshake restricted to X25519MLKEM768 on both ends completed on loopback. */
  supported: boolean;
  /** `crypto.getCurves()` lists the group (informative: that list names EC curves, not every TLS group). */
  listedByGetCurves: boolean;
  /** Why the handshake failed, when it did. */
  reason: string | undefined;
}

/** Strict post-quantum mode was asked for but this Node's OpenSSL cannot negotiate X25519MLKEM768. */
export class PostQuantumUnsupportedError extends CftunnelError {
  constructor(nodeVersion: string, opensslVersion: string) {
    super(
      'CFT_ERR_POST_QUANTUM_UNSUPPORTED',
      `post-quantum mode requires the X25519MLKEM768 key exchange, which this runtime (Node ${nodeVersion}, OpenSSL ${opensslVersion}) does not support`,
      { retryable: false },
    );
  }
}

/** Guard so a wedged probe cannot hang start-up; loopback handshakes take milliseconds. */
const PROBE_TIMEOUT_MS = 5_000;

/**
 * Runs one TLS 1.3 handshake over loopback with both ends limited to `group` (OpenSSL name). It uses a throwaway
 * pre-shared key, so no certificate is needed; TLS 1.3 PSK still runs the (EC)DHE/KEM exchange with the configured
 * group (psk_dhe_ke), so completing it proves the group works. Resolves with undefined on success, else the reason.
 */
export async function probeKeyExchangeGroup(group: string): Promise<string | undefined> {
  const psk = randomBytes(32);
  const common = { ecdhCurve: group, minVersion: 'TLSv1.3' as const, maxVersion: 'TLSv1.3' as const };
  let server: tls.Server;
  try {
    server = tls.createServer({ ...common, pskCallback: () => psk }, (socket) => socket.end());
  } catch (err) {
    return (err as Error).message;
  }
  server.on('tlsClientError', () => {});
  try {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = tls.connect({
      ...common,
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      pskCallback: () => ({ psk, identity: 'cftunnel-probe' }),
      checkServerIdentity: () => undefined,
    });
    try {
      await once(client, 'secureConnect', { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      return undefined;
    } finally {
      client.destroy();
    }
  } catch (err) {
    return (err as Error).message;
  } finally {
    server.close();
  }
}

let cached: Promise<PostQuantumSupport> | undefined;

/** Detects X25519MLKEM768 support once per process (the result is cached). */
export function detectPostQuantumSupport(): Promise<PostQuantumSupport> {
  cached ??= (async () => {
    const listedByGetCurves = getCurves().some((c) => c.toLowerCase() === X25519MLKEM768.toLowerCase());
    const reason = await probeKeyExchangeGroup(X25519MLKEM768);
    return { supported: reason === undefined, listedByGetCurves, reason };
  })();
  return cached;
}

/** The groups to offer, ready for `tls.connect` and for the log. */
export interface CurvePreferences {
  /** For `tls.connect({ ecdhCurve })`, e.g. `X25519MLKEM768:P-256`. */
  ecdhCurve: string;
  /** cloudflared's names, in order, e.g. `['X25519MLKEM768', 'CurveP256']`. */
  names: readonly string[];
  /** `Tunnel connection curve preferences: [X25519MLKEM768 CurveP256]`, logged per connection attempt (§4.4). */
  logMessage: string;
  /** A post-quantum group is offered. */
  postQuantum: boolean;
}

/**
 * The groups for `mode` on a runtime with or without post-quantum support: prefer = X25519MLKEM768 then P-256, or only
 * P-256 without support (2023.7.3's list); strict = X25519MLKEM768 only, and {@link PostQuantumUnsupportedError}
 * without support.
 */
export function curvePreferences(
  mode: PostQuantumMode,
  support: Pick<PostQuantumSupport, 'supported'>,
): CurvePreferences {
  if (mode === 'strict' && !support.supported)
    throw new PostQuantumUnsupportedError(process.versions.node, process.versions.openssl);
  const groups = mode === 'strict' ? [X25519MLKEM768] : support.supported ? [X25519MLKEM768, P256] : [P256];
  const names = groups.map((g) => GO_CURVE_NAMES[g]!);
  return {
    ecdhCurve: groups.join(':'),
    names,
    logMessage: `Tunnel connection curve preferences: [${names.join(' ')}]`,
    postQuantum: groups.includes(X25519MLKEM768),
  };
}
