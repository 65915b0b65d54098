/**
 * Issue 5 end to end: every service type and the originRequest options, each with a real origin on loopback,
 * through the local edge's visitor port, over QUIC and HTTP/2. One remote configuration (pushed like the edge
 * does) routes hostnames to the services under test.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { WebSocket } from 'ws';
import { generateEdgeCertificates } from '../../src/local-edge/certs.js';
import type { OriginServices } from '../../src/orchestration/origin-services.js';
import { startTunnelEnv, type TunnelEnv } from '../helpers/tunnel-env.js';
import { headerValues, visit } from '../helpers/visitor.js';

interface Closer {
  close(): Promise<void>;
}

function listen(server: net.Server, where: number | string = 0): Promise<number> {
  server.listen(where as number, typeof where === 'number' ? '127.0.0.1' : undefined);
  return once(server, 'listening').then(() =>
    typeof where === 'number' ? (server.address() as net.AddressInfo).port : 0,
  );
}

function closer(server: net.Server | http.Server | http2.Http2SecureServer): Closer {
  return {
    close: () =>
      new Promise<void>((resolve) => {
        (server as http.Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Echoes what arrived: method, url, headers, body length, HTTP version, TLS server name. */
function echoHandler(
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
): void {
  let bytes = 0;
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.on('end', () => {
    const body = JSON.stringify({
      url: req.url,
      httpVersion: req.httpVersion,
      servername: (req.socket as TLSSocket).servername ?? null,
      rawHeaders: req.rawHeaders,
      bodyBytes: bytes,
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
}

interface Echo {
  url: string;
  httpVersion: string;
  servername: string | null;
  rawHeaders: string[];
  bodyBytes: number;
}

function echoed(body: Buffer): Echo {
  return JSON.parse(body.toString()) as Echo;
}

function rawHeader(e: Echo, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < e.rawHeaders.length; i += 2)
    if (e.rawHeaders[i]!.toLowerCase() === name) out.push(e.rawHeaders[i + 1]!);
  return out;
}

/** Opens a WebSocket through the visitor port and resolves with the first binary message and the socket. */
async function openWs(
  visitorUrl: string,
  host: string,
  headers: Record<string, string> = {},
): Promise<{ ws: WebSocket; first: Buffer }> {
  const ws = new WebSocket(visitorUrl.replace(/^http/, 'ws') + '/', { headers: { host, ...headers } });
  const first = once(ws, 'message') as Promise<[Buffer]>;
  await once(ws, 'open');
  return { ws, first: (await first)[0] };
}

async function wsRoundTrip(ws: WebSocket, data: string): Promise<string> {
  const reply = once(ws, 'message') as Promise<[Buffer]>;
  ws.send(Buffer.from(data));
  return (await reply)[0].toString();
}

const SSH_BANNER = 'SSH-2.0-cftunnel-test\r\n';
const ACCESS_TEAM = 'team';
const ACCESS_AUD = 'aud-ok';

for (const protocol of ['quic', 'http2'] as const) {
  describe(`${protocol}: ingress services and originRequest options`, () => {
    let env: TunnelEnv;
    let dir: string;
    const closers: Closer[] = [];
    let echoUrl: string;
    let echoHits = 0;
    let sseNext: (() => void) | undefined;
    let jwks: {
      url: string;
      sign(claims: { aud: string[]; expSeconds?: number; foreignKey?: boolean }): Promise<string>;
    };
    let config: Record<string, unknown>;
    let keepAliveOriginClosed: Promise<unknown>;
    let keepAliveSockets = 0;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cft-ingress-e2e-'));

      const echo = http.createServer((req, res) => {
        echoHits++;
        echoHandler(req, res);
      });
      echoUrl = `http://127.0.0.1:${await listen(echo)}`;
      closers.push(closer(echo));

      // HTTPS origin whose certificate is for origin.internal only, signed by its own CA.
      const pki = await generateEdgeCertificates({
        dnsNames: ['origin.internal'],
        ipAddresses: [],
        caCommonName: 'cftunnel origin test CA',
      });
      const caFile = join(dir, 'origin-ca.pem');
      await writeFile(caFile, pki.caPem);
      const tlsOrigin = https.createServer({ cert: pki.certPem, key: pki.keyPem }, echoHandler);
      const tlsPort = await listen(tlsOrigin);
      closers.push(closer(tlsOrigin));

      // h2 origin (TLS, h2 ALPN, HTTP/1.1 fallback) for http2Origin.
      const h2Origin = http2.createSecureServer({ cert: pki.certPem, key: pki.keyPem, allowHTTP1: true }, echoHandler);
      const h2Port = await listen(h2Origin as unknown as net.Server);
      closers.push(closer(h2Origin));

      // Plain HTTP over a unix socket.
      const sock = join(dir, 'origin.sock');
      const unixOrigin = http.createServer(echoHandler);
      await listen(unixOrigin, sock);
      closers.push(closer(unixOrigin));

      // SSE origin: the next event is written only when the test says so.
      // The path picks the content type: HEAD flushes each write for SSE, NDJSON and any chunked response (§8.5).
      const streamingTypes: Record<string, string> = {
        '/events': 'text/event-stream',
        '/ndjson': 'application/x-ndjson',
        '/chunked': 'text/plain',
      };
      const sse = http.createServer((req, res) => {
        res.writeHead(200, {
          'content-type': streamingTypes[req.url ?? ''] ?? 'text/event-stream',
          'cache-control': 'no-cache',
        });
        let n = 0;
        const send = (): void => {
          n++;
          res.write(`data: event ${n}\n\n`);
          if (n === 3) res.end();
        };
        sseNext = send;
        send();
      });
      const ssePort = await listen(sse);
      closers.push(closer(sse));

      // SSH-like TCP origin: banner, then echo.
      const sshLike = net.createServer((s) => {
        s.on('error', () => undefined);
        s.write(SSH_BANNER);
        s.pipe(s);
      });
      const sshPort = await listen(sshLike);
      closers.push(closer(sshLike));

      // TLS port that never completes a handshake, for tlsTimeout.
      const silent = net.createServer((s) => s.on('error', () => undefined));
      const silentPort = await listen(silent);
      closers.push({ close: () => new Promise((r) => silent.close(() => r())) });
      const silentSockets = new Set<net.Socket>();
      silent.on('connection', (s) => {
        silentSockets.add(s);
        s.once('close', () => silentSockets.delete(s));
      });
      closers.push({ close: async () => silentSockets.forEach((s) => s.destroy()) });

      // Origin whose pooled connection must be closed by keepAliveTimeout.
      const keepAlive = http.createServer(echoHandler);
      keepAliveOriginClosed = new Promise((resolve) =>
        keepAlive.on('connection', (s: net.Socket) => {
          keepAliveSockets++;
          s.once('close', resolve);
        }),
      );
      const keepAlivePort = await listen(keepAlive);
      closers.push(closer(keepAlive));

      // Access team key set.
      const good = await generateKeyPair('RS256');
      const foreign = await generateKeyPair('RS256');
      const jwk = { ...(await exportJWK(good.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
      const jwksServer = http.createServer((req, res) => {
        if (req.url !== '/cdn-cgi/access/certs') return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      });
      const teamUrl = `http://127.0.0.1:${await listen(jwksServer)}`;
      closers.push(closer(jwksServer));
      jwks = {
        url: teamUrl,
        sign: ({ aud, expSeconds = 300, foreignKey = false }) =>
          new SignJWT({ email: 'user@example.com' })
            .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
            .setIssuer(teamUrl)
            .setAudience(aud)
            .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
            .setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds)
            .sign(foreignKey ? foreign.privateKey : good.privateKey),
      };

      config = {
        ingress: [
          { hostname: 'hello.test', service: 'hello_world' },
          { hostname: 'unix.test', service: `unix:${sock}` },
          {
            hostname: 'tls-ok.test',
            service: `https://127.0.0.1:${tlsPort}`,
            originRequest: { caPool: caFile, originServerName: 'origin.internal' },
          },
          {
            hostname: 'tls-noca.test',
            service: `https://127.0.0.1:${tlsPort}`,
            originRequest: { originServerName: 'origin.internal' },
          },
          { hostname: 'tls-nosni.test', service: `https://127.0.0.1:${tlsPort}`, originRequest: { caPool: caFile } },
          {
            hostname: 'tls-noverify.test',
            service: `https://127.0.0.1:${tlsPort}`,
            originRequest: { noTLSVerify: true },
          },
          {
            hostname: 'h2.test',
            service: `https://127.0.0.1:${h2Port}`,
            originRequest: { noTLSVerify: true, http2Origin: true },
          },
          { hostname: 'h1.test', service: `https://127.0.0.1:${h2Port}`, originRequest: { noTLSVerify: true } },
          {
            hostname: 'tls-timeout.test',
            service: `https://127.0.0.1:${silentPort}`,
            originRequest: { tlsTimeout: 1, connectTimeout: 1 },
          },
          { hostname: 'hosthdr.test', service: echoUrl, originRequest: { httpHostHeader: 'internal.app' } },
          { hostname: 'nochunk.test', service: echoUrl, originRequest: { disableChunkedEncoding: true } },
          {
            hostname: 'keepalive.test',
            service: `http://127.0.0.1:${keepAlivePort}`,
            originRequest: { keepAliveTimeout: 1 },
          },
          { hostname: 'sse.test', service: `http://127.0.0.1:${ssePort}` },
          { hostname: 'ssh.test', service: `ssh://127.0.0.1:${sshPort}` },
          { hostname: 'bastion.test', service: 'bastion' },
          { hostname: 'bastion-mode.test', service: 'http://unused.invalid:1', originRequest: { bastionMode: true } },
          {
            hostname: 'access.test',
            service: echoUrl,
            originRequest: { access: { required: true, teamName: ACCESS_TEAM, audTag: [ACCESS_AUD] } },
          },
          { hostname: 'echo.test', service: echoUrl },
          { service: 'http_status:404' },
        ],
        'warp-routing': { enabled: true },
      };

      env = await startTunnelEnv({ protocol, haConnections: 1 });
      // Until TunnelOptions can pass an origin context (see report), point Access at the local key server.
      (env.tunnel as unknown as { origins: OriginServices }).origins.context.accessTeamUrl = () => jwks.url;
      const pushed = await env.edge.pushConfig(1, config);
      assert.deepEqual(
        pushed.map((p) => [p.latestAppliedVersion, p.err || null]),
        [[1, null]],
      );
    });

    after(async () => {
      await env?.close();
      for (const c of closers.reverse()) await c.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('hello_world: the built-in HTTPS page answers', async () => {
      const res = await visit(env.edge.visitorUrl, { host: 'hello.test', path: '/' });
      assert.equal(res.status, 200);
      assert.match(res.body.toString(), /Congrats! You created a tunnel!/);
      assert.match(headerValues(res, 'content-type')[0] ?? '', /^text\/html/);
    });

    test('http_status catch-all answers 404 with an empty body', async () => {
      const res = await visit(env.edge.visitorUrl, { host: 'unrouted.test' });
      assert.equal(res.status, 404);
      assert.equal(res.body.length, 0);
    });

    test('unix: plain HTTP over a unix socket', async () => {
      const res = await visit(env.edge.visitorUrl, { host: 'unix.test', path: '/u?x=1' });
      assert.equal(res.status, 200);
      const e = echoed(res.body);
      assert.equal(e.url, '/u?x=1');
      assert.deepEqual(rawHeader(e, 'host'), ['unix.test']);
    });

    test('HTTPS origin with its own CA: caPool + originServerName verify; missing either fails; noTLSVerify skips', async () => {
      const ok = await visit(env.edge.visitorUrl, { host: 'tls-ok.test', path: '/tls' });
      assert.equal(ok.status, 200);
      assert.equal(echoed(ok.body).servername, 'origin.internal', 'SNI = originServerName');
      const noCa = await visit(env.edge.visitorUrl, { host: 'tls-noca.test' });
      assert.equal(noCa.status, 502, 'untrusted CA');
      const noSni = await visit(env.edge.visitorUrl, { host: 'tls-nosni.test' });
      assert.equal(noSni.status, 502, 'certificate is not for 127.0.0.1');
      const noVerify = await visit(env.edge.visitorUrl, { host: 'tls-noverify.test' });
      assert.equal(noVerify.status, 200);
    });

    test('http2Origin: HTTP/2 to the origin when set, HTTP/1.1 otherwise', async () => {
      const h2 = await visit(env.edge.visitorUrl, { host: 'h2.test' });
      assert.equal(h2.status, 200);
      assert.equal(echoed(h2.body).httpVersion, '2.0');
      const h1 = await visit(env.edge.visitorUrl, { host: 'h1.test' });
      assert.equal(echoed(h1.body).httpVersion, '1.1');
    });

    test('tlsTimeout/connectTimeout: a TLS handshake that never completes ends in 502', async () => {
      const res = await visit(env.edge.visitorUrl, { host: 'tls-timeout.test' });
      assert.equal(res.status, 502);
    });

    test('httpHostHeader replaces Host; the original goes to X-Forwarded-Host', async () => {
      const res = await visit(env.edge.visitorUrl, { host: 'hosthdr.test' });
      const e = echoed(res.body);
      assert.deepEqual(rawHeader(e, 'host'), ['internal.app']);
      assert.deepEqual(rawHeader(e, 'x-forwarded-host'), ['hosthdr.test']);
    });

    test('disableChunkedEncoding: a streamed chunked upload reaches the origin with Content-Length', async () => {
      // 1 MiB in 64 KiB pieces: still streaming when the connector dispatches, so by default it goes out chunked.
      const body = (): Readable =>
        Readable.from(
          (function* () {
            for (let i = 0; i < 16; i++) yield Buffer.alloc(64 * 1024, i);
          })(),
        );
      const chunked = { 'transfer-encoding': 'chunked' };
      const plain = echoed(
        (await visit(env.edge.visitorUrl, { method: 'PUT', host: 'echo.test', headers: chunked, body: body() })).body,
      );
      assert.deepEqual(rawHeader(plain, 'transfer-encoding'), ['chunked'], 'default: streamed chunked');
      assert.deepEqual(rawHeader(plain, 'content-length'), []);
      const sized = echoed(
        (await visit(env.edge.visitorUrl, { method: 'PUT', host: 'nochunk.test', headers: chunked, body: body() }))
          .body,
      );
      assert.deepEqual(rawHeader(sized, 'transfer-encoding'), []);
      assert.deepEqual(rawHeader(sized, 'content-length'), [String(1024 * 1024)]);
      assert.equal(sized.bodyBytes, 1024 * 1024);
    });

    test('keepAliveTimeout: the idle pooled origin connection is closed by the connector', async () => {
      const res = await visit(env.edge.visitorUrl, { host: 'keepalive.test' });
      assert.equal(res.status, 200);
      await keepAliveOriginClosed;
      assert.equal(keepAliveSockets, 1);
    });

    for (const [label, path] of [
      ['SSE', '/events'],
      ['NDJSON', '/ndjson'],
      ['chunked text/plain', '/chunked'],
    ] as const) {
      test(
        `${label}: each write reaches the visitor before the origin writes the next (no buffering, HEAD flush rules)`,
        { timeout: 15_000 },
        async () => {
          const url = new URL(env.edge.visitorUrl);
          const req = http.request({
            host: url.hostname,
            port: url.port,
            path,
            headers: { host: 'sse.test' },
            agent: false,
          });
          req.end();
          const [res] = (await once(req, 'response')) as [http.IncomingMessage];
          assert.equal(res.statusCode, 200);
          const chunks = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
          let text = '';
          for (let n = 1; n <= 3; n++) {
            while (!text.includes(`data: event ${n}\n\n`)) {
              const next = await chunks.next();
              assert.ok(next.done !== true, `stream ended before event ${n}`);
              text += next.value.toString();
            }
            assert.ok(!text.includes(`event ${n + 1}`), 'the origin has not sent the next event yet');
            if (n < 3) sseNext!();
          }
          assert.equal((await chunks.next()).done, true);
        },
      );
    }

    test('ssh:// (TCP over WebSocket): banner and echo through a ws client', async () => {
      const { ws, first } = await openWs(env.edge.visitorUrl, 'ssh.test');
      assert.equal(first.toString(), SSH_BANNER);
      assert.equal(await wsRoundTrip(ws, 'ping over tcp'), 'ping over tcp');
      const pong = once(ws, 'pong') as Promise<[Buffer]>;
      ws.ping(Buffer.from('are you there'));
      assert.equal((await pong)[0].toString(), 'are you there', 'the connector answers pings');
      const closed = once(ws, 'close');
      ws.close();
      await closed;
    });

    test('bastion and bastionMode: destination from Cf-Access-Jump-Destination (scheme and path stripped)', async () => {
      const port = (config.ingress as Array<{ hostname?: string; service: string }>)
        .find((r) => r.hostname === 'ssh.test')!
        .service.split(':')
        .at(-1);
      for (const host of ['bastion.test', 'bastion-mode.test']) {
        const { ws, first } = await openWs(env.edge.visitorUrl, host, {
          'cf-access-jump-destination': `tcp://127.0.0.1:${port}/ignored`,
        });
        assert.equal(first.toString(), SSH_BANNER, host);
        assert.equal(await wsRoundTrip(ws, `via ${host}`), `via ${host}`);
        const closed = once(ws, 'close');
        ws.close();
        await closed;
      }
    });

    test('Access: valid token passes; missing or foreign audience → 403 from the connector; expired or forged → error', async () => {
      const hitsBefore = echoHits;
      const ok = await visit(env.edge.visitorUrl, {
        host: 'access.test',
        headers: { 'cf-access-jwt-assertion': await jwks.sign({ aud: [ACCESS_AUD] }) },
      });
      assert.equal(ok.status, 200);
      assert.equal(echoHits, hitsBefore + 1);
      const missing = await visit(env.edge.visitorUrl, { host: 'access.test' });
      assert.equal(missing.status, 403);
      assert.equal(missing.body.length, 0);
      const wrongAud = await visit(env.edge.visitorUrl, {
        host: 'access.test',
        headers: { 'cf-access-jwt-assertion': await jwks.sign({ aud: ['other'] }) },
      });
      assert.equal(wrongAud.status, 403);
      const expired = await visit(env.edge.visitorUrl, {
        host: 'access.test',
        headers: { 'cf-access-jwt-assertion': await jwks.sign({ aud: [ACCESS_AUD], expSeconds: -60 }) },
      });
      assert.equal(expired.status, 502);
      const forged = await visit(env.edge.visitorUrl, {
        host: 'access.test',
        headers: { 'cf-access-jwt-assertion': await jwks.sign({ aud: [ACCESS_AUD], foreignKey: true }) },
      });
      assert.equal(forged.status, 502);
      assert.equal(echoHits, hitsBefore + 1, 'only the valid token reached the origin');
    });
  });
}
