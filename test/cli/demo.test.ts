import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quicAvailability } from '../../src/transport/quic/index.js';
import { spawnCli } from './child.js';

const quic = quicAvailability();

for (const protocol of ['http2', 'quic'] as const) {
  test(
    `demo (${protocol}) prints a URL that serves the demo page through the tunnel, and stops on SIGINT with exit 0`,
    { skip: protocol === 'quic' && !quic.available ? 'QUIC unavailable' : false, timeout: 150_000 },
    async (t) => {
      const demo = spawnCli(['demo', '--protocol', protocol, '--ha-connections', '2']);
      t.after(() => demo.kill());
      const up = await demo.waitForLine(/^cftunnel demo is up: curl http:\/\/127\.0\.0\.1:\d+\/$/);
      const url = up.slice(up.indexOf('http://'));
      // Two connections: the demo gives the local edge once per connection (one HA connection per static address).
      for (const i of [0, 1])
        await demo.waitForLine(new RegExp(`^  connection ${i}: protocol=${protocol} location=TST id=[0-9a-f-]{36}$`));

      const res = await fetch(`${url}demo/path?q=1`, { headers: { 'x-demo': 'yes' } });
      assert.equal(res.status, 200);
      const body = await res.text();
      assert.match(body, /^Hello from the cftunnel demo origin!/);
      assert.match(body, /\nGET \/demo\/path\?q=1\n/);
      assert.match(body, /\n {2}x-demo: yes\n/);
      assert.match(body, /\n {2}cf-ray: [0-9a-f]+-TST\n/i);

      demo.process.kill('SIGINT');
      assert.deepEqual(await demo.exited, { code: 0, signal: null }, demo.allOutput());
      assert.ok(demo.stdoutLines.includes('cftunnel demo stopped'));
    },
  );
}
