/** Bench peer process: a QUIC server and a node:http2 TLS server serving the shared bench protocol. */
import { createSocket } from 'node:dgram';
import { createSecureServer } from 'node:http2';
import { once } from 'node:events';
import { listenQuic, type QuicConnection, type QuicStream } from '../../src/transport/quic/index.js';
import { startUdpRelay } from '../../test/helpers/udp-relay.js';
import { UDP_ACK_EVERY, serveRequest, type PeerSample } from './shared.js';

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
    const relay = await startUdpRelay({
      target: { host: '127.0.0.1', port: quic.address().port },
      dropRate: start.relayDropRate,
      seed: 7,
    });
    // Raw node:dgram sink for the UDP ceiling baseline: acknowledges every UDP_ACK_EVERY datagrams with a 1-byte datagram
    // (the sender keeps a window of unacknowledged datagrams, as a QUIC sender's congestion window would).
    const sink = createSocket('udp4');
    sink.bind(0, '127.0.0.1');
    await once(sink, 'listening');
    sink.setRecvBufferSize(4 * 1024 * 1024);
    sink.setSendBufferSize(4 * 1024 * 1024);
    let sinkDatagrams = 0;
    const ack = Buffer.alloc(1);
    sink.on('message', (_msg, rinfo) => {
      if (++sinkDatagrams % UDP_ACK_EVERY === 0) sink.send(ack, rinfo.port, rinfo.address);
    });
    // The relay shares this process: its CPU is part of the lossy runs' server figure, which is why those are not reported.
    process.on('message', (msg: { cmd?: string }) => {
      if (msg.cmd !== 'sample') return;
      let packets = closedPackets;
      for (const c of connections) packets += c.packetsSent + c.packetsReceived;
      const sample: PeerSample = { cpu: process.cpuUsage(), packets, datagrams: sinkDatagrams };
      process.send?.(sample);
    });
    process.send?.({
      quicPort: quic.address().port,
      h2Port: typeof h2Address === 'object' && h2Address ? h2Address.port : 0,
      relayPort: relay.address().port,
      udpPort: sink.address().port,
    });
    process.once('disconnect', () => process.exit(0));
  })();
});
