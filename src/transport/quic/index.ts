/** QUIC transport on quiche's native binding: client (connector) and server (local edge). */
export { quicAvailability } from './native.js';
export { connectQuic, type QuicClientOptions } from './client.js';
export { listenQuic, QuicServer, type QuicServerOptions } from './server.js';
export { QuicConnection } from './connection.js';
export { QuicStream } from './stream.js';
export * from './errors.js';
export { QUIC_ALPN, QUIC_SERVER_NAME, type QuicFlowControl } from './config.js';
