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
import { makeToken, startOrigin } from '../helpers/tunnel-env.js';
import { assertNoSecret, eventsOf, spawnCli, startEdge, stopGracefully } from './child.js';

const quic = quicAvailability();

for (const protocol of ['quic', 'http2'] as const) {
  test(
    `${protocol}: edge + tunnel run register, serve a visitor, unregister on SIGTERM, exit 0; no secret in any output`,
    { skip: protocol === 'quic' && !quic.available ? 'QUIC unavailable' : false, timeout: 150_000 },
    async (t) => {
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
      const env: Record<string, string> =
        protocol === 'quic' ? { TUNNEL_TOKEN: token, CFTUNNEL_CLIENT_VERSION: '2099.1.0' } : {};
      // QUIC run: datagram v3 asked for with -F and the reported version overridden from the environment (§14.3, §6.6).
      const featureArgs = protocol === 'quic' ? ['-F', 'support_datagram_v3_2'] : [];
      const logFile = join(dir, 'connector.log');
      const connector = spawnCli(
        [
          'tunnel',
          'run',
          ...tokenArgs,
          '--edge',
          info.edge,
          '--edge',
          info.edge,
          '--cacert',
          info.ca,
          '--url',
          origin.url,
          '--protocol',
          protocol,
          '--ha-connections',
          '2',
          '--loglevel',
          'debug',
          '--logfile',
          logFile,
          '--output',
          'default',
          ...featureArgs,
        ],
        env,
      );
      t.after(() => connector.kill());

      await edge.waitForLine((l) => l.includes('"event":"register"') && l.includes('"connIndex":1'));
      const registers = eventsOf(edge, 'register');
      assert.deepEqual(registers.map((r) => r.connIndex).sort(), [0, 1]);
      for (const r of registers) {
        assert.equal(r.protocol, protocol);
        assert.equal(r.clientId, registers[0]!.clientId);
        // The release whose wire behaviour cftunnel follows (docs/protocol.md §18), unless overridden.
        assert.equal(r.version, protocol === 'quic' ? '2099.1.0' : '2026.8.2');
        // HEAD's default feature set without management_logs (§14.4); -F support_datagram_v3_2 adds v3, v2 stays.
        const expected = ['allow_remote_config', 'serialized_headers', 'support_datagram_v2', 'support_quic_eof'];
        if (protocol === 'quic') expected.push('support_datagram_v3_2');
        assert.deepEqual([...(r.features as string[])].sort(), expected.sort());
      }
      await connector.waitForLine(
        / INF Registered tunnel connection connIndex=1 connection=\S+ event=0 ip=127\.0\.0\.1 location=TST protocol=/,
        'stderr',
      );

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
      assert.ok(
        connector.stderrLines.some((l) => / INF Initiating graceful shutdown due to signal SIGTERM \.\.\.$/.test(l)),
        connector.allOutput(),
      );
      assert.ok(connector.stderrLines.some((l) => / INF Tunnel server stopped$/.test(l)));

      // The log file holds the same run as JSON lines.
      const fileLines = (await readFile(logFile, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { message: string; level: string });
      assert.ok(fileLines.some((l) => l.message === 'Registered tunnel connection' && l.level === 'info'));

      await stopGracefully(edge);

      const everything = [connector.allOutput(), edge.allOutput(), await readFile(logFile, 'utf8')].join('\n');
      assertNoSecret(everything, token, secret);
      assert.ok(everything.includes('*****'), 'the settings line masks the token');
    },
  );
}

test(
  'a second SIGTERM during the grace period exits at once with a non-zero status',
  { timeout: 150_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-sig-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    let requestArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (requestArrived = resolve));
    // The origin never answers, so the graceful shutdown has an in-flight request to wait for.
    const origin = await startOrigin(() => requestArrived());
    t.after(() => origin.close());
    const { token } = makeToken();
    const { child: edge, info } = await startEdge(token, join(dir, 'certs'), t);
    const connector = spawnCli([
      'run',
      '--token',
      token,
      '--edge',
      info.edge,
      '--cacert',
      info.ca,
      '--url',
      origin.url,
      '--protocol',
      'http2',
      '--ha-connections',
      '1',
      '--grace-period',
      '3m',
      '--output',
      'json',
    ]);
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
  },
);

test(
  'the connector stays up through reconnect backoff while the edge is unreachable, and SIGTERM during startup exits 0',
  { timeout: 150_000 },
  async (t) => {
    // A loopback port with nothing listening: every HTTP/2 dial is refused at once.
    const closedPort = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const { token } = makeToken();
    const connector = spawnCli([
      'run',
      '--token',
      token,
      '--edge',
      `127.0.0.1:${closedPort}`,
      '--protocol',
      'http2',
      '--output',
      'json',
    ]);
    t.after(() => connector.kill());
    const retries = (): number =>
      connector.stderrLines.filter((l) => l.includes('Retrying connection in up to')).length;
    // Two retry announcements mean the process outlived a whole backoff wait.
    await connector.waitForLine(() => retries() >= 2, 'stderr');
    connector.process.kill('SIGTERM');
    assert.deepEqual(await connector.exited, { code: 0, signal: null }, connector.allOutput());
    assert.ok(connector.stderrLines.some((l) => l.includes('Initiating graceful shutdown due to signal SIGTERM ...')));
  },
);
