/**
 * Minimal typed view of the quiche napi binding shipped by `@matrixai/quic-linux-x64` (quiche 0.18 + BoringSSL), and
 * its loader. Only what the driver uses is declared; the binding's own declarations live in a package we do not
 * install. The module is an optional dependency: every entry point asks {@link loadQuiche} and gets a typed error
 * when the platform cannot run it.
 */
import { createRequire } from 'node:module';
import { QuicUnavailableError } from './errors.js';

/** Address pair element the binding takes and returns. */
export interface NativeHostPort {
  host: string;
  port: number;
}

/** Receive metadata passed to {@link NativeConnection.recv}. */
export interface NativeRecvInfo {
  from: NativeHostPort;
  to: NativeHostPort;
}

/** Error reported by quiche for a closed connection (`peer_error` / `local_error`). */
export interface NativeConnectionError {
  isApp: boolean;
  errorCode: number;
  reason: Uint8Array;
}

/** quiche `Config`. */
export interface NativeConfig {
  setApplicationProtos(protos: string[]): void;
  setMaxIdleTimeout(ms: number): void;
  setMaxRecvUdpPayloadSize(size: number): void;
  setMaxSendUdpPayloadSize(size: number): void;
  setInitialMaxData(v: number): void;
  setInitialMaxStreamDataBidiLocal(v: number): void;
  setInitialMaxStreamDataBidiRemote(v: number): void;
  setInitialMaxStreamDataUni(v: number): void;
  setInitialMaxStreamsBidi(v: number): void;
  setInitialMaxStreamsUni(v: number): void;
  setAckDelayExponent(v: number): void;
  setMaxAckDelay(v: number): void;
  setActiveConnectionIdLimit(v: number): void;
  setDisableActiveMigration(v: boolean): void;
  enableDgram(enabled: boolean, recvQueueLen: number, sendQueueLen: number): void;
  setMaxStreamWindow(v: number): void;
  setMaxConnectionWindow(v: number): void;
  grease(v: boolean): void;
}

/** Iterable of stream ids (quiche `readable()` / `writable()`). */
export interface NativeStreamIter {
  [Symbol.iterator](): Iterator<number, void, void>;
}

/** quiche `Connection`. Methods returning `null` mean quiche's `Done`; other failures throw. */
export interface NativeConnection {
  recv(data: Uint8Array, info: NativeRecvInfo): number;
  send(out: Uint8Array): [number, unknown] | null;
  streamRecv(streamId: number, out: Uint8Array): [number, boolean] | null;
  streamSend(streamId: number, data: Uint8Array, fin: boolean): number | null;
  streamPriority(streamId: number, urgency: number, incremental: boolean): void;
  streamShutdown(streamId: number, direction: number, err: number): void | null;
  streamCapacity(streamId: number): number;
  streamFinished(streamId: number): boolean;
  peerStreamsLeftBidi(): number;
  readable(): NativeStreamIter;
  writable(): NativeStreamIter;
  dgramRecvVec(): Uint8Array | null;
  dgramSend(data: Uint8Array): void | null;
  dgramMaxWritableLen(): number | null;
  isDgramSendQueueFull(): boolean;
  timeout(): number | null;
  onTimeout(): void;
  close(app: boolean, err: number, reason: Uint8Array): void | null;
  applicationProto(): Uint8Array;
  sourceId(): Uint8Array;
  isEstablished(): boolean;
  isDraining(): boolean;
  isClosed(): boolean;
  isTimedOut(): boolean;
  peerError(): NativeConnectionError | null;
  localError(): NativeConnectionError | null;
  sendAckEliciting(): void;
}

/** Parsed packet header (quiche `Header::from_slice`). */
export interface NativeHeader {
  ty: number;
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
}

/** The binding's module object. */
export interface NativeQuiche {
  PROTOCOL_VERSION: number;
  MAX_CONN_ID_LEN: number;
  Type: { Initial: number; Short: number };
  Shutdown: { Read: number; Write: number };
  negotiateVersion(scid: Uint8Array, dcid: Uint8Array, out: Uint8Array): number;
  versionIsSupported(version: number): boolean;
  Config: {
    withBoringSslCtx(
      verifyPeer: boolean,
      verifyAllowFail: boolean,
      ca?: Uint8Array | null,
      key?: Uint8Array[] | null,
      cert?: Uint8Array[] | null,
      sigalgs?: string | null,
    ): NativeConfig;
  };
  Connection: {
    connect(serverName: string | null, scid: Uint8Array, local: NativeHostPort, remote: NativeHostPort, config: NativeConfig): NativeConnection;
    accept(scid: Uint8Array, odcid: Uint8Array | null, local: NativeHostPort, remote: NativeHostPort, config: NativeConfig): NativeConnection;
  };
  Header: { fromSlice(data: Uint8Array, dcidLen: number): NativeHeader };
}

/** Package holding the prebuilt module (optional dependency, linux-x64 glibc only). */
const NATIVE_PACKAGE = '@matrixai/quic-linux-x64/node.napi.node';

let cached: { ok: true; quiche: NativeQuiche } | { ok: false; reason: string } | undefined;

function tryLoad(): { ok: true; quiche: NativeQuiche } | { ok: false; reason: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { ok: false, reason: `QUIC unavailable on this platform (${process.platform}-${process.arch}; needs linux-x64)` };
  }
  try {
    const quiche = createRequire(import.meta.url)(NATIVE_PACKAGE) as NativeQuiche;
    if (typeof quiche.Connection?.connect !== 'function') return { ok: false, reason: 'QUIC unavailable on this platform (unexpected native module shape)' };
    return { ok: true, quiche };
  } catch (err) {
    return { ok: false, reason: `QUIC unavailable on this platform (${(err as Error).message.split('\n')[0]})` };
  }
}

/** Whether the native QUIC binding can be used here, and if not, why. */
export function quicAvailability(): { available: true } | { available: false; reason: string } {
  cached ??= tryLoad();
  return cached.ok ? { available: true } : { available: false, reason: cached.reason };
}

/** Returns the binding or throws {@link QuicUnavailableError}. */
export function loadQuiche(): NativeQuiche {
  cached ??= tryLoad();
  if (!cached.ok) throw new QuicUnavailableError(cached.reason);
  return cached.quiche;
}
