/**
 * The golden vectors' configurations (test/fixtures/vectors/inputs.json) pushed through the local edge on both
 * transports: v1 (hello_world + http_status:404), v2 (warp-routing enabled, http_status:418), v3 rejected with
 * cloudflared's exact text while v2 stays in force.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERR_LAST_RULE_NOT_CATCH_ALL } from '../../src/ingress/rules.js';
import { fixturePath } from '../helpers/fixtures.js';
import { appliedConfigVersion, startTunnelEnv, type TunnelEnv } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';

const configs = (
  JSON.parse(readFileSync(fixturePath('vectors/inputs.json'), 'utf8')) as { configs: Record<string, unknown> }
).configs;

for (const protocol of ['quic', 'http2'] as const) {
  describe(`${protocol}: vector configurations`, () => {
    let env: TunnelEnv;
    before(async () => {
      env = await startTunnelEnv({ protocol, haConnections: 1 });
    });
    after(async () => {
      await env.close();
    });

    test('v1 → hello_world and the 404 catch-all', async () => {
      const [r] = await env.edge.pushConfig(1, configs['1']);
      assert.equal(r!.latestAppliedVersion, 1);
      assert.ok(!r!.err);
      const hello = await visit(env.edge.visitorUrl, { host: 'hello.test' });
      assert.equal(hello.status, 200);
      assert.match(hello.body.toString(), /Congrats/);
      assert.equal((await visit(env.edge.visitorUrl, { host: 'other.test' })).status, 404);
    });

    test('v2 (warp-routing enabled) applies; http_status:418 answers', async () => {
      const [r] = await env.edge.pushConfig(2, configs['2']);
      assert.equal(r!.latestAppliedVersion, 2);
      assert.ok(!r!.err);
      assert.equal(env.tunnel.config.warpRouting.enabled, true);
      assert.equal((await visit(env.edge.visitorUrl, { host: 'status.test' })).status, 418);
    });

    test('v3 is rejected with the exact error text; v2 stays in force', async () => {
      const [r] = await env.edge.pushConfig(3, configs['3 (invalid, rejected)']);
      assert.equal(r!.latestAppliedVersion, 2);
      // QUIC carries the text (§9.3); HTTP/2 carries Go's text-less error JSON (§8.4).
      if (protocol === 'quic') assert.equal(r!.err, ERR_LAST_RULE_NOT_CATCH_ALL);
      else assert.ok(r!.err !== null);
      assert.equal((await visit(env.edge.visitorUrl, { host: 'status.test' })).status, 418);
      assert.equal(await appliedConfigVersion(env.tunnel), 2);
    });
  });
}
