/** QUIC transport on quiche's native binding: client (connector) and server (local edge). */
export { quicAvailability } from './native.js';
export { connectQuic, type QuicClientOptions } from './client.js';
export { listenQuic, QuicServer, type QuicServerOptions } from './server.js';
export { QuicConnection, type QuicAddress } from './connection.js';
export { QuicStream } from './stream.js';
export * from './errors.js';
export {
  QUIC_ALPN,
  QUIC_SERVER_NAME,
  HANDSHAKE_TIMEOUT_MS,
  MAX_IDLE_TIMEOUT_MS,
  KEEP_ALIVE_MS,
  MAX_DATAGRAM_FRAME_SIZE,
  type QuicTransportTuning,
  type QuicFlowControl,
} from './config.js';
