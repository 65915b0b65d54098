/**
 * cloudflared's single-origin flags on a real run (docs/protocol.md §10.4, §16): `--no-tls-verify` against a
 * self-signed HTTPS origin, `--http-host-header` seen by the origin, every other origin flag in the resolved
 * configuration (`/config`), console log lines on a pipe with one debug line per request and per response, and
 * `--url localhost:PORT` with the token read from TUNNEL_TOKEN by both `cftunnel edge` and the connector.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateEdgeCertificates } from '../../src/local-edge/certs.js';
import { singleOriginRule, validateOriginUrl } from '../../src/cli/origin-flags.js';
import { parseRunFlags } from '../../src/cli/tunnel-run-command.js';
import { UsageError } from '../../src/cli/errors.js';
import { makeToken, startOrigin } from '../helpers/tunnel-env.js';
import { assertNoSecret, eventsOf, spawnCli, startEdge, stopGracefully, type Listening } from './child.js';

/** zerolog's console line: RFC 3339 time, level abbreviation, message. */
const CONSOLE_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (DBG|INF|WRN|ERR|FTL) \S/;

test('--url as cloudflared reads it: http:// prepended without a scheme, path dropped with one, unsupported schemes refused', () => {
  const cases: Array<[string, string]> = [
    ['localhost:8080', 'http://localhost:8080'],
    ['localhost', 'http://localhost'],
    ['localhost:8080/api', 'http://localhost:8080'],
    ['127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['127.0.0.1', 'http://127.0.0.1'],
    ['[::1]:8080', 'http://[::1]:8080'],
    ['::1', 'http://[::1]'],
    ['https://localhost:8443/', 'https://localhost:8443'],
    ['HTTP://Example.com/app', 'http://example.com'],
    ['ssh://127.0.0.1:22', 'ssh://127.0.0.1:22'],
    ['tcp://db.internal:5432', 'tcp://db.internal:5432'],
  ];
  for (const [given, expected] of cases) assert.equal(validateOriginUrl(given), expected, given);
  for (const scheme of ['ftp', 'ws', 'wss', 'gopher']) {
    assert.throws(
      () => validateOriginUrl(`${scheme}://x`),
      (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.equal(
          e.message,
          `Error validating origin URL: Currently Cloudflare Tunnel does not support ${scheme} protocol.`,
        );
        return true;
      },
    );
  }
  assert.throws(() => validateOriginUrl(''), /URL should not be empty/);
  assert.throws(() => validateOriginUrl('localhost:/x'), /has invalid format/);
});

test("origin flags become originRequest fields only when set; --hello-world, --bastion, --url, --unix-socket pick the service in cloudflared's order", () => {
  const rule = (args: string[], env: Record<string, string> = {}) => singleOriginRule(parseRunFlags(args, env));
  assert.deepEqual(rule([]), { service: undefined, originRequest: {} });
  assert.deepEqual(
    rule([
      '--url',
      'localhost:1',
      '--proxy-connect-timeout',
      '1m30s',
      '--proxy-keepalive-connections',
      '-1',
      '--no-tls-verify=false',
    ]),
    {
      service: 'http://localhost:1',
      originRequest: { connectTimeout: 90, keepAliveConnections: -1, noTLSVerify: false },
    },
  );
  assert.deepEqual(rule(['--unix-socket', '/run/app.sock'], { NO_TLS_VERIFY: 'true', TUNNEL_HTTP_HOST_HEADER: 'h' }), {
    service: 'unix:/run/app.sock',
    originRequest: { httpHostHeader: 'h', noTLSVerify: true },
  });
  assert.equal(rule(['--url', 'localhost:1', '--unix-socket', '/s']).service, 'http://localhost:1');
  assert.deepEqual(rule(['--bastion', '--url', 'localhost:1']), {
    service: 'bastion',
    originRequest: { bastionMode: true },
  });
  assert.equal(rule(['--hello-world', '--bastion']).service, 'hello_world');
  assert.throws(
    () => rule(['--proxy-tls-timeout', 'soon']),
    (e: unknown) => e instanceof UsageError && /--proxy-tls-timeout/.test(e.message),
  );
  assert.throws(() => rule(['--proxy-port', '70000']), UsageError);
});

async function selfSignedHttpsOrigin(
  seen: IncomingHttpHeaders[],
): Promise<{ url: string; caPath: string; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cftunnel-origin-tls-'));
  // A certificate for localhost signed by a CA nobody trusts: only --no-tls-verify lets the connector in.
  const pki = await generateEdgeCertificates({
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    caCommonName: 'untrusted origin CA',
  });
  const caPath = join(dir, 'origin-ca.pem');
  await writeFile(caPath, pki.caPem);
  const server = https.createServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
    seen.push(req.headers);
    res.end(`tls origin saw ${req.url}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://localhost:${port}`,
    caPath,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test(
  'origin flags reach the origin and the resolved config; logs are console lines on a pipe with a debug line per request',
  { timeout: 150_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-origin-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const seen: IncomingHttpHeaders[] = [];
    const origin = await selfSignedHttpsOrigin(seen);
    t.after(() => origin.close());
    const { token, secret } = makeToken();
    const { info } = await startEdge(token, join(dir, 'certs'), t);
    const originFlags = [
      '--no-tls-verify',
      '--http-host-header',
      'app.internal',
      '--origin-server-name',
      'localhost',
      '--origin-ca-pool',
      origin.caPath,
      '--proxy-connect-timeout',
      '7s',
      '--proxy-tls-timeout',
      '3s',
      '--proxy-tcp-keepalive',
      '15s',
      '--proxy-no-happy-eyeballs',
      '--proxy-keepalive-connections',
      '7',
      '--proxy-keepalive-timeout',
      '45s',
      '--no-chunked-encoding',
      '--http2-origin',
      '--proxy-address',
      '127.0.0.2',
      '--proxy-port',
      '8000',
    ];
    // No --output: stderr is a pipe here, and the lines must still be console lines.
    const connector = spawnCli([
      'tunnel',
      'run',
      '--token',
      token,
      '--edge',
      info.edge,
      '--cacert',
      info.ca,
      '--ha-connections',
      '1',
      '--protocol',
      'http2',
      '--url',
      origin.url,
      ...originFlags,
      '--metrics',
      '127.0.0.1:0',
      '--loglevel',
      'debug',
    ]);
    t.after(() => connector.kill());
    const started = await connector.waitForLine(/ INF Starting metrics server on 127\.0\.0\.1:\d+\/metrics$/, 'stderr');
    const metricsUrl = `http://${/on (127\.0\.0\.1:\d+)\/metrics$/.exec(started)![1]}`;
    await connector.waitForLine(/ INF Registered tunnel connection connIndex=0 /, 'stderr');

    const res = await fetch(`${info.http}/hello?x=1`, { headers: { 'cf-ray': '8f00000000000001-TST' } });
    assert.equal(res.status, 200, connector.allOutput());
    assert.equal(await res.text(), 'tls origin saw /hello?x=1');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.host, 'app.internal');
    assert.equal(seen[0]!['x-forwarded-host'], new URL(info.http).host);

    const config = (await (await fetch(`${metricsUrl}/config`)).json()) as {
      config: { ingress: Array<{ service: string; originRequest: unknown }>; originRequest: unknown };
    };
    const expected = {
      noTLSVerify: true,
      httpHostHeader: 'app.internal',
      originServerName: 'localhost',
      caPool: origin.caPath,
      connectTimeout: 7,
      tlsTimeout: 3,
      tcpKeepAlive: 15,
      noHappyEyeballs: true,
      keepAliveConnections: 7,
      keepAliveTimeout: 45,
      disableChunkedEncoding: true,
      http2Origin: true,
      proxyAddress: '127.0.0.2',
      proxyPort: 8000,
    };
    assert.deepEqual(config.config.originRequest, expected);
    assert.deepEqual(config.config.ingress, [{ service: origin.url, originRequest: expected }]);

    const request = await connector.waitForLine(/ DBG GET \S+\/hello\?x=1 HTTP\/2\.0 /, 'stderr');
    for (const field of [
      'cfRay=8f00000000000001-TST',
      'connIndex=0',
      'event=1',
      'host=',
      'ingressRule=0',
      `originService=${origin.url}`,
      'path=/hello',
    ]) {
      assert.ok(request.includes(field), `${field} in ${request}`);
    }
    const response = await connector.waitForLine(/ DBG 200 OK /, 'stderr');
    assert.match(response, /content-length=\d+/);
    await stopGracefully(connector);
    for (const line of connector.stderrLines) assert.match(line, CONSOLE_LINE);
    assertNoSecret(connector.allOutput(), token, secret);
  },
);

test(
  "--url localhost:PORT; the edge and the connector both read TUNNEL_TOKEN; HA capped with cloudflared's message; a second SIGINT logs and exits 130",
  { timeout: 150_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-url-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const hanging = new Set<ServerResponse>();
    let hangArrived!: () => void;
    const hangSeen = new Promise<void>((resolve) => (hangArrived = resolve));
    const origin = await startOrigin((req, res) => {
      if (req.url === '/hang') {
        hanging.add(res);
        hangArrived();
      } else res.end(`plain origin saw ${req.headers.host}${req.url}`);
    });
    t.after(() => {
      for (const res of hanging) res.destroy();
    });
    t.after(() => origin.close());
    const { token, secret } = makeToken();
    const edge = spawnCli(['edge', '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--certs', join(dir, 'certs')], {
      TUNNEL_TOKEN: token,
    });
    t.after(() => edge.kill());
    const info = JSON.parse(await edge.waitForLine(/"event":"listening"/)) as Listening;
    const port = new URL(origin.url).port;
    // Default --ha-connections (4) with one --edge address.
    const connector = spawnCli(['run', '--edge', info.edge, '--cacert', info.ca, '--url', `localhost:${port}`], {
      TUNNEL_TOKEN: token,
    });
    t.after(() => connector.kill());
    await edge.waitForLine(/"event":"register"/);
    await connector.waitForLine(/ INF You requested 4 HA connections but I can give you at most 1\.$/, 'stderr');
    const res = await fetch(`${info.http}/p`);
    assert.equal(res.status, 200, connector.allOutput());
    assert.equal(await res.text(), `plain origin saw ${new URL(info.http).host}/p`);
    assert.equal(eventsOf(edge, 'register').length, 1);

    // An in-flight request holds the graceful shutdown (30 s grace period); the second SIGINT cuts it short.
    const inFlight = fetch(`${info.http}/hang`).catch(() => undefined);
    await hangSeen;
    connector.process.kill('SIGINT');
    await connector.waitForLine(/ INF Initiating graceful shutdown due to signal SIGINT \.\.\.$/, 'stderr');
    connector.process.kill('SIGINT');
    assert.deepEqual(await connector.exited, { code: 130, signal: null });
    assert.match(
      connector.stderrLines.at(-1)!,
      / WRN Received SIGINT again: exiting at once, in-flight requests are cut \(exit code 130\)$/,
    );
    await inFlight;
    assertNoSecret(connector.allOutput() + edge.allOutput(), token, secret);
  },
);

test(
  'cftunnel edge --token new writes the token to a 0600 file and prints a connector command without it; that command connects',
  { timeout: 150_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-newtoken-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const origin = await startOrigin((_req, res) => res.end('generated token works'));
    t.after(() => origin.close());
    const certs = join(dir, 'certs');
    const edge = spawnCli([
      'edge',
      '--listen',
      '127.0.0.1:0',
      '--http',
      '127.0.0.1:0',
      '--certs',
      certs,
      '--token',
      'new',
    ]);
    t.after(() => edge.kill());
    const info = JSON.parse(await edge.waitForLine(/"event":"listening"/)) as Listening & {
      tokenFile: string;
      connector: string;
    };
    assert.equal(info.tokenFile, join(certs, 'tunnel-token'));
    const { mode } = statSync(info.tokenFile);
    assert.equal(mode & 0o777, 0o600);
    const token = readFileSync(info.tokenFile, 'utf8').trim();
    assert.equal(
      info.connector,
      `cftunnel tunnel run --token-file ${info.tokenFile} --edge ${info.edge} --cacert ${info.ca} --url http://localhost:8080`,
    );
    assert.equal(edge.allOutput().includes(token), false, 'the generated token is printed nowhere');
    await edge.waitForLine((l) => l.includes(info.connector), 'stderr');
    // Run exactly the printed command (origin swapped in): the token comes from the file, not from argv.
    const args = info.connector
      .split(' ')
      .slice(1)
      .map((a) => (a === 'http://localhost:8080' ? origin.url : a));
    const connector = spawnCli(args);
    t.after(() => connector.kill());
    await edge.waitForLine(/"event":"register"/);
    assert.equal(connector.process.spawnargs.join(' ').includes(token), false);
    assert.equal(await (await fetch(`${info.http}/`)).text(), 'generated token works');
    await stopGracefully(connector);
  },
);
