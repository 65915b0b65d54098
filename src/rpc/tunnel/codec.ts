/**
 * Plain TypeScript shapes of the tunnel RPC arguments and results, and their conversion to and from the generated
 * capnp-es structs (docs/protocol.md §6.2, §6.6, §9.3, §14.1). Shared by the connector-side and edge-side wrappers so both
 * directions use one encoding.
 */
import { utils, type Data, type Struct } from 'capnp-es';
import type {
  ConfigurationManager_UpdateConfiguration$Params,
  ConnectionDetails as ConnectionDetailsStruct,
  ConnectionError as ConnectionErrorStruct,
  RegistrationServer_RegisterConnection$Params,
  RegisterUdpSessionResponse,
  SessionManager_RegisterUdpSession$Params,
  SessionManager_UnregisterUdpSession$Params,
  UpdateConfigurationResponse,
} from '../../capnp/gen/tunnelrpc.js';

/** Arguments of `registerConnection` (docs/protocol.md §6.6). */
export interface RegisterConnectionParams {
  accountTag: string;
  /** Tunnel secret (token `s`, base64-decoded). Never logged. */
  tunnelSecret: Buffer;
  /** 16 raw bytes of the tunnel UUID. */
  tunnelId: Buffer;
  connIndex: number;
  /** 16 raw bytes of the connector UUID. */
  clientId: Buffer;
  features: string[];
  version: string;
  arch: string;
  /** 16 bytes (IPv4 as `::ffff:a.b.c.d`). */
  originLocalIp: Buffer;
  replaceExisting: boolean;
  compressionQuality: number;
  numPreviousAttempts: number;
}

/**
 * A successful registration as the wire carries it (docs/protocol.md §6.2 `ConnectionDetails`): the UUID as bytes.
 * The connector reports it as `ConnectionDetails` (./connection-details.ts).
 */
export interface WireConnectionDetails {
  /** 16-byte connection UUID chosen by the edge. */
  uuid: Buffer;
  /** Colo code, e.g. `ams01`. */
  locationName: string;
  tunnelIsRemotelyManaged: boolean;
}

/** A registration refused by the edge (docs/protocol.md §6.2 `ConnectionError`). */
export interface ConnectionErrorInfo {
  cause: string;
  /** Nanoseconds; parsed but not used for scheduling by cloudflared (docs/protocol.md §6.7). */
  retryAfterNs: bigint;
  shouldRetry: boolean;
}

/** Result of `updateConfiguration` (docs/protocol.md §9.3). `err` null ⇔ the pointer is omitted on the wire. */
export interface UpdateConfigurationResult {
  latestAppliedVersion: number;
  err: string | null;
}

/** Arguments of `registerUdpSession` (docs/protocol.md §6.2, §14.1). */
export interface RegisterUdpSessionParams {
  /** 16-byte session UUID. */
  sessionId: Buffer;
  /** 4 or 16 bytes. */
  dstIp: Buffer;
  dstPort: number;
  /** Nanoseconds. */
  closeAfterIdleHintNs: bigint;
  traceContext: string;
}

/** Result of `registerUdpSession`. `err` null ⇔ success. */
export interface RegisterUdpSessionResult {
  err: string | null;
  spans?: Buffer;
}

/** Arguments of `unregisterUdpSession`. */
export interface UnregisterUdpSessionParams {
  sessionId: Buffer;
  message: string;
}

/** Copies a Data field out of its message. */
export function dataToBuffer(d: Data): Buffer {
  return Buffer.from(d.toArrayBuffer());
}

function initData(init: (length: number) => Data, bytes: Uint8Array): void {
  init(bytes.length).copyBuffer(bytes);
}

/** A Text/Data pointer field read as null when absent (the Go side omits empty error texts). */
function optionalText(index: number, s: Struct, read: () => string): string | null {
  return utils.isNull(utils.getPointer(index, s)) ? null : read();
}

/** Fills registerConnection params. */
export function writeRegisterConnectionParams(
  p: RegistrationServer_RegisterConnection$Params,
  v: RegisterConnectionParams,
): void {
  const auth = p._initAuth();
  auth.accountTag = v.accountTag;
  initData((n) => auth._initTunnelSecret(n), v.tunnelSecret);
  initData((n) => p._initTunnelId(n), v.tunnelId);
  p.connIndex = v.connIndex;
  const options = p._initOptions();
  const client = options._initClient();
  initData((n) => client._initClientId(n), v.clientId);
  const features = client._initFeatures(v.features.length);
  v.features.forEach((f, i) => features.set(i, f));
  client.version = v.version;
  client.arch = v.arch;
  initData((n) => options._initOriginLocalIp(n), v.originLocalIp);
  options.replaceExisting = v.replaceExisting;
  options.compressionQuality = v.compressionQuality;
  options.numPreviousAttempts = v.numPreviousAttempts;
}

