/** QUIC with 1 % datagram loss; see quic-loss.ts. */
import { lossTest } from './quic-loss.js';

lossTest(0.01);
