/**
 * A real run with the newer `tunnel run` features: the metrics/readiness server (`--metrics`), settings and ingress
 * from `--config`, `--tag` headers at the origin, and the local configuration pushed to a locally managed edge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeToken, startOrigin } from '../helpers/tunnel-env.js';
import { assertNoSecret, eventsOf, spawnCli, startEdge, stopGracefully } from './child.js';

test(
  '--metrics serves /ready, /healthcheck and /metrics; --config supplies edge, CA, HA count, protocol and ingress; --tag reaches the origin',
  { timeout: 150_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-metrics-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const tags: Array<string | string[] | undefined> = [];
    const origin = await startOrigin((req, res) => {
      tags.push(req.headers['cf-warp-tag-env']);
      res.end('counted');
    });
    t.after(() => origin.close());
    const { token, secret } = makeToken();
    // A locally managed tunnel: the connector pushes its local configuration, which the edge prints.
    const { child: edge, info } = await startEdge(token, join(dir, 'certs'), t, ['--remotely-managed=false']);
    const configFile = join(dir, 'config.yml');
    await writeFile(
      configFile,
      [
        'edge:',
        `  - ${info.edge}`,
        `  - ${info.edge}`,
        `cacert: ${info.ca}`,
        'ha-connections: 2',
        'protocol: http2',
        'protocol-unknown-key: 1',
        'ingress:',
        '  - path: ^/count',
        `    service: ${origin.url}`,
        '  - service: http_status:418',
        '',
      ].join('\n'),
    );
    const connector = spawnCli([
      'run',
      '--config',
      configFile,
      '--token',
      token,
      '--metrics',
      '127.0.0.1:0',
      '--tag',
      'env=prod',
      '--output',
      'default',
    ]);
    t.after(() => connector.kill());

    const started = await connector.waitForLine(/ INF Starting metrics server on 127\.0\.0\.1:\d+\/metrics$/, 'stderr');
    const metricsUrl = `http://${/on (127\.0\.0\.1:\d+)\/metrics$/.exec(started)![1]}`;
    // The connector logs a registration after recording it, so /ready counts both connections by then.
    await connector.waitForLine(/ INF Registered tunnel connection connIndex=1 /, 'stderr');
    const registers = eventsOf(edge, 'register');
    assert.deepEqual(registers.map((r) => [r.connIndex, r.protocol]).sort(), [
      [0, 'http2'],
      [1, 'http2'],
    ]);
    assert.ok(
      connector.stderrLines.some(
        (l) =>
          l.includes('WRN Configuration file key is not a cftunnel flag; ignored') &&
          l.includes('key=protocol-unknown-key'),
      ),
    );

    const ready = await fetch(`${metricsUrl}/ready`);
    const readyBody = await ready.text();
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(readyBody), { status: 200, readyConnections: 2, connectorId: registers[0]!.clientId });
    const health = await fetch(`${metricsUrl}/healthcheck`);
    const healthBody = await health.text();
    assert.deepEqual([health.status, healthBody], [200, 'OK\n']);

    const visit = await fetch(`${info.http}/count-me`);
    assert.equal(await visit.text(), 'counted');
    assert.deepEqual(tags, ['prod']);
    assert.equal((await fetch(`${info.http}/elsewhere`)).status, 418, 'the catch-all rule of the file');
    const pushed = JSON.parse(
      String((JSON.parse(await edge.waitForLine(/"event":"local_config"/)) as { config: unknown }).config),
    ) as { __configuration_flags: unknown; ingress: Array<{ service: string }> };
    assert.deepEqual(pushed.__configuration_flags, { metrics: '127.0.0.1:0', protocol: 'http2' });
    assert.deepEqual(
      pushed.ingress.map((r) => r.service),
      [origin.url, 'http_status:418'],
    );
    const metricsBody = await (await fetch(`${metricsUrl}/metrics`)).text();
    assert.match(metricsBody, /^cloudflared_tunnel_ha_connections \d+$/m);
    const total = /^cloudflared_tunnel_total_requests(?:\{[^}]*\})? (\d+)$/m.exec(metricsBody);
    assert.ok(total !== null && Number(total[1]) >= 1, metricsBody);
    assertNoSecret([readyBody, healthBody, metricsBody, connector.allOutput()].join('\n'), token, secret);

    await stopGracefully(connector);
    await assert.rejects(fetch(`${metricsUrl}/ready`), 'the metrics server closed with the connector');
    await stopGracefully(edge);
  },
);
