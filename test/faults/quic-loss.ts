/**
 * QUIC through a lossy path (issue 9): 1 % and 5 % of datagrams dropped both ways between connector and edge. A
 * 20 MB download and 1000 small requests all complete with the right bytes (CFT_LOSS_BYTES=104857600 for 100 MB).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalEdge } from '../../src/local-edge/index.js';
import { Tunnel } from '../../src/tunnel.js';
import { makeToken } from '../helpers/tunnel-env.js';
import { patternSha256, startTestOrigin } from '../helpers/test-origin.js';
import { startUdpRelay } from '../helpers/udp-relay.js';
import { visit } from '../helpers/visitor.js';

const DOWNLOAD_BYTES = Number(process.env.CFT_LOSS_BYTES ?? 20 * 1024 * 1024);
const SMALL_REQUESTS = 1000;
const PARALLEL = 20;

/** Registers the loss test for one drop rate (one file per rate keeps each file well under a minute). */
export function lossTest(dropRate: number): void {
  test(
    `quic with ${dropRate * 100} % loss: a ${DOWNLOAD_BYTES >> 20} MB download and ${SMALL_REQUESTS} small requests complete intact`,
    { timeout: 120_000 },
    async () => {
      const origin = await startTestOrigin();
      const { token } = makeToken();
      const edge = await LocalEdge.start({ tunnels: [token] });
      const relay = await startUdpRelay({ target: { host: '127.0.0.1', port: edge.address.port }, seed: 9 });
      const tunnel = new Tunnel({
        token,
        url: origin.url,
        edge: [`127.0.0.1:${relay.address().port}`],
        caCert: edge.caPem,
        protocol: 'quic',
        haConnections: 1,
      });
      try {
        await tunnel.ready();
        relay.setRates({ dropRate });
        const big = await visit(edge.visitorUrl, { path: `/download?size=${DOWNLOAD_BYTES}&seed=5`, hashBody: true });
        assert.equal(big.status, 200);
        assert.equal(big.bytes, DOWNLOAD_BYTES);
        assert.equal(big.sha256, await patternSha256(DOWNLOAD_BYTES, 5));
        let next = 0;
        const bad: string[] = [];
        await Promise.all(
          Array.from({ length: PARALLEL }, async () => {
            while (next < SMALL_REQUESTS) {
              const i = next++;
              const r = await visit(edge.visitorUrl, { path: `/small/${i}` });
              const url = (JSON.parse(r.body.toString()) as { url: string }).url;
              if (r.status !== 200 || url !== `/small/${i}`) bad.push(`${i}: ${r.status} ${url}`);
            }
          }),
        );
        assert.deepEqual(bad, []);
        assert.ok(relay.stats.dropped > 0, 'the relay dropped datagrams');
      } finally {
        await tunnel.close({ graceMs: 0 });
        await relay.close();
        await edge.close();
        await origin.close();
      }
    },
  );
}
