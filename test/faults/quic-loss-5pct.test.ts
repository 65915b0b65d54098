/** QUIC with 5 % datagram loss; see quic-loss.ts. */
import { lossTest } from './quic-loss.js';

lossTest(0.05);
