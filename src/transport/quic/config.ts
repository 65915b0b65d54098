/**
 * Transport settings of the connector and the local edge, and their translation into a quiche `Config`.
 */
import { parsePemCertificates } from '../../util/pem.js';
import { QuicConfigError } from './errors.js';
import type { NativeConfig, NativeQuiche } from './native.js';

/** ALPN offered to the edge (docs/protocol.md §4.1). */
export const QUIC_ALPN = 'argotunnel';
/** SNI and verified name of the edge's QUIC certificate (docs/protocol.md §4.1). */
export const QUIC_SERVER_NAME = 'quic.cftunnel.com';
/** Handshake timeout (docs/protocol.md §5.1, same in 2023.7.3). */
export const HANDSHAKE_TIMEOUT_MS = 5_000;
/** `max_idle_timeout` transport parameter (docs/protocol.md §5.1). */
export const MAX_IDLE_TIMEOUT_MS = 5_000;
/** PING when idle this long (docs/protocol.md §5.1). */
export const KEEP_ALIVE_MS = 1_000;
/** `initial_max_streams_bidi`/`_uni` = 2^60, the QUIC maximum (docs/protocol.md §5.1; vectors: 1152921504606846976). */
export const MAX_STREAMS = 2 ** 60;
/** Initial stream receive window, quic-go default 512 KiB (docs/protocol.md §5.1; vectors: initial_max_stream_data_* 524288). */
export const INITIAL_STREAM_WINDOW = 512 * 1024;
/** Initial connection window, 1.5 × stream (docs/protocol.md §5.1; vectors: initial_max_data 786432). */
export const INITIAL_CONNECTION_WINDOW = 768 * 1024;
/** Auto-tuning cap of a stream window (docs/protocol.md §5.1: 6 MiB, also in 2023.7.3). */
export const MAX_STREAM_WINDOW = 6 * 1024 * 1024;
/**
 * Auto-tuning cap of the connection window (docs/protocol.md §5.1: 30 MiB at HEAD; 2023.7.3 used quic-go's 15 MiB).
 * quiche additionally caps it at its own 24 MiB maximum.
 */
export const MAX_CONNECTION_WINDOW = 30 * 1024 * 1024;
/**
 * Largest DATAGRAM frame payload we send: cloudflared's own send check (`quic/param_unix.go`, 1350 at HEAD and in
 * 2023.7.3). The `max_datagram_frame_size` transport parameter we advertise is not ours to choose: quiche fixes it
 * at 65536 (HEAD advertises quic-go's 16383, 2023.7.3 1350; docs/protocol.md §5.1). Either way the edge's datagrams
 * are bounded by the packet size.
 */
export const MAX_DATAGRAM_FRAME_SIZE = 1350;
/**
 * Largest UDP payload we send, by edge family: HEAD's initial packet sizes (`supervisor/tunnel.go`), 1232 for IPv4
 * edges and 1252 for IPv6 edges, so that a tunnel still fits through WARP's 1280-byte MTU (docs/protocol.md §5.1,
 * §18; 2023.7.3 had them the other way round). quiche has no path-MTU discovery in this binding, so it is also the
 * steady size.
 */
export const MAX_SEND_UDP_PAYLOAD_V4 = 1232;
export const MAX_SEND_UDP_PAYLOAD_V6 = 1252;
/** `max_udp_payload_size` advertised by cloudflared 2023.7.3 (vectors: 1452); also the receive buffer floor. */
export const MAX_RECV_UDP_PAYLOAD = 1452;
/** quic-go default `ack_delay_exponent` (docs/protocol.md §5.1). */
export const ACK_DELAY_EXPONENT = 3;
/** quic-go default `max_ack_delay` 25 ms (docs/protocol.md §5.1). */
export const MAX_ACK_DELAY_MS = 25;
/** quic-go default `active_connection_id_limit` (docs/protocol.md §5.1). */
export const ACTIVE_CONNECTION_ID_LIMIT = 4;
/** Datagram queue lengths inside quiche, per direction. */
export const DATAGRAM_QUEUE_LEN = 1024;
/** UDP socket buffers; smaller buffers drop packets on loopback bursts (QUIC-NOTES). */
export const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** Receive-window caps a user may set (docs/protocol.md §5.1: `--quic-*-flow-control-limit`, HEAD). */
export interface QuicFlowControl {
  /** Connection window auto-tuning cap, default {@link MAX_CONNECTION_WINDOW}. */
  maxConnectionWindow?: number;
  /** Stream window auto-tuning cap, default {@link MAX_STREAM_WINDOW}. */
  maxStreamWindow?: number;
}

