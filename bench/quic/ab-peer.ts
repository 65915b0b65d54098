/** A/B peer: QUIC server from the implementation directory given in the start message. */
import { serveRequest, type PeerSample } from './shared.js';
import type { QuicConnection, QuicStream, listenQuic as ListenQuic } from '../../src/transport/quic/index.js';

process.once('message', (start: { certPem: string; keyPem: string; impl: string }) => {
  void (async () => {
    const mod = (await import(start.impl)) as { listenQuic: typeof ListenQuic };
    const quic = await mod.listenQuic({ host: '127.0.0.1', port: 0, cert: start.certPem, key: start.keyPem });
    const conns = new Set<QuicConnection>();
    quic.on('connection', (conn: QuicConnection) => {
      conns.add(conn);
      conn.on('stream', (s: QuicStream) => {
        s.on('error', () => undefined);
        serveRequest(s, s);
      });
    });
    process.on('message', (msg: { cmd?: string }) => {
      if (msg.cmd !== 'sample') return;
      let packets = 0;
      for (const c of conns) packets += (c.packetsSent ?? 0) + (c.packetsReceived ?? 0);
      const sample: PeerSample = { cpu: process.cpuUsage(), packets };
      process.send?.(sample);
    });
    process.send?.({ port: quic.address().port });
    process.once('disconnect', () => process.exit(0));
  })();
});
