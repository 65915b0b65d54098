/**
 * The originRequest options of docs/protocol.md §10.5 that ingress-services.test.ts does not cover, each end to end
 * through the local edge with a real origin on loopback, over QUIC and HTTP/2: keepAliveConnections,
 * connectTimeout (HTTP and TCP-over-WebSocket), tcpKeepAlive, noHappyEyeballs, matchSNItoHost, the legacy proxy*
 * fields, ipRules validation, and top-level option inheritance (§10.4).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { generateEdgeCertificates } from '../../src/local-edge/certs.js';
import { ORIGIN_UNREACHABLE_PREFIX } from '../../src/proxy/errors.js';
import { startOrigin, startTunnelEnv, type TunnelEnv } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';

const run = promisify(execFile);

/**
 * A loopback port whose accept queue is full, so a further connect stays in SYN-SENT (Linux drops the SYN): a child
 * Node process listens with backlog 1 and then blocks its event loop, so it never accepts; filler connections
 * occupy the queue.
 */
async function startBlackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const code =
    "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>" +
    "process.stdout.write(s.address().port+'\\n',()=>Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0)))";
  const child: ChildProcess = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  // More fillers than the queue holds; the surplus ones hang like the connector's connect will.
  const fillers = Array.from({ length: 4 }, () => net.connect(port, '127.0.0.1').on('error', () => undefined));
  await Promise.race(fillers.map((f) => once(f, 'connect')));
  return {
    port,
    async close() {
      for (const f of fillers) f.destroy();
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** An HTTP origin that answers only once `batch` requests are in flight, and counts its connections. */
async function startBatchOrigin(batch: number): Promise<{
  url: string;
  open: () => number;
  accepted: () => number;
  closed: (n: number) => Promise<void>;
  close(): Promise<void>;
}> {
  let waiting: http.ServerResponse[] = [];
  const origin = await startOrigin((_req, res) => {
    waiting.push(res);
    if (waiting.length < batch) return;
    for (const r of waiting) r.end('ok');
    waiting = [];
  });
  // Never close idle keep-alive connections from this side: only the connector may close them.
  origin.server.keepAliveTimeout = 0;
  let open = 0;
  let accepted = 0;
  let closes = 0;
  const closeWaiters: Array<{ n: number; resolve: () => void }> = [];
  origin.server.on('connection', (s: net.Socket) => {
    open++;
    accepted++;
    s.once('close', () => {
      open--;
      closes++;
      for (const w of closeWaiters.filter((x) => closes >= x.n)) w.resolve();
    });
  });
  return {
    url: origin.url,
    open: () => open,
    accepted: () => accepted,
    closed: (n) => (closes >= n ? Promise.resolve() : new Promise((resolve) => closeWaiters.push({ n, resolve }))),
    close: origin.close,
  };
}

/** An HTTP origin that holds each request until `release()`, so its connection can be inspected meanwhile. */
async function startHoldingOrigin(): Promise<{
  url: string;
  port: number;
  server: http.Server;
  release(): void;
  close(): Promise<void>;
}> {
  const held: http.ServerResponse[] = [];
  const origin = await startOrigin((_req, res) => void held.push(res));
  return {
    ...origin,
    port: Number(new URL(origin.url).port),
    release: () => held.splice(0).forEach((r) => r.end('held')),
  };
}

/**
 * Seconds left on the keep-alive timer of the connector's socket to `port`, as `ss -o` shows it. iproute2 prints
 * `29sec`, `1min29sec`, `812ms`, and under 10 s `6.808ms` meaning 6 s 808 ms.
 */
async function keepAliveTimerSeconds(port: number): Promise<number> {
  const { stdout } = await run('ss', ['-tnoH', 'state', 'established', `( dport = :${port} )`]);
  const m = /timer:\(keepalive,(?:(\d+)min)?(?:(\d+)sec|(\d+)\.(\d{3})ms|(\d+)ms),\d+\)/.exec(stdout);
  assert.ok(m !== null, `no keepalive timer on the origin socket: ${JSON.stringify(stdout)}`);
  const [, min = '0', sec = '0', shortSec = '0', shortMs = '0', ms = '0'] = m;
  return Number(min) * 60 + Number(sec) + Number(shortSec) + (Number(shortMs) + Number(ms)) / 1000;
}

/** What a connector-side origin failure looks like to the visitor of the local edge (§11). */
function assertConnectorError(protocol: 'quic' | 'http2', res: { status: number; body: Buffer }, detail: string): void {
  assert.equal(res.status, 502);
  const text = res.body.toString();
  if (protocol === 'quic') assert.ok(text.includes(`${ORIGIN_UNREACHABLE_PREFIX}: ${detail}`), text);
  else assert.ok(text.includes('{"src":"cloudflared"}'), text);
}

for (const protocol of ['quic', 'http2'] as const) {
  describe(`${protocol}: originRequest options end to end`, () => {
    let env: TunnelEnv;
    let dir: string;
    const closers: Array<() => Promise<void>> = [];
    let capped: Awaited<ReturnType<typeof startBatchOrigin>>;
    let uncapped: Awaited<ReturnType<typeof startBatchOrigin>>;
    let blackhole: Awaited<ReturnType<typeof startBlackhole>>;
    let holdDefault: Awaited<ReturnType<typeof startHoldingOrigin>>;
    let holdCustom: Awaited<ReturnType<typeof startHoldingOrigin>>;
    let plainPort: number;
    let version = 1;
    let baseConfig: { ingress: Array<Record<string, unknown>>; originRequest?: Record<string, unknown> };

    const push = async (config: unknown): Promise<{ latestAppliedVersion: number; err: string | null }> => {
      const [result] = await env.edge.pushConfig(++version, config);
      assert.ok(result !== undefined);
      return result;
    };

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cft-options-e2e-'));
      capped = await startBatchOrigin(5);
      uncapped = await startBatchOrigin(5);
      blackhole = await startBlackhole();
      holdDefault = await startHoldingOrigin();
      holdCustom = await startHoldingOrigin();
      const plain = await startOrigin((req, res) => res.end(`plain ${req.headers.host}`));
      plainPort = Number(new URL(plain.url).port);
      closers.push(capped.close, uncapped.close, blackhole.close, holdDefault.close, holdCustom.close, plain.close);

      // HTTPS origin whose certificate names sni.internal only, signed by its own CA (for matchSNItoHost).
      const pki = await generateEdgeCertificates({
        dnsNames: ['sni.internal'],
        ipAddresses: [],
        caCommonName: 'cftunnel options test CA',
      });
      const caFile = join(dir, 'ca.pem');
      await writeFile(caFile, pki.caPem);
      const tls = https.createServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) =>
        res.end(`sni=${(req.socket as TLSSocket).servername}`),
      );
      tls.listen(0, '127.0.0.1');
      await once(tls, 'listening');
      const tlsPort = (tls.address() as net.AddressInfo).port;
      closers.push(() => new Promise((resolve) => (tls.closeAllConnections(), tls.close(() => resolve()))));

      baseConfig = {
        ingress: [
          { hostname: 'cap1.test', service: capped.url, originRequest: { keepAliveConnections: 1 } },
          { hostname: 'cap-default.test', service: uncapped.url },
          {
            hostname: 'connect-timeout.test',
            service: `http://127.0.0.1:${blackhole.port}`,
            originRequest: { connectTimeout: 1 },
          },
          {
            hostname: 'connect-timeout-tcp.test',
            service: `tcp://127.0.0.1:${blackhole.port}`,
            originRequest: { connectTimeout: 1 },
          },
          { hostname: 'ka-default.test', service: holdDefault.url },
          { hostname: 'ka-custom.test', service: holdCustom.url, originRequest: { tcpKeepAlive: 7 } },
          { hostname: 'localhost.test', service: `http://localhost:${plainPort}` },
          {
            hostname: 'localhost-serial.test',
            service: `http://localhost:${plainPort}`,
            originRequest: { noHappyEyeballs: true },
          },
          {
            hostname: 'sni.internal',
            service: `https://127.0.0.1:${tlsPort}`,
            originRequest: { caPool: caFile, matchSNItoHost: true },
          },
          { hostname: 'no-sni-match.test', service: `https://127.0.0.1:${tlsPort}`, originRequest: { caPool: caFile } },
          { service: 'http_status:404' },
        ],
      };
      env = await startTunnelEnv({ protocol, haConnections: 1 });
      const [pushed] = await env.edge.pushConfig(version, baseConfig);
      assert.deepEqual([pushed?.latestAppliedVersion, pushed?.err], [version, null]);
    });

    after(async () => {
      await env?.close();
      for (const close of closers.reverse()) await close();
      await rm(dir, { recursive: true, force: true });
    });

    test(
      'keepAliveConnections: 1 → of 5 concurrent origin connections only 1 stays open once idle',
      { timeout: 20_000 },
      async () => {
        const batch = (host: string): Promise<unknown> =>
          Promise.all(Array.from({ length: 5 }, () => visit(env.edge.visitorUrl, { host })));
        await batch('cap1.test');
        assert.equal(
          capped.accepted(),
          5,
          'the origin answered only with 5 requests in flight, so 5 connections were needed',
        );
        // Without the cap nothing ever closes these (the origin never does): the test would time out here.
        await capped.closed(4);
        assert.equal(capped.open(), 1);
        await batch('cap1.test');
        assert.equal(capped.accepted(), 9, 'the one pooled connection was reused, 4 new ones were dialled');
      },
    );

    test(
      'keepAliveConnections default (100): all 5 idle connections are pooled and reused',
      { timeout: 20_000 },
      async () => {
        const batch = (): Promise<unknown> =>
          Promise.all(Array.from({ length: 5 }, () => visit(env.edge.visitorUrl, { host: 'cap-default.test' })));
        await batch();
        assert.equal(uncapped.accepted(), 5);
        await batch();
        assert.equal(uncapped.accepted(), 5, 'no new connection: the 5 idle ones were kept');
        assert.equal(uncapped.open(), 5);
      },
    );

    test(
      'connectTimeout: 1 → a connect that never completes fails with i/o timeout (HTTP origin)',
      { timeout: 10_000 },
      async () => {
        const res = await visit(env.edge.visitorUrl, { host: 'connect-timeout.test' });
        assertConnectorError(protocol, res, `dial tcp 127.0.0.1:${blackhole.port}: i/o timeout`);
      },
    );

    test(
      'connectTimeout: 1 → the same for a TCP-over-WebSocket origin (the upgrade is refused)',
      { timeout: 10_000 },
      async () => {
        const ws = new WebSocket(`${env.edge.visitorUrl.replace(/^http/, 'ws')}/`, {
          headers: { host: 'connect-timeout-tcp.test' },
        });
        ws.on('error', () => undefined);
        const [, res] = (await once(ws, 'unexpected-response')) as [unknown, http.IncomingMessage];
        assert.equal(res.statusCode, 502);
        res.resume();
        ws.terminate();
      },
    );

    test(
      'tcpKeepAlive: the origin socket has SO_KEEPALIVE with the default 30 s and a configured 7 s period',
      { timeout: 15_000 },
      async () => {
        for (const [origin, host, max, min] of [
          [holdDefault, 'ka-default.test', 30, 7],
          [holdCustom, 'ka-custom.test', 7, 0],
        ] as const) {
          const arrived = once(origin.server, 'request');
          const pending = visit(env.edge.visitorUrl, { host });
          await arrived;
          const seconds = await keepAliveTimerSeconds(origin.port);
          origin.release();
          assert.equal((await pending).body.toString(), 'held');
          assert.ok(seconds <= max && seconds > min, `${host}: keepalive timer ${seconds}s, expected (${min}, ${max}]`);
        }
      },
    );

    test('noHappyEyeballs: http://localhost:PORT (listening on 127.0.0.1 only) answers with and without it', async () => {
      for (const host of ['localhost.test', 'localhost-serial.test']) {
        const res = await visit(env.edge.visitorUrl, { host });
        assert.equal(res.status, 200, host);
        assert.equal(res.body.toString(), `plain ${host}`);
      }
    });

    test('matchSNItoHost: the request Host is the TLS server name; without it the IP origin fails verification', async () => {
      const ok = await visit(env.edge.visitorUrl, { host: 'sni.internal' });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.toString(), 'sni=sni.internal');
      const plain = await visit(env.edge.visitorUrl, { host: 'no-sni-match.test' });
      assert.equal(plain.status, 502);
    });

    test('top-level originRequest is inherited per field; a rule value wins (§10.4)', async () => {
      const service = `http://127.0.0.1:${plainPort}`;
      const result = await push({
        ingress: [
          { hostname: 'inherit.test', service },
          { hostname: 'own.test', service, originRequest: { httpHostHeader: 'own.internal' } },
          ...baseConfig.ingress,
        ],
        originRequest: { httpHostHeader: 'inherited.internal' },
      });
      assert.equal(result.err, null);
      assert.equal(
        (await visit(env.edge.visitorUrl, { host: 'inherit.test' })).body.toString(),
        'plain inherited.internal',
      );
      assert.equal((await visit(env.edge.visitorUrl, { host: 'own.test' })).body.toString(), 'plain own.internal');
      assert.equal(
        (await visit(env.edge.visitorUrl, { host: 'localhost.test' })).body.toString(),
        'plain inherited.internal',
        'every rule inherits',
      );
    });

    test('proxyAddress / proxyPort / proxyType (legacy): accepted and without effect on the request', async () => {
      const withProxy = structuredClone(baseConfig);
      withProxy.ingress.unshift({
        hostname: 'legacy-proxy.test',
        service: `http://127.0.0.1:${plainPort}`,
        originRequest: { proxyAddress: '192.0.2.1', proxyPort: 1080, proxyType: '' },
      });
      const result = await push(withProxy);
      assert.deepEqual([result.latestAppliedVersion, result.err], [version, null]);
      const res = await visit(env.edge.visitorUrl, { host: 'legacy-proxy.test' });
      assert.equal(res.body.toString(), 'plain legacy-proxy.test', 'dialled the origin directly');
    });

    test('rejected configurations: proxyType socks, ipRules of socks-proxy; the last good one keeps serving', async () => {
      const applied = version;
      const rejected: Array<[Record<string, unknown>, string]> = [
        [
          { hostname: 'socks.test', service: `tcp://127.0.0.1:${plainPort}`, originRequest: { proxyType: 'socks' } },
          'originRequest.proxyType "socks" is not supported by cftunnel',
        ],
        [
          { service: 'socks-proxy', originRequest: { ipRules: [{ ports: [80], allow: true }] } },
          'unable to create ip rule for socks-proxy: no prefix provided',
        ],
        [
          { service: 'socks-proxy', originRequest: { ipRules: [{ prefix: '10.0.0.0/33', allow: true }] } },
          'unable to create ip rule for socks-proxy: unable to parse cidr: 10.0.0.0/33',
        ],
        [
          {
            hostname: 'iprules.test',
            service: `http://127.0.0.1:${plainPort}`,
            originRequest: { ipRules: [{ prefix: 7 }] },
          },
          'json: cannot unmarshal number into Go struct field ingress[0].originRequest.ipRules[0].prefix of type string',
        ],
      ];
      for (const [rule, text] of rejected) {
        const result = await push({ ingress: [rule, { service: 'http_status:418' }] });
        assert.equal(result.latestAppliedVersion, applied);
        // Over HTTP/2 the error value is serialised without its text (§8.4).
        assert.equal(result.err, protocol === 'quic' ? text : '{}');
      }
      const res = await visit(env.edge.visitorUrl, { host: 'legacy-proxy.test' });
      assert.equal(res.body.toString(), 'plain legacy-proxy.test');
    });
  });
}
