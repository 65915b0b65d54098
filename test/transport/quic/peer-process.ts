/**
 * Child process for the "killed peer" test: runs a QUIC server that echoes streams and reports its port over IPC.
 * The parent kills it with SIGKILL, so no CONNECTION_CLOSE is ever sent.
 */
import { listenQuic, type QuicStream } from '../../../src/transport/quic/index.js';

interface Start {
  certPem: string;
  keyPem: string;
  idleTimeoutMs: number;
}

process.once('message', (start: Start) => {
  void listenQuic({
    host: '127.0.0.1',
    port: 0,
    cert: start.certPem,
    key: start.keyPem,
    idleTimeoutMs: start.idleTimeoutMs,
    keepAliveMs: 0,
  }).then((server) => {
    server.on('connection', (conn) =>
      conn.on('stream', (s: QuicStream) => {
        s.on('error', () => undefined);
        s.pipe(s);
      }),
    );
    process.send?.({ port: server.address().port });
  });
});
