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
  /** Any stream readable or datagram queued (quiche `is_readable`). */
  isReadable(): boolean;
  /** False for streams quiche does not know. */
  streamReadable(streamId: number): boolean;
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
    connect(
      serverName: string | null,
      scid: Uint8Array,
      local: NativeHostPort,
      remote: NativeHostPort,
      config: NativeConfig,
    ): NativeConnection;
    accept(
      scid: Uint8Array,
      odcid: Uint8Array | null,
      local: NativeHostPort,
      remote: NativeHostPort,
      config: NativeConfig,
    ): NativeConnection;
  };
  Header: { fromSlice(data: Uint8Array, dcidLen: number): NativeHeader };
}

/** Package holding the prebuilt module (optional dependency, linux-x64 glibc only). */
const NATIVE_PACKAGE = '@matrixai/quic-linux-x64/node.napi.node';
/** The only platform the binding is built for. */
const SUPPORTED_PLATFORM = 'linux';
const SUPPORTED_ARCH = 'x64';
/** What a user can do about a missing binding; the message is shown as is by the CLI and the library. */
const REMEDY = 'install the optional dependency @matrixai/quic-linux-x64 (needs glibc) or use the http2 protocol';

/** Where {@link loadQuicheFor} looks for the binding. @internal */
export interface QuicheTarget {
  /** `process.platform` of the machine to load for. */
  platform: string;
  /** `process.arch` of the machine to load for. */
  arch: string;
  /** Module to `require` (a package subpath or an absolute path); the installed binding by default. */
  modulePath?: string;
}

/**
 * Loads the binding for `target`, uncached. Tests pass another platform or a module path that is not installed to
 * see what a user without the binding sees; everything else goes through {@link loadQuiche}.
 * @internal
 * @throws {QuicUnavailableError} when the platform is not linux-x64 or the module cannot be loaded.
 */
export function loadQuicheFor(target: QuicheTarget): NativeQuiche {
  const where = `${target.platform}-${target.arch}`;
  if (target.platform !== SUPPORTED_PLATFORM || target.arch !== SUPPORTED_ARCH) {
    throw new QuicUnavailableError(
      `QUIC unavailable on ${where}: the native binding is built for linux-x64 only; use the http2 protocol`,
    );
  }
  let quiche: NativeQuiche;
  try {
    quiche = createRequire(import.meta.url)(target.modulePath ?? NATIVE_PACKAGE) as NativeQuiche;
  } catch (err) {
    // Node appends the require stack on later lines; the first one says what is missing or why dlopen failed.
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new QuicUnavailableError(
      `QUIC unavailable on ${where}: the native binding cannot be loaded (${why}); ${REMEDY}`,
    );
  }
  if (typeof quiche?.Connection?.connect !== 'function') {
    throw new QuicUnavailableError(
      `QUIC unavailable on ${where}: the native binding has an unexpected shape; ${REMEDY}`,
    );
  }
  return quiche;
}

let cached: { ok: true; quiche: NativeQuiche } | { ok: false; reason: string } | undefined;

function loadOnce(): { ok: true; quiche: NativeQuiche } | { ok: false; reason: string } {
  if (cached === undefined) {
    try {
      cached = { ok: true, quiche: loadQuicheFor({ platform: process.platform, arch: process.arch }) };
    } catch (err) {
      if (!(err instanceof QuicUnavailableError)) throw err;
      cached = { ok: false, reason: err.message };
    }
  }
  return cached;
}

/** Whether the native QUIC binding can be used here, and if not, why. */
export function quicAvailability(): { available: true } | { available: false; reason: string } {
  const loaded = loadOnce();
  return loaded.ok ? { available: true } : { available: false, reason: loaded.reason };
}

/** Returns the binding or throws {@link QuicUnavailableError}. */
export function loadQuiche(): NativeQuiche {
  const loaded = loadOnce();
  // A fresh error per call, so each caller gets its own stack.
  if (!loaded.ok) throw new QuicUnavailableError(loaded.reason);
  return loaded.quiche;
}

/**
 * What a stream call of the binding failed with. The binding reports quiche's `Error` only as message text
 * (`StreamReset(<code>)`, `StreamStopped(<code>)`, `InvalidStreamState(<id>)`, …); this is the one place that reads it.
 */
export type NativeStreamFailure =
  | { readonly kind: 'reset'; readonly errorCode: number }
  | { readonly kind: 'stopped'; readonly errorCode: number }
  /** The stream is no longer known to quiche (collected after both sides finished or were aborted). */
  | { readonly kind: 'invalid-state' }
  | { readonly kind: 'other'; readonly message: string };

const STREAM_RESET = /StreamReset\((\d+)\)/;
const STREAM_STOPPED = /StreamStopped\((\d+)\)/;

/** Classifies an error thrown by a stream call of the binding. */
export function classifyNativeStreamError(err: unknown): NativeStreamFailure {
  const message = err instanceof Error ? err.message : String(err);
  const reset = STREAM_RESET.exec(message);
  if (reset) return { kind: 'reset', errorCode: Number(reset[1]) };
  const stopped = STREAM_STOPPED.exec(message);
  if (stopped) return { kind: 'stopped', errorCode: Number(stopped[1]) };
  if (message.startsWith('InvalidStreamState')) return { kind: 'invalid-state' };
  return { kind: 'other', message };
}