/** Reads registerConnection params. */
export function readRegisterConnectionParams(
  p: RegistrationServer_RegisterConnection$Params,
): RegisterConnectionParams {
  const options = p.options;
  const client = options.client;
  return {
    accountTag: p.auth.accountTag,
    tunnelSecret: dataToBuffer(p.auth.tunnelSecret),
    tunnelId: dataToBuffer(p.tunnelId),
    connIndex: p.connIndex,
    clientId: dataToBuffer(client.clientId),
    features: client.features.toArray(),
    version: client.version,
    arch: client.arch,
    originLocalIp: dataToBuffer(options.originLocalIp),
    replaceExisting: options.replaceExisting,
    compressionQuality: options.compressionQuality,
    numPreviousAttempts: options.numPreviousAttempts,
  };
}

/** Fills a ConnectionDetails struct. */
export function writeConnectionDetails(s: ConnectionDetailsStruct, v: WireConnectionDetails): void {
  initData((n) => s._initUuid(n), v.uuid);
  s.locationName = v.locationName;
  s.tunnelIsRemotelyManaged = v.tunnelIsRemotelyManaged;
}

/** Reads a ConnectionDetails struct. */
export function readConnectionDetails(s: ConnectionDetailsStruct): WireConnectionDetails {
  return {
    uuid: dataToBuffer(s.uuid),
    locationName: s.locationName,
    tunnelIsRemotelyManaged: s.tunnelIsRemotelyManaged,
  };
}

/** Fills ConnectionError. */
export function writeConnectionError(s: ConnectionErrorStruct, v: ConnectionErrorInfo): void {
  s.cause = v.cause;
  s.retryAfter = v.retryAfterNs;
  s.shouldRetry = v.shouldRetry;
}

/** Reads ConnectionError. */
export function readConnectionError(s: ConnectionErrorStruct): ConnectionErrorInfo {
  return { cause: s.cause, retryAfterNs: s.retryAfter, shouldRetry: s.shouldRetry };
}

/** Fills updateConfiguration params. */
export function writeUpdateConfigurationParams(
  p: ConfigurationManager_UpdateConfiguration$Params,
  version: number,
  config: Uint8Array,
): void {
  p.version = version;
  initData((n) => p._initConfig(n), config);
}

/** Fills UpdateConfigurationResponse; a null `err` leaves the pointer null, as cloudflared does on success. */
export function writeUpdateConfigurationResult(s: UpdateConfigurationResponse, v: UpdateConfigurationResult): void {
  s.latestAppliedVersion = v.latestAppliedVersion;
  if (v.err !== null) s.err = v.err;
}

/** Reads UpdateConfigurationResponse; an absent or empty `err` reads as null (success). */
export function readUpdateConfigurationResult(s: UpdateConfigurationResponse): UpdateConfigurationResult {
  const err = optionalText(0, s, () => s.err);
  return { latestAppliedVersion: s.latestAppliedVersion, err: err === '' ? null : err };
}

/** Fills registerUdpSession params. */
export function writeRegisterUdpSessionParams(
  p: SessionManager_RegisterUdpSession$Params,
  v: RegisterUdpSessionParams,
): void {
  initData((n) => p._initSessionId(n), v.sessionId);
  initData((n) => p._initDstIp(n), v.dstIp);
  p.dstPort = v.dstPort;
  p.closeAfterIdleHint = v.closeAfterIdleHintNs;
  p.traceContext = v.traceContext;
}

/** Reads registerUdpSession params. */
export function readRegisterUdpSessionParams(p: SessionManager_RegisterUdpSession$Params): RegisterUdpSessionParams {
  return {
    sessionId: dataToBuffer(p.sessionId),
    dstIp: dataToBuffer(p.dstIp),
    dstPort: p.dstPort,
    closeAfterIdleHintNs: p.closeAfterIdleHint,
    traceContext: p.traceContext,
  };
}

/** Fills RegisterUdpSessionResponse. */
export function writeRegisterUdpSessionResult(s: RegisterUdpSessionResponse, v: RegisterUdpSessionResult): void {
  if (v.err !== null) s.err = v.err;
  if (v.spans) initData((n) => s._initSpans(n), v.spans);
}

/** Reads RegisterUdpSessionResponse. */
export function readRegisterUdpSessionResult(s: RegisterUdpSessionResponse): RegisterUdpSessionResult {
  const err = optionalText(0, s, () => s.err);
  const out: RegisterUdpSessionResult = { err: err === '' ? null : err };
  if (s._hasSpans()) out.spans = dataToBuffer(s.spans);
  return out;
}

/** Fills unregisterUdpSession params. */
export function writeUnregisterUdpSessionParams(
  p: SessionManager_UnregisterUdpSession$Params,
  v: UnregisterUdpSessionParams,
): void {
  initData((n) => p._initSessionId(n), v.sessionId);
  p.message = v.message;
}

/** Reads unregisterUdpSession params. */
export function readUnregisterUdpSessionParams(
  p: SessionManager_UnregisterUdpSession$Params,
): UnregisterUdpSessionParams {
  return { sessionId: dataToBuffer(p.sessionId), message: p.message };
}
