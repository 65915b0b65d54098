/**
 * Origin zoo faults over QUIC and HTTP/2: an origin process killed mid-body, a TCP reset mid-body, an origin that
 * answers an upload early and closes. The visitor sees a visible failure (or the early answer), never a short
 * success, and the tunnel connection keeps serving (no `disconnected` event; a normal request right after succeeds).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTunnelEnv, type TunnelEnv } from '../helpers/tunnel-env.js';
import { blob, sha256, startPythonOrigin, zooVisit, type ZooOrigin } from '../helpers/origins/index.js';
import { startRawOrigin, type RawOrigin } from '../helpers/origins/raw-origin.js';

const MiB = 1 << 20;

for (const protocol of ['quic', 'http2'] as const) {
  describe(`origin zoo faults over ${protocol}`, () => {
    let env: TunnelEnv;
    let raw: RawOrigin;
    let disconnects = 0;

    before(async () => {
      raw = await startRawOrigin();
      env = await startTunnelEnv({ protocol, url: raw.url });
      env.tunnel.on('disconnected', () => disconnects++);
    });

    after(async () => {
      await env?.close();
      await raw?.close();
    });

    async function stillServing(): Promise<void> {
      const res = await zooVisit(env.edge.visitorUrl, `/close?size=${MiB}`, { host: 'raw.test' });
      assert.equal(res.failed, undefined, res.failed);
      assert.equal(res.sha256, sha256(blob(MiB)));
      assert.equal(disconnects, 0);
    }

    test(
      'Python origin killed mid-body while the visitor stalls: the visitor sees a failure',
      { timeout: 30_000 },
      async () => {
        const py: ZooOrigin = await startPythonOrigin('http11');
        try {
          const [pushed] = await env.edge.pushConfig(1, {
            ingress: [{ hostname: 'py.test', service: py.url }, { service: raw.url }],
          });
          assert.equal(pushed?.err, null);
          const res = await zooVisit(env.edge.visitorUrl, `/blob?size=${16 * MiB}`, {
            host: 'py.test',
            slow: true,
            readAfter: () => py.close(),
          });
          assert.equal(res.status, 200);
          assert.notEqual(res.failed, undefined, `looked complete with ${res.bytes} bytes`);
          assert.ok(res.bytes < 16 * MiB);
        } finally {
          await py.close();
        }
        await stillServing();
      },
    );

    test('TCP reset mid-body: the visitor sees a failure, slow or fast', async () => {
      for (const slow of [true, false]) {
        const res = await zooVisit(env.edge.visitorUrl, `/rst-mid?size=${2 * MiB}`, { host: 'raw.test', slow });
        assert.notEqual(res.failed, undefined, `looked complete with ${res.bytes} bytes`);
      }
      await stillServing();
    });

    for (const slow of [false, true]) {
      // Over QUIC the connector sends the 413, its FIN, then STOP_SENDING for the unread upload (§7.4). The local edge's
      // QuicStream used to fail as a whole on STOP_SENDING while its upload write was blocked, losing the FIN that had
      // already arrived: the visitor waited forever (slow visitor). STOP_SENDING now stops only the sending side.
      test(
        `an origin answering 413 at once to a 4 MiB upload and closing (${slow ? 'slow' : 'fast'} visitor): the visitor gets the answer or a failure`,
        { timeout: 20_000 },
        async () => {
          const res = await zooVisit(env.edge.visitorUrl, '/early-answer', {
            host: 'raw.test',
            body: blob(4 * MiB),
            slow,
          });
          assert.ok(res.failed !== undefined || res.status === 413, `status ${res.status}`);
          await stillServing();
        },
      );
    }
  });
}
