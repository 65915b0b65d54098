/**
 * Real runs over loopback: `cftunnel edge` and `cftunnel tunnel run` as two child processes, a visitor request
 * through the edge to an origin in this process, graceful and forced shutdown, and no secret in any output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { quicAvailability } from '../../src/transport/quic/index.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { makeToken, startOrigin } from '../helpers/tunnel-env.js';
import { detectPostQuantumSupport } from '../../src/transport/tls/curves.js';
import { runCli, spawnCli, stopGracefully, type CliChild } from './child.js';

interface Listening {
  edge: string;
  http: string;
  ca: string;
}

async function startEdge(token: string, certsDir: string, t: { after(fn: () => unknown): void }, extra: string[] = []): Promise<{ child: CliChild; info: Listening }> {
  const child = spawnCli(['edge', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--token', token, '--certs', certsDir, ...extra]);
  t.after(() => child.kill());
  const info = JSON.parse(await child.waitForLine(/"event":"listening"/)) as Listening;
  return { child, info };
}

function eventsOf(child: CliChild, name: string): Array<Record<string, unknown>> {
  return child.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === name);
}

/** Nothing may carry the token or the secret (hex, standard base64, URL-safe base64). */
function assertNoSecret(text: string, token: string, secret: Buffer): void {
  for (const needle of [token, secret.toString('hex'), secret.toString('base64'), secret.toString('base64url')]) {
    assert.equal(text.includes(needle), false, 'a secret appeared in the CLI output');
  }
}

const quic = quicAvailability();

for (const protocol of ['quic', 'http2'] as const) {
  test(`${protocol}: edge + tunnel run register, serve a visitor, unregister on SIGTERM, exit 0; no secret in any output`, { skip: protocol === 'quic' && !quic.available ? 'QUIC unavailable' : false, timeout: 150_000 }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-run-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const seen: Array<{ url: string | undefined; headers: IncomingMessage['headers'] }> = [];
    const origin = await startOrigin((req, res) => {
      seen.push({ url: req.url, headers: req.headers });
      res.end(`origin says hi to ${req.url}`);
    });
    t.after(() => origin.close());
    const { token, secret } = makeToken();
    const { child: edge, info } = await startEdge(token, join(dir, 'certs'), t);

    // QUIC run: token from TUNNEL_TOKEN. HTTP/2 run: token from a file with surrounding whitespace (§1.2 trims it).
    // The edge is given twice: one HA connection per static address, like cloudflared's own test command.
    const tokenFile = join(dir, 'token.txt');
    await writeFile(tokenFile, `\n  ${token}  \n`);
    const tokenArgs = protocol === 'http2' ? ['--token-file', tokenFile] : [];
    const env: Record<string, string> = protocol === 'quic' ? { TUNNEL_TOKEN: token } : {};
    const logFile = join(dir, 'connector.log');
    const connector = spawnCli(
      ['tunnel', 'run', ...tokenArgs, '--edge', info.edge, '--edge', info.edge, '--cacert', info.ca, '--url', origin.url, '--protocol', protocol, '--ha-connections', '2', '--loglevel', 'debug', '--logfile', logFile, '--output', 'default'],
      env,
    );
    t.after(() => connector.kill());

    await edge.waitForLine((l) => l.includes('"event":"register"') && l.includes('"connIndex":1'));
    const registers = eventsOf(edge, 'register');
    assert.deepEqual(registers.map((r) => r.connIndex).sort(), [0, 1]);
    for (const r of registers) {
      assert.equal(r.protocol, protocol);
      assert.equal(r.clientId, registers[0]!.clientId);
      assert.equal(r.version, '2023.7.3');
      assert.ok(Array.isArray(r.features));
    }
    await connector.waitForLine(/ INF Registered tunnel connection connIndex=1 connection=\S+ event=0 ip=127\.0\.0\.1 location=TST protocol=/, 'stderr');

    const res = await fetch(`${info.http}/through/the/tunnel?x=1`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'origin says hi to /through/the/tunnel?x=1');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.headers['cf-warp-tag-id'], registers[0]!.clientId);

    connector.process.kill('SIGTERM');
    const exit = await connector.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, connector.allOutput());
    const unregistered = eventsOf(edge, 'unregister');
    assert.deepEqual(unregistered.map((u) => u.connIndex).sort(), [0, 1]);
    assert.ok(connector.stderrLines.some((l) => / INF Initiating graceful shutdown due to signal SIGTERM \.\.\.$/.test(l)), connector.allOutput());
    assert.ok(connector.stderrLines.some((l) => / INF Tunnel server stopped$/.test(l)));

    // The log file holds the same run as JSON lines.
    const fileLines = (await readFile(logFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { message: string; level: string });
    assert.ok(fileLines.some((l) => l.message === 'Registered tunnel connection' && l.level === 'info'));

    await stopGracefully(edge);

    const everything = [connector.allOutput(), edge.allOutput(), await readFile(logFile, 'utf8')].join('\n');
    assertNoSecret(everything, token, secret);
    assert.ok(everything.includes('*****'), 'the settings line masks the token');
  });
}

