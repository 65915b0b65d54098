/** The two transports a tunnel connection runs on (docs/protocol.md §3.1); the connector and the local edge share it. */
export type TunnelProtocol = 'quic' | 'http2';
