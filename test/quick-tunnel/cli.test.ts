/**
 * `cftunnel tunnel --url URL` without a token (docs/protocol.md §20) as child processes against `cftunnel edge
 * --quick-tunnels`: the service is asked, the URL box is printed, one connection registers, a visitor of the generated
 * hostname is served, /quicktunnel reports the hostname; and each service failure ends the run with one clear line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asciiBox, QUICK_TUNNEL_CREATED_LINE } from '../../src/cli/quick-tunnel-command.js';
import { quicAvailability } from '../../src/transport/quic/index.js';
import { LocalEdge, type EdgeConnectionInfo } from '../../src/local-edge/index.js';
import { makeToken, startOrigin } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';
import { eventsOf, spawnCli, stopGracefully } from '../cli/child.js';
import { runMain } from '../helpers/run-main.js';
import { closedPort, stubService } from './service-stub.js';

const quic = quicAvailability();

interface QuickListening {
  edge: string;
  http: string;
  ca: string;
  quickService: string;
}

for (const protocol of ['quic', 'http2'] as const) {
  test(
    `${protocol}: cftunnel tunnel --url: service asked, URL box printed, exactly one connection, visitor served, /quicktunnel`,
    { skip: protocol === 'quic' && !quic.available ? 'QUIC unavailable' : false, timeout: 150_000 },
    async (t) => {
      const dir = await mkdtemp(join(tmpdir(), 'cftunnel-quick-cli-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const origin = await startOrigin((req, res) => res.end(`quick origin ${req.url}`));
      t.after(() => origin.close());
      const edge = spawnCli([
        'edge',
        '--listen',
        '127.0.0.1:0',
        '--http',
        '127.0.0.1:0',
        '--quick-tunnels',
        '127.0.0.1:0',
        '--certs',
        join(dir, 'certs'),
      ]);
      t.after(() => edge.kill());
      const info = JSON.parse(await edge.waitForLine(/"event":"listening"/)) as QuickListening;
      assert.match(info.quickService, /^http:\/\/127\.0\.0\.1:\d+$/);

      // QUIC run: no --protocol (quic is the quick-tunnel default). HTTP/2 run: --protocol http2. Both ask for four
      // connections over two static addresses; a quick tunnel runs one.
      const protocolArgs = protocol === 'http2' ? ['--protocol', 'http2'] : [];
      const connector = spawnCli([
        'tunnel',
        '--url',
        origin.url,
        '--quick-service',
        info.quickService,
        '--edge',
        info.edge,
        '--edge',
        info.edge,
        '--cacert',
        info.ca,
        '--metrics',
        '127.0.0.1:0',
        '--ha-connections',
        '4',
        '--output',
        'default',
        // A connector flag shared with `tunnel run` reaches quick tunnels too (one settings → options mapping).
        '--client-version',
        '2099.1.0',
        ...protocolArgs,
      ]);
      t.after(() => connector.kill());

      const created = JSON.parse(await edge.waitForLine(/"event":"quick_tunnel"/)) as {
        tunnelId: string;
        hostname: string;
        userAgent: string;
      };
      assert.match(created.userAgent, /^cftunnel\/\d+\.\d+\.\d+/);
      const register = JSON.parse(await edge.waitForLine(/"event":"register"/)) as {
        tunnelId: string;
        connIndex: number;
        protocol: string;
        version: string;
      };
      assert.equal(register.tunnelId, created.tunnelId);
      assert.equal(register.version, '2099.1.0');
      assert.equal(register.connIndex, 0);
      assert.equal(register.protocol, protocol);

      // The box: cloudflared's layout, one log line per row.
      const box = asciiBox([QUICK_TUNNEL_CREATED_LINE, `https://${created.hostname}`]);
      for (const row of box) await connector.waitForLine((l) => l.endsWith(` INF ${row}`), 'stderr');
      const err = connector.stderrLines;
      const boxStart = err.findIndex((l) => l.endsWith(` INF ${box[1]}`));
      assert.ok(err[boxStart + 1]!.endsWith(` INF ${box[2]}`));
      assert.ok(err.findIndex((l) => / INF Quick tunnels need no Cloudflare account/.test(l)) < boxStart);
      assert.ok(err.some((l) => l.includes(`Requesting new quick Tunnel on ${info.quickService}...`)));
      assert.ok(err.some((l) => / WRN --ha-connections 4 is ignored: a quick tunnel runs one connection$/.test(l)));
      await connector.waitForLine(/ INF Registered tunnel connection connIndex=0 /, 'stderr');

      const res = await visit(info.http, { host: created.hostname, path: '/via/quick?x=1' });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'quick origin /via/quick?x=1');

      const metricsLine = await connector.waitForLine(/Starting metrics server on /, 'stderr');
      const metrics = /Starting metrics server on (\S+)\/metrics/.exec(metricsLine)![1]!;
      const qt = await fetch(`http://${metrics}/quicktunnel`);
      assert.equal(await qt.text(), JSON.stringify({ hostname: created.hostname }));
      const ready = (await (await fetch(`http://${metrics}/ready`)).json()) as { readyConnections: number };
      assert.equal(ready.readyConnections, 1);

      await stopGracefully(connector);
      // Until the connector exited, the edge saw exactly one registration, and it unregistered.
      assert.equal(eventsOf(edge, 'register').length, 1);
      assert.deepEqual(
        eventsOf(edge, 'unregister').map((u) => u.connIndex),
        [0],
      );
      await stopGracefully(edge);
    },
  );
}

function quickArgs(service: string): string[] {
  return [
    'tunnel',
    '--url',
    'http://127.0.0.1:1',
    '--quick-service',
    service,
    '--edge',
    '127.0.0.1:1',
    '--output',
    'default',
  ];
}

function lastLine(text: string): string {
  return text.split('\n').at(-1)!;
}

test('each service failure ends the run with exit code 1 and one error line naming it', async (t) => {
  const unreachable = await runMain(quickArgs(`http://127.0.0.1:${await closedPort()}`));
  assert.equal(unreachable.code, 1);
  assert.match(
    lastLine(unreachable.stderr),
    /^cftunnel: error: failed to request quick Tunnel from http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
  );
  assert.match(unreachable.stderr, / INF Quick tunnels need no Cloudflare account/);

  const nonJson = await runMain(
    quickArgs((await stubService(t, (res) => res.writeHead(503).end('upstream unavailable'))).url),
  );
  assert.equal(nonJson.code, 1);
  assert.equal(
    lastLine(nonJson.stderr),
    'cftunnel: error: failed to unmarshal quick Tunnel (HTTP 503): the answer is not JSON: "upstream unavailable"',
  );

  const refused = await runMain(
    quickArgs(
      (
        await stubService(t, (res) =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ success: false, errors: [{ code: 1001, message: 'quick tunnels are paused' }] })),
        )
      ).url,
    ),
  );
  assert.equal(refused.code, 1);
  assert.equal(
    lastLine(refused.stderr),
    'cftunnel: error: the quick Tunnel service refused to create a tunnel (HTTP 200): 1001: quick tunnels are paused',
  );

  const limited = await runMain(
    quickArgs(
      (await stubService(t, (res) => res.writeHead(429, { 'content-type': 'text/plain' }).end('error code: 1015'))).url,
    ),
  );
  assert.equal(limited.code, 1);
  assert.match(
    lastLine(limited.stderr),
    /^cftunnel: error: the quick Tunnel service http:\/\/127\.0\.0\.1:\d+ answered 429 Too Many Requests \(try again later\): error code: 1015$/,
  );

  for (const r of [unreachable, nonJson, refused, limited])
    assert.equal(r.stderr.includes('Your quick Tunnel has been created'), false);
});

test('quick-tunnel usage: a token, a --config or an empty --quick-service is a usage error; tunnel without --url still needs run', async () => {
  const { token } = makeToken();
  const withToken = await runMain(['tunnel', '--url', 'http://127.0.0.1:1', '--token', token]);
  assert.deepEqual(withToken, {
    code: 2,
    stdout: '',
    stderr:
      'cftunnel: error: --token is set: run a named tunnel with cftunnel tunnel run (a quick tunnel needs no token)',
  });
  const withEnvToken = await runMain(['tunnel', '--url', 'http://127.0.0.1:1'], { TUNNEL_TOKEN: token });
  assert.equal(withEnvToken.code, 2);
  const withConfig = await runMain(['tunnel', '--url', 'http://127.0.0.1:1', '--config', '/nonexistent.yml']);
  assert.deepEqual(withConfig, {
    code: 2,
    stdout: '',
    stderr: 'cftunnel: error: --config is not supported with a quick tunnel; use flags',
  });
  const emptyService = await runMain(['tunnel', '--url', 'http://127.0.0.1:1', '--quick-service', '']);
  assert.equal(emptyService.code, 2);
  const bare = await runMain(['tunnel']);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /or --url URL for a quick tunnel$/);
  const help = await runMain(['tunnel', '--url', 'http://127.0.0.1:1', '--help']);
  assert.equal(help.code, 0);
  assert.ok(help.stdout.includes('--quick-service URL'));
  // `tunnel run` keeps its own command name in messages, and accepts --quick-service (no effect), like cloudflared.
  const unknown = await runMain(['tunnel', 'run', '--frobnicate']);
  assert.equal(
    unknown.stderr,
    'cftunnel: error: unknown flag --frobnicate for "cftunnel tunnel run" (see cftunnel tunnel run --help)',
  );
});

test(
  'without the QUIC binding, a quick tunnel with no --protocol runs over HTTP/2 instead of failing',
  {
    skip:
      process.platform === 'linux' && process.arch === 'x64' ? false : 'the preload fakes a missing linux-x64 binding',
    timeout: 150_000,
  },
  async (t) => {
    const noBinding = fileURLToPath(new URL('../transport/fixtures/no-quic-binding.cjs', import.meta.url));
    const dir = await mkdtemp(join(tmpdir(), 'cftunnel-quick-noquic-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const edge = await LocalEdge.start({ tunnels: [], quickTunnels: true });
    t.after(() => edge.close());
    await writeFile(join(dir, 'ca.pem'), edge.caPem);
    const origin = await startOrigin((_req, res) => res.end('served over http2'));
    t.after(() => origin.close());
    const registered = once(edge, 'register') as Promise<[EdgeConnectionInfo]>;
    const connector = spawnCli(
      [
        'tunnel',
        '--url',
        origin.url,
        '--quick-service',
        edge.quickServiceUrl!,
        '--edge',
        `${edge.address.host}:${edge.address.port}`,
        '--cacert',
        join(dir, 'ca.pem'),
        '--output',
        'default',
      ],
      { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(noBinding)}`.trim() },
    );
    t.after(() => connector.kill());
    const [info] = await registered;
    assert.equal(info.protocol, 'http2');
    await connector.waitForLine(/; using http2$/, 'stderr');
    const hostname = /https:\/\/(\S+)/.exec(await connector.waitForLine(/ INF \| {2}https:\/\//, 'stderr'))![1]!;
    const res = await visit(edge.visitorUrl, { host: hostname });
    assert.equal(res.body.toString(), 'served over http2');
    await stopGracefully(connector);
  },
);

test(
  'SIGTERM while the service has not answered ends the run with exit code 0 and no error',
  { timeout: 150_000 },
  async (t) => {
    const silent = await stubService(t, () => undefined);
    const connector = spawnCli([
      'tunnel',
      '--url',
      'http://127.0.0.1:1',
      '--quick-service',
      silent.url,
      '--edge',
      '127.0.0.1:1',
      '--output',
      'default',
    ]);
    t.after(() => connector.kill());
    await silent.firstRequest;
    await stopGracefully(connector);
    assert.equal(connector.allOutput().includes('cftunnel: error'), false, connector.allOutput());
  },
);