test('a second SIGTERM during the grace period exits at once with a non-zero status', { timeout: 150_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-sig-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  let requestArrived!: () => void;
  const arrived = new Promise<void>((resolve) => (requestArrived = resolve));
  // The origin never answers, so the graceful shutdown has an in-flight request to wait for.
  const origin = await startOrigin(() => requestArrived());
  t.after(() => origin.close());
  const { token } = makeToken();
  const { child: edge, info } = await startEdge(token, join(dir, 'certs'), t);
  const connector = spawnCli(['run', '--token', token, '--edge', info.edge, '--cacert', info.ca, '--url', origin.url, '--protocol', 'http2', '--ha-connections', '1', '--grace-period', '3m', '--output', 'json']);
  t.after(() => connector.kill());
  await edge.waitForLine(/"event":"register"/);
  const pending = fetch(`${info.http}/hangs`).catch(() => undefined);
  await arrived;
  connector.process.kill('SIGTERM');
  await connector.waitForLine(/Initiating graceful shutdown due to signal SIGTERM/, 'stderr');
  connector.process.kill('SIGTERM');
  const exit = await connector.exited;
  assert.equal(exit.code, 128 + 15, connector.allOutput());
  await pending;
  edge.process.kill('SIGINT');
  assert.equal((await edge.exited).code, 0);
});

test('the connector stays up through reconnect backoff while the edge is unreachable, and SIGTERM during startup exits 0', { timeout: 150_000 }, async (t) => {
  // A loopback port with nothing listening: every HTTP/2 dial is refused at once.
  const closedPort = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
  const { token } = makeToken();
  const connector = spawnCli(['run', '--token', token, '--edge', `127.0.0.1:${closedPort}`, '--protocol', 'http2', '--output', 'json']);
  t.after(() => connector.kill());
  const retries = (): number => connector.stderrLines.filter((l) => l.includes('Retrying connection in up to')).length;
  // Two retry announcements mean the process outlived a whole backoff wait.
  await connector.waitForLine(() => retries() >= 2, 'stderr');
  connector.process.kill('SIGTERM');
  assert.deepEqual(await connector.exited, { code: 0, signal: null }, connector.allOutput());
  assert.ok(connector.stderrLines.some((l) => l.includes('Initiating graceful shutdown due to signal SIGTERM ...')));
});

test('--metrics serves /ready, /healthcheck and /metrics; --config supplies edge, CA, HA count, protocol and ingress; --tag reaches the origin', { timeout: 150_000 }, async (t) => {
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
  const connector = spawnCli(['run', '--config', configFile, '--token', token, '--metrics', '127.0.0.1:0', '--tag', 'env=prod', '--output', 'default']);
  t.after(() => connector.kill());

  const started = await connector.waitForLine(/ INF Starting metrics server on 127\.0\.0\.1:\d+\/metrics$/, 'stderr');
  const metricsUrl = `http://${/on (127\.0\.0\.1:\d+)\/metrics$/.exec(started)![1]}`;
  // The connector logs a registration after recording it, so /ready counts both connections by then.
  await connector.waitForLine(/ INF Registered tunnel connection connIndex=1 /, 'stderr');
  const registers = eventsOf(edge, 'register');
  assert.deepEqual(registers.map((r) => [r.connIndex, r.protocol]).sort(), [[0, 'http2'], [1, 'http2']]);
  assert.ok(connector.stderrLines.some((l) => l.includes('WRN Configuration file key is not a cftunnel flag; ignored') && l.includes('key=protocol-unknown-key')));

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
  const pushed = JSON.parse(String((JSON.parse(await edge.waitForLine(/"event":"local_config"/)) as { config: unknown }).config)) as { __configuration_flags: unknown; ingress: Array<{ service: string }> };
  assert.deepEqual(pushed.__configuration_flags, { metrics: '127.0.0.1:0', protocol: 'http2' });
  assert.deepEqual(pushed.ingress.map((r) => r.service), [origin.url, 'http_status:418']);
  const metricsBody = await (await fetch(`${metricsUrl}/metrics`)).text();
  assert.match(metricsBody, /^cloudflared_tunnel_ha_connections \d+$/m);
  const total = /^cloudflared_tunnel_total_requests(?:\{[^}]*\})? (\d+)$/m.exec(metricsBody);
  assert.ok(total !== null && Number(total[1]) >= 1, metricsBody);
  assertNoSecret([readyBody, healthBody, metricsBody, connector.allOutput()].join('\n'), token, secret);

  await stopGracefully(connector);
  await assert.rejects(fetch(`${metricsUrl}/ready`), 'the metrics server closed with the connector');
  await stopGracefully(edge);
});

