/**
 * The lossy benchmark's network: the UDP relay (test/helpers/udp-relay.ts) in a process of its own, so that forwarding
 * every datagram twice costs neither QUIC peer's CPU (in the real world loss happens in the network, not in the sender).
 * Start message: `{ targetPort, dropRate, seed }`; answers `{ port }`.
 */
import { startUdpRelay } from '../../test/helpers/udp-relay.js';

process.once('message', (start: { targetPort: number; dropRate: number; seed: number }) => {
  void (async () => {
    const relay = await startUdpRelay({
      target: { host: '127.0.0.1', port: start.targetPort },
      dropRate: start.dropRate,
      seed: start.seed,
    });
    process.send?.({ port: relay.address().port });
    process.once('disconnect', () => process.exit(0));
  })();
});
