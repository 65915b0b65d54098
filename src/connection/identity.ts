/**
 * Per-process connector identity (docs/protocol.md §1.4) and the registration feature list (§14.4).
 */
import { randomUUID } from 'node:crypto';
import { parseUuid } from '../token/uuid.js';

/**
 * Feature strings sent in `ClientInfo.features` (§14.4, 2023.7.3 defaults). `management_logs` is left out because
 * cftunnel does not implement the management service (§15.1); advertising it would invite requests we cannot serve.
 */
export const DEFAULT_FEATURES: readonly string[] = [
  'allow_remote_config',
  'serialized_headers',
  'support_datagram_v2',
  'support_quic_eof',
];

/**
 * Version reported in `ClientInfo.version`. The edge knows connectors by cloudflared release numbers; we report the
 * release whose wire behaviour cftunnel follows (the vectors were recorded against it). Overridable.
 */
export const DEFAULT_CLIENT_VERSION = '2023.7.3';

const GOARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le' };

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
export function createConnectorIdentity(overrides: Partial<Omit<ConnectorIdentity, 'clientId'>> = {}): ConnectorIdentity {
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
