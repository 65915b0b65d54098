/**
 * One size limit for remote configurations on both transports (issue 14 item 9): cloudflared's capnp layer decodes
 * messages up to 64 MiB (go-capnproto2 `defaultDecodeLimit`, src/capnp/framing.ts `MAX_CAPNP_MESSAGE_BYTES`), so a
 * multi-megabyte configuration applies on QUIC as it does on HTTP/2; the same bound caps both.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appliedConfigVersion, startTunnelEnv, type TunnelEnv } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';

/** A valid configuration of about `bytes` bytes: many hostname rules (each one is validated, like cloudflared). */
function bigConfig(bytes: number, status: number): { ingress: Array<{ hostname?: string; service: string }> } {
  const rules: Array<{ hostname?: string; service: string }> = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const rule = { hostname: `host-${i}-${'x'.repeat(40)}.example.test`, service: `http_status:${status}` };
    size += JSON.stringify(rule).length + 1;
    rules.push(rule);
  }
  rules.push({ service: 'http_status:404' });
  return { ingress: rules };
}

for (const protocol of ['quic', 'http2'] as const) {
  describe(`${protocol}: configuration size`, () => {
    let env: TunnelEnv;
    before(async () => {
      env = await startTunnelEnv({ protocol });
    });
    after(async () => {
      await env.close();
    });

    test('a 3 MiB configuration applies (over the former 1 MiB QUIC frame limit)', async () => {
      const doc = bigConfig(3 * 1024 * 1024, 418);
      assert.ok(JSON.stringify(doc).length > 3 * 1024 * 1024);
      const [result] = await env.edge.pushConfig(1, doc);
      assert.deepEqual([result!.latestAppliedVersion, result!.err], [1, null]);
      assert.equal(await appliedConfigVersion(env.tunnel), 1);
      assert.equal(
        (await visit(env.edge.visitorUrl, { host: 'host-7-' + 'x'.repeat(40) + '.example.test' })).status,
        418,
      );
    });
  });
}
