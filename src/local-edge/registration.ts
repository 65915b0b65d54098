/** Translation between the registration RPC's wire values and the local edge's decisions. */
import type { WireConnectionDetails, ConnectionErrorInfo, RegisterConnectionParams } from '../rpc/tunnel/codec.js';
import type { RegistrationHandlers } from '../rpc/tunnel/registration-server.js';
import { formatUuid, parseUuid } from '../token/uuid.js';
import type { EdgeSideConnection } from './edge-connection.js';
import type { EdgeRouter } from './router.js';
import type { RegistrationRequest } from './types.js';

function ipText(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length !== 16) return bytes.toString('hex');
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${[...bytes.subarray(12)].join('.')}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

function uuidText(bytes: Buffer): string {
  return bytes.length === 16 ? formatUuid(bytes) : bytes.toString('hex');
}

/** Decoded `registerConnection` arguments as the edge reports them (secret left out). */
export function registrationRequest(p: RegisterConnectionParams): RegistrationRequest {
  return {
    accountTag: p.accountTag,
    tunnelId: uuidText(p.tunnelId),
    connIndex: p.connIndex,
    clientId: uuidText(p.clientId),
    features: p.features,
    version: p.version,
    arch: p.arch,
    originLocalIp: ipText(p.originLocalIp),
    replaceExisting: p.replaceExisting,
    compressionQuality: p.compressionQuality,
    numPreviousAttempts: p.numPreviousAttempts,
  };
}

/** The registration RPC handlers of one connection, backed by the edge's bookkeeping. */
export function registrationHandlers(edge: EdgeRouter, conn: EdgeSideConnection): RegistrationHandlers {
  return {
    async registerConnection(params): Promise<WireConnectionDetails | { error: ConnectionErrorInfo }> {
      const decision = await edge.handleRegistration(conn, registrationRequest(params), params.tunnelSecret);
      if (!decision.accept) {
        return {
          error: {
            cause: decision.cause,
            shouldRetry: decision.shouldRetry,
            retryAfterNs: BigInt(decision.retryAfterSeconds ?? 0) * 1_000_000_000n,
          },
        };
      }
      return {
        uuid: parseUuid(decision.uuid!)!,
        locationName: decision.locationName!,
        tunnelIsRemotelyManaged: decision.tunnelIsRemotelyManaged!,
      };
    },
    async unregisterConnection() {
      edge.handleUnregister(conn);
    },
    async updateLocalConfiguration(config) {
      edge.handleLocalConfiguration(conn, config);
    },
  };
}