/** Tunables shared by client and server. */
export interface QuicTransportTuning {
  /** ALPN list, default `['argotunnel']`. */
  alpn?: string[];
  /** `max_idle_timeout` in ms, default 5000. */
  idleTimeoutMs?: number;
  /** PING after this long without receiving; 0 disables. Default 1000. */
  keepAliveMs?: number;
  /** Initial per-stream receive window. */
  initialStreamWindow?: number;
  /** Initial connection receive window. */
  initialConnectionWindow?: number;
  /** Stream window auto-tuning cap. */
  maxStreamWindow?: number;
  /** Connection window auto-tuning cap. */
  maxConnectionWindow?: number;
  /** `initial_max_streams_bidi` granted to the peer. */
  maxStreamsBidi?: number;
  /** Enable DATAGRAM frames (default true). */
  datagrams?: boolean;
  /** Largest datagram payload accepted by `sendDatagram` (default 1350). */
  maxDatagramSize?: number;
}

/** Parses a PEM bundle, throwing {@link QuicConfigError} if it holds no valid certificate. */
export function validatePem(pem: string | Buffer, what: string): Buffer {
  const text = pem.toString();
  const parsed = parsePemCertificates(text);
  if (parsed.ok && parsed.blocks.length === 0) throw new QuicConfigError(`${what}: no PEM certificate found`);
  if (!parsed.ok) throw new QuicConfigError(`${what}: invalid PEM certificate`, { cause: parsed.cause });
  return Buffer.from(text);
}

/** Options for {@link buildConfig}. */
export interface BuildConfigOptions extends QuicTransportTuning {
  /** Client: CA bundle to verify the server against. */
  ca?: Buffer;
  /** Server: certificate chain and key PEM. */
  cert?: Buffer;
  key?: Buffer;
  maxSendUdpPayload: number;
}

/** Builds a quiche config. Verification is on for clients (a CA is required) and off for servers. */
export function buildConfig(quiche: NativeQuiche, o: BuildConfigOptions): NativeConfig {
  const isClient = o.ca !== undefined;
  const config = quiche.Config.withBoringSslCtx(
    isClient,
    false,
    o.ca ?? null,
    o.key ? [o.key] : null,
    o.cert ? [o.cert] : null,
    null,
  );
  config.setApplicationProtos(o.alpn ?? [QUIC_ALPN]);
  config.setMaxIdleTimeout(o.idleTimeoutMs ?? MAX_IDLE_TIMEOUT_MS);
  config.setMaxRecvUdpPayloadSize(MAX_RECV_UDP_PAYLOAD);
  config.setMaxSendUdpPayloadSize(o.maxSendUdpPayload);
  config.setInitialMaxData(o.initialConnectionWindow ?? INITIAL_CONNECTION_WINDOW);
  const streamWindow = o.initialStreamWindow ?? INITIAL_STREAM_WINDOW;
  config.setInitialMaxStreamDataBidiLocal(streamWindow);
  config.setInitialMaxStreamDataBidiRemote(streamWindow);
  config.setInitialMaxStreamDataUni(streamWindow);
  config.setInitialMaxStreamsBidi(o.maxStreamsBidi ?? MAX_STREAMS);
  config.setInitialMaxStreamsUni(MAX_STREAMS);
  config.setMaxStreamWindow(o.maxStreamWindow ?? MAX_STREAM_WINDOW);
  config.setMaxConnectionWindow(o.maxConnectionWindow ?? MAX_CONNECTION_WINDOW);
  config.setAckDelayExponent(ACK_DELAY_EXPONENT);
  config.setMaxAckDelay(MAX_ACK_DELAY_MS);
  config.setActiveConnectionIdLimit(ACTIVE_CONNECTION_ID_LIMIT);
  config.setDisableActiveMigration(true);
  config.enableDgram(o.datagrams ?? true, DATAGRAM_QUEUE_LEN, DATAGRAM_QUEUE_LEN);
  return config;
}
