/**
 * Per-process connector identity (docs/protocol.md §1.4) and the registration feature list (§14.4).
 */
import { randomUUID } from 'node:crypto';
import { parseUuid } from '../token/uuid.js';

/** Feature string selecting datagram v2 (§14.1, §14.4). */
export const FEATURE_DATAGRAM_V2 = 'support_datagram_v2';
/** Feature string selecting datagram v3 (§14.2, §14.4). */
export const FEATURE_DATAGRAM_V3 = 'support_datagram_v3_2';
/** Feature string of the management log stream (§15.1); never sent, see {@link DEFAULT_FEATURES}. */
export const FEATURE_MANAGEMENT_LOGS = 'management_logs';
/** Feature string of strict post-quantum mode (§14.4). */
export const FEATURE_POST_QUANTUM = 'postquantum';
/** Datagram feature strings HEAD strips from `--features` (§14.3: superseded by `support_datagram_v3_2`). */
export const DEPRECATED_FEATURES: readonly string[] = ['support_datagram_v3', 'support_datagram_v3_1'];

/**
 * Feature strings sent in `ClientInfo.features` by default (§14.4, HEAD's default set). `management_logs` is left
 * out because cftunnel does not serve the management service (§15.1); advertising it would invite requests we cannot
 * serve.
 */
export const DEFAULT_FEATURES: readonly string[] = [
  'allow_remote_config',
  'serialized_headers',
  FEATURE_DATAGRAM_V2,
  'support_quic_eof',
];

/** Datagram format a connection speaks (§14.1 v2, §14.2 v3). */
export type DatagramVersion = 'v2' | 'v3';

/** Datagram version a feature list selects (§14.3): v3 only when `support_datagram_v3_2` is in it. */
export function datagramVersionOf(features: readonly string[]): DatagramVersion {
  return features.includes(FEATURE_DATAGRAM_V3) ? 'v3' : 'v2';
}

/**
 * The feature list registered with the edge, built as HEAD does (§14.3, `features/selector.go`): the defaults, the
 * user's `--features` and the selected datagram version, without duplicates and without the deprecated datagram
 * strings; `postquantum` in strict post-quantum mode. A `--features` v3 request selects v3 (both datagram strings
 * are then present, as at HEAD); so does nothing else, because cftunnel does not read the remote feature record.
 * `management_logs` is dropped even when asked for (see {@link DEFAULT_FEATURES}).
 */
export function selectFeatures(cliFeatures: readonly string[] = [], postQuantum = false): string[] {
  const out = new Set<string>(DEFAULT_FEATURES);
  for (const f of cliFeatures) out.add(f);
  if (postQuantum) out.add(FEATURE_POST_QUANTUM);
  for (const f of DEPRECATED_FEATURES) out.delete(f);
  out.delete(FEATURE_MANAGEMENT_LOGS);
  out.delete('');
  return [...out];
}

/**
 * Version reported in `ClientInfo.version` (§1.4, §6.6): the cloudflared release whose wire behaviour cftunnel
 * follows (docs/protocol.md §18, HEAD). The edge knows connectors by cloudflared release numbers. The one place this
 * number lives; the CLI overrides it with `--client-version` / `CFTUNNEL_CLIENT_VERSION` (an internal hook, not a library option).
 */
export const DEFAULT_CLIENT_VERSION = '2026.8.2';

const GOARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  ia32: '386',
  arm: 'arm',
  s390x: 's390x',
  ppc64: 'ppc64le',
};

/** `<GOOS>_<GOARCH>` of this process, as cloudflared reports it (§1.4). */
export function clientArch(): string {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  return `${os}_${GOARCH[process.arch] ?? process.arch}`;
}

/** Who this connector process is, shared by all its connections. */
export interface ConnectorIdentity {
  /** Random UUID v4, fresh per process (§1.4); also sent to origins as `Cf-Warp-Tag-Id`. */
  readonly connectorId: string;
  /** The same UUID as 16 raw bytes (`ClientInfo.clientId`). */
  readonly clientId: Buffer;
  readonly version: string;
  readonly arch: string;
  readonly features: readonly string[];
}

/** Creates a fresh identity; every field can be overridden (tests pin the connector id). */
export function createConnectorIdentity(
  overrides: Partial<Omit<ConnectorIdentity, 'clientId'>> = {},
): ConnectorIdentity {
  const connectorId = overrides.connectorId ?? randomUUID();
  const clientId = parseUuid(connectorId);
  if (clientId === null) throw new TypeError('connectorId must be a UUID');
  return {
    connectorId,
    clientId,
    version: overrides.version ?? DEFAULT_CLIENT_VERSION,
    arch: overrides.arch ?? clientArch(),
    features: overrides.features ?? DEFAULT_FEATURES,
  };
}
