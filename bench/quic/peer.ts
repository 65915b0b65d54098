/** Bench peer process: a QUIC server and a node:http2 TLS server serving the shared bench protocol. */
import { createSecureServer } from 'node:http2';
import { once } from 'node:events';
import { listenQuic, type QuicConnection, type QuicStream } from '../../src/transport/quic/index.js';
import { startUdpRelay } from '../../test/helpers/udp-relay.js';
import { serveRequest, type PeerSample } from './shared.js';

interface Start {
  certPem: string;
  keyPem: string;
  relayDropRate: number;
}

process.once('message', (start: Start) => {
  void (async () => {
    const quic = await listenQuic({ host: '127.0.0.1', port: 0, cert: start.certPem, key: start.keyPem });
    const connections = new Set<QuicConnection>();
    // Packets of connections already closed, so that a sample still counts them.
    let closedPackets = 0;
    quic.on('connection', (conn: QuicConnection) => {
      connections.add(conn);
      conn.once('close', () => {
        connections.delete(conn);
        closedPackets += conn.packetsSent + conn.packetsReceived;
      });
      conn.on('stream', (s: QuicStream) => {
        s.on('error', () => undefined);
        serveRequest(s, s);
      });
    });
    const h2 = createSecureServer({ cert: start.certPem, key: start.keyPem });
    h2.on('stream', (stream) => {
      stream.on('error', () => undefined);
      stream.respond({ ':status': 200 });
      serveRequest(stream, stream);
    });
    h2.listen(0, '127.0.0.1');
    await once(h2, 'listening');
    const h2Address = h2.address();
    const relay = await startUdpRelay({ target: { host: '127.0.0.1', port: quic.address().port }, dropRate: start.relayDropRate, seed: 7 });
    // The relay shares this process: its CPU is part of the lossy runs' server figure, which is why those are not reported.
    process.on('message', (msg: { cmd?: string }) => {
      if (msg.cmd !== 'sample') return;
      let packets = closedPackets;
      for (const c of connections) packets += c.packetsSent + c.packetsReceived;
      const sample: PeerSample = { cpu: process.cpuUsage(), packets };
      process.send?.(sample);
    });
    process.send?.({ quicPort: quic.address().port, h2Port: typeof h2Address === 'object' && h2Address ? h2Address.port : 0, relayPort: relay.address().port });
    process.once('disconnect', () => process.exit(0));
  })();
});
