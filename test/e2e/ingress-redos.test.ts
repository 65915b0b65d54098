/**
 * A visitor cannot take the tunnel offline through a path rule (issue 14 item 2). Rule `^/(\w+/?)*$` is a nested
 * quantifier: a backtracking engine needs 2^n steps for `/aaa…a!`. With RE2 matching (linear time) a 5,000-character
 * path is routed like any other request, and another host on the same tunnel is served while it is in flight.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestSummary } from '../../src/observability/request-observer.js';
import { startOrigin, startTunnelEnv, type TunnelEnv } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';

const NESTED_QUANTIFIER = '^/(\\w+/?)*$';
const HOSTILE_PATH = `/${'a'.repeat(5000)}!`;
/** Requests to the other host that must be answered while the hostile one is still open. */
const OTHER_REQUESTS = 5;

for (const protocol of ['quic', 'http2'] as const) {
  describe(`${protocol}: a pathological path against a nested-quantifier rule`, () => {
    let env: TunnelEnv;
    let slow: Awaited<ReturnType<typeof startOrigin>>;
    let other: Awaited<ReturnType<typeof startOrigin>>;
    let onOtherServed: () => void = () => undefined;
    const otherDone = new Promise<void>((resolve) => (onOtherServed = resolve));

    before(async () => {
      // The slow host's origin answers the hostile request only after the tunnel reported OTHER_REQUESTS requests to
      // the other host as done: the hostile request is provably in flight (matched, proxied) while the tunnel serves
      // others, and its own summary necessarily comes after theirs.
      slow = await startOrigin((req, res) => {
        if (req.url === HOSTILE_PATH) void otherDone.then(() => res.end('hostile path served'));
        else res.end('slow host');
      });
      other = await startOrigin((_req, res) => res.end('other host'));
      env = await startTunnelEnv({ protocol });
      const [pushed] = await env.edge.pushConfig(1, {
        ingress: [
          { hostname: 'slow.test', path: NESTED_QUANTIFIER, service: 'http_status:418' },
          { hostname: 'slow.test', service: slow.url },
          { hostname: 'other.test', service: other.url },
          { service: 'http_status:404' },
        ],
      });
      assert.deepEqual([pushed!.latestAppliedVersion, pushed!.err], [1, null]);
    });
    after(async () => {
      await env.close();
      await slow.close();
      await other.close();
    });

    test('the hostile request completes and another host keeps being served meanwhile', async () => {
      const summaries: RequestSummary[] = [];
      let otherServed = 0;
      env.tunnel.on('request', (s) => {
        summaries.push(s);
        if (s.host === 'other.test' && ++otherServed === OTHER_REQUESTS) onOtherServed();
      });
      const hostile = visit(env.edge.visitorUrl, { host: 'slow.test', path: HOSTILE_PATH });
      const others: Array<Awaited<ReturnType<typeof visit>>> = [];
      for (let i = 0; i < OTHER_REQUESTS; i++)
        others.push(await visit(env.edge.visitorUrl, { host: 'other.test', path: `/n${i}` }));
      for (const res of others) assert.deepEqual([res.status, res.body.toString()], [200, 'other host']);
      const res = await hostile;
      // The nested-quantifier rule does not match (the path ends in `!`): the next rule, the slow host's origin.
      assert.deepEqual([res.status, res.body.toString()], [200, 'hostile path served']);
      // The rule still matches what it should.
      assert.equal(
        (await visit(env.edge.visitorUrl, { host: 'slow.test', path: `/${'a/'.repeat(2500)}` })).status,
        418,
      );
      const hosts = summaries.map((s) => s.host);
      assert.equal(hosts.filter((h) => h === 'other.test').length, OTHER_REQUESTS);
      // The hostile request ended after every request to the other host: it was in flight while they were served.
      assert.equal(hosts.indexOf('slow.test'), OTHER_REQUESTS);
    });
  });
}