test('without --edge, the edge is discovered through DNS; TUNNEL_REGION picks the SRV name and TUNNEL_EDGE_IP_VERSION=4 is accepted', { timeout: 150_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-disc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { token } = makeToken();
  const { child: edge, info } = await startEdge(token, join(dir, 'certs'), t);
  const port = Number(info.edge.slice(info.edge.lastIndexOf(':') + 1));
  const dns = await startDnsServer({
    srv: {
      '_us-v2-origintunneld._tcp.argotunnel.com': [
        { target: 'us-region1.v2.argotunnel.com', port },
        { target: 'us-region2.v2.argotunnel.com', port },
      ],
    },
    a: { 'us-region1.v2.argotunnel.com': ['127.0.0.1'], 'us-region2.v2.argotunnel.com': ['127.0.0.1'] },
  });
  t.after(() => dns.close());
  const connector = spawnCli(['run', '--token', token, '--cacert', info.ca, '--protocol', 'http2', '--ha-connections', '1', '--output', 'json'], {
    CFTUNNEL_DNS_SERVER: dns.server,
    TUNNEL_REGION: 'us',
    TUNNEL_EDGE_IP_VERSION: '4',
  });
  t.after(() => connector.kill());
  const registered = JSON.parse(await edge.waitForLine(/"event":"register"/)) as Record<string, unknown>;
  assert.equal(registered.connIndex, 0);
  const asked = dns.questions.map((q) => `${q.type} ${q.name}`);
  assert.ok(asked.includes('SRV _us-v2-origintunneld._tcp.argotunnel.com'), asked.join(', '));
  assert.ok(!asked.some((q) => q.startsWith('SRV _v2-origintunneld')), 'the global SRV name is not asked when a region is set');
  await stopGracefully(connector);
  await stopGracefully(edge);
});

test('--post-quantum: strict X25519MLKEM768 over HTTP/2 when this Node has it, else a clean exit 1 naming the runtime', { timeout: 150_000 }, async (t) => {
  const { token, secret } = makeToken();
  const pq = await detectPostQuantumSupport();
  if (!pq.supported) {
    const run = await runCli(['run', '--token', token, '--edge', '127.0.0.1:7844', '--post-quantum', '--output', 'json']);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout, '');
    const last = run.stderr.split('\n').at(-1)!;
    assert.match(last, /^cftunnel: error: post-quantum mode requires the X25519MLKEM768 key exchange, which this runtime \(Node \S+, OpenSSL \S+\) does not support$/);
    assertNoSecret(run.stderr, token, secret);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-pq-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { child: edge, info } = await startEdge(token, join(dir, 'certs'), t);
  const connector = spawnCli(['run', '--token', token, '--edge', info.edge, '--cacert', info.ca, '--ha-connections', '1', '--output', 'json'], { TUNNEL_POST_QUANTUM: 'true' });
  t.after(() => connector.kill());
  const registered = JSON.parse(await edge.waitForLine(/"event":"register"/)) as { protocol: string; features: string[] };
  assert.equal(registered.protocol, 'http2');
  assert.ok(registered.features.includes('postquantum'), registered.features.join(','));
  await stopGracefully(connector);
  await stopGracefully(edge);
});

test('discovery that DNS cannot answer is a clean startup failure: exit 1 with cloudflared\'s message', { timeout: 150_000 }, async (t) => {
  const dns = await startDnsServer({ servfail: ['_v2-origintunneld._tcp.argotunnel.com'] });
  t.after(() => dns.close());
  const { token, secret } = makeToken();
  const run = await runCli(['run', '--token', token, '--protocol', 'http2', '--output', 'json'], { CFTUNNEL_DNS_SERVER: dns.server });
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.stdout, '');
  assert.match(run.stderr.split('\n').at(-1)!, /^cftunnel: error: Could not lookup srv records on _v2-origintunneld\._tcp\.argotunnel\.com: /);
  assert.ok(dns.questions.some((q) => q.type === 'SRV' && q.name === '_v2-origintunneld._tcp.argotunnel.com'));
  assertNoSecret(run.stderr, token, secret);
});
