/** `cftunnel demo --quick`: the quick-tunnel flow offline, origin + local edge with its quick-tunnel service + connector. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { visit } from '../helpers/visitor.js';
import { spawnCli } from '../cli/child.js';

test(
  'demo --quick prints a curl line with the generated hostname that serves the demo page; SIGINT stops it with exit 0',
  { timeout: 150_000 },
  async (t) => {
    const demo = spawnCli(['demo', '--quick', '--protocol', 'http2']);
    t.after(() => demo.kill());
    const up = await demo.waitForLine(/^cftunnel demo is up: curl -H 'Host: /);
    const m =
      /^cftunnel demo is up: curl -H 'Host: (\S+)' (http:\/\/127\.0\.0\.1:\d+)\/ {3}\(quick tunnel https:\/\/(\S+)\)$/.exec(
        up,
      );
    assert.ok(m, up);
    const [, hostname, visitorUrl, urlHost] = m;
    assert.equal(urlHost, hostname);
    assert.ok(
      demo.stdoutLines.includes('  connection 0: protocol=http2 (a quick tunnel runs one connection)'),
      demo.allOutput(),
    );
    const res = await visit(visitorUrl!, { host: hostname!, path: '/quick' });
    assert.equal(res.status, 200);
    assert.match(res.body.toString(), /^Hello from the cftunnel demo origin!/);
    demo.process.kill('SIGINT');
    assert.deepEqual(await demo.exited, { code: 0, signal: null }, demo.allOutput());
  },
);
