/**
 * Origin behaviours that used to break the connector or the local edge (issue 14), end to end over QUIC and HTTP/2:
 * the request target reaches the origin exactly as the visitor sent it (path rules cannot be bypassed with dot
 * segments), `disableChunkedEncoding` streams uploads, interim 1xx answers, statuses outside 200-599, headers the
 * origin nominates in `Connection`, header bytes outside ASCII, and a visitor leaving before the response.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startOrigin, startTunnelEnv, type TunnelEnv } from '../helpers/tunnel-env.js';
import { blob, sha256, zooVisit } from '../helpers/origins/index.js';
import { startRawOrigin, type RawOrigin } from '../helpers/origins/raw-origin.js';

const MiB = 1 << 20;

/** An origin recording what each upload looked like, announcing its first body bytes. */
async function startUploadOrigin(): Promise<{
  url: string;
  events: EventEmitter;
  close(): Promise<void>;
}> {
  const events = new EventEmitter();
  const origin = await startOrigin((req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      if (bytes === 0) events.emit('first-bytes');
      bytes += c.length;
      hash.update(c);
    });
    req.once('end', () => {
      const answer = JSON.stringify({
        sha256: hash.digest('hex'),
        bytes,
        contentLength: req.headers['content-length'] ?? null,
        transferEncoding: req.headers['transfer-encoding'] ?? null,
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
    });
  });
  return { url: origin.url, events, close: origin.close };
}

/** An origin that never answers; emits `held` per request and `closed` when the connector gives the request up. */
async function startHoldingOrigin(): Promise<{ url: string; events: EventEmitter; close(): Promise<void> }> {
  const events = new EventEmitter();
  const origin = await startOrigin((_req, res) => {
    res.once('close', () => events.emit('closed'));
    events.emit('held');
  });
  return { url: origin.url, events, close: origin.close };
}

/** A chunked PUT that sends `first`, waits for `until`, then sends `second`; resolves with the JSON answer. */
async function stagedUpload(
  edgeUrl: string,
  host: string,
  first: Buffer,
  until: Promise<unknown>,
  second: Buffer,
  contentLength?: number,
): Promise<Record<string, unknown>> {
  const url = new URL(edgeUrl);
  const req = http.request({
    host: url.hostname,
    port: url.port,
    method: 'PUT',
    path: '/upload',
    agent: false,
    headers: {
      host,
      ...(contentLength !== undefined ? { 'content-length': contentLength } : { 'transfer-encoding': 'chunked' }),
    },
  });
  const response = once(req, 'response') as Promise<[http.IncomingMessage]>;
  req.write(first);
  await until;
  req.end(second);
  const [res] = await response;
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  assert.equal(res.statusCode, 200, Buffer.concat(chunks).toString());
  return JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
}

for (const protocol of ['quic', 'http2'] as const) {
  describe(`origin behaviours over ${protocol}`, () => {
    let env: TunnelEnv;
    let raw: RawOrigin;
    let upload: Awaited<ReturnType<typeof startUploadOrigin>>;
    let holding: Awaited<ReturnType<typeof startHoldingOrigin>>;
    const logs: string[] = [];

    before(async () => {
      [raw, upload, holding] = await Promise.all([startRawOrigin(), startUploadOrigin(), startHoldingOrigin()]);
      const logger = pino(
        { level: 'error' },
        new Writable({ write: (chunk: Buffer, _enc, done) => void (logs.push(chunk.toString()), done()) }),
      );
      env = await startTunnelEnv({ protocol, tunnel: { logger } });
      const [pushed] = await env.edge.pushConfig(1, {
        ingress: [
          { hostname: 'paths.test', path: '^/public/', service: raw.url },
          { hostname: 'paths.test', service: 'http_status:403' },
          { hostname: 'raw.test', service: raw.url },
          { hostname: 'upload.test', service: upload.url, originRequest: { disableChunkedEncoding: true } },
          { hostname: 'hold.test', service: holding.url },
          { service: 'http_status:404' },
        ],
      });
      assert.equal(pushed?.err, null);
    });

    after(async () => {
      await env?.close();
      await Promise.all([raw?.close(), upload?.close(), holding?.close()]);
    });

    test('path rules: dot segments, %2e and backslashes reach the origin exactly as sent, never normalised to /admin', async () => {
      const sent = [
        '/public/../admin',
        '/public/%2e%2e/admin',
        '/public/.%2e/admin',
        '/public/..\\admin',
        '/public/./x/../../admin?q=1',
      ];
      for (const path of sent) {
        const res = await zooVisit(env.edge.visitorUrl, path, { host: 'paths.test', keepBody: true });
        assert.equal(res.status, 200, path);
        assert.equal(res.body.toString('latin1'), path);
      }
      assert.deepEqual(raw.targets.slice(-sent.length), sent);
      assert.equal((await zooVisit(env.edge.visitorUrl, '/admin', { host: 'paths.test' })).status, 403);
    });

    test(
      'disableChunkedEncoding: a chunked upload larger than the read-ahead streams to the origin before it ends',
      { timeout: 20_000 },
      async () => {
        const first = blob(2 * MiB);
        const second = blob(MiB);
        const answer = await stagedUpload(
          env.edge.visitorUrl,
          'upload.test',
          first,
          once(upload.events, 'first-bytes'),
          second,
        );
        assert.equal(answer.sha256, sha256(Buffer.concat([first, second])));
        assert.equal(answer.bytes, 3 * MiB);
      },
    );

    test(
      'disableChunkedEncoding: a declared Content-Length is sent and the body streams; a small chunked body is sized',
      { timeout: 20_000 },
      async () => {
        const first = blob(2 * MiB);
        const second = blob(MiB);
        const answer = await stagedUpload(
          env.edge.visitorUrl,
          'upload.test',
          first,
          once(upload.events, 'first-bytes'),
          second,
          3 * MiB,
        );
        assert.equal(answer.sha256, sha256(Buffer.concat([first, second])));
        assert.equal(answer.contentLength, String(3 * MiB));
        assert.equal(answer.transferEncoding, null);
        const small = await zooVisit(env.edge.visitorUrl, '/upload', {
          host: 'upload.test',
          body: blob(10_000),
          chunked: true,
          keepBody: true,
        });
        const parsed = JSON.parse(small.body.toString()) as Record<string, unknown>;
        assert.equal(parsed.contentLength, '10000');
        assert.equal(parsed.transferEncoding, null);
        assert.equal(parsed.sha256, sha256(blob(10_000)));
      },
    );

    test('an origin answering 100 Continue and 103 before its final 200 is passed through', async () => {
      const res = await zooVisit(env.edge.visitorUrl, '/continue?size=1000', { host: 'raw.test' });
      assert.equal(res.failed, undefined, res.failed);
      assert.equal(res.status, 200);
      assert.equal(res.sha256, sha256(blob(1000)));
    });

    // cloudflared relays any 3-digit final status on both transports (ConnectResponse's HttpStatus is only a number,
    // docs/protocol.md §7.3; Go's HTTP/2 server writes 100-999, §8.5), with the origin's headers and body.
    test('an origin status outside 200-599 (999, 600) is relayed with its headers and body', async () => {
      const logsBefore = logs.length;
      for (const status of [999, 600, 599]) {
        const res = await zooVisit(env.edge.visitorUrl, `/status/${status}`, { host: 'raw.test', keepBody: true });
        assert.equal(res.failed, undefined, res.failed);
        assert.equal(res.status, status, res.body.toString());
        assert.equal(res.headers['x-origin-status'], String(status));
        assert.equal(res.body.toString(), `status ${status}`);
      }
      const failures = logs.slice(logsBefore).filter((line) => /failed to serve incoming request/.test(line));
      assert.deepEqual(failures, []);
    });

    test(
      'a visitor that leaves before the response cancels its tunnel stream, and so the origin request',
      { timeout: 20_000 },
      async () => {
        const url = new URL(env.edge.visitorUrl);
        const held = once(holding.events, 'held');
        const closed = once(holding.events, 'closed');
        const req = http.request({
          host: url.hostname,
          port: url.port,
          path: '/slow',
          headers: { host: 'hold.test' },
          agent: false,
        });
        req.on('error', () => undefined);
        req.end();
        await held;
        req.destroy();
        await closed;
      },
    );

    test(
      'origin header bytes (0xFF, UTF-8) reach the visitor byte for byte; Connection-nominated headers are dropped; the edge survives',
      { timeout: 20_000 },
      async () => {
        const res = await zooVisit(env.edge.visitorUrl, '/header-bytes', { host: 'raw.test', keepBody: true });
        assert.equal(res.failed, undefined, res.failed);
        assert.equal(res.status, 200);
        // Node's client reads header bytes as latin1: one char per byte.
        assert.equal(res.headers['x-bytes'], 'a\xffb');
        assert.equal(Buffer.from(String(res.headers['x-utf8']), 'latin1').toString('utf8'), '\u20ac caf\u00e9');
        assert.equal(res.headers['x-private'], undefined);
        assert.equal(res.headers['x-public'], 'visible');
        assert.equal(res.body.toString(), 'ok');
        // The local edge is still up and serving.
        assert.equal(
          (await zooVisit(env.edge.visitorUrl, `/close?size=${MiB}`, { host: 'raw.test' })).sha256,
          sha256(blob(MiB)),
        );
      },
    );

    // cloudflared relays a 101 to a plain request (docs/protocol.md §10.6): the head first, then a pipe or a cut
    // stream. An unasked protocol switch is answered 502 here, as Go's ReverseProxy does; the tunnel keeps serving.
    test(
      'an origin answering 101 to a plain GET or a POST with a body gets the visitor a 502, never a hang or an empty reply',
      { timeout: 20_000 },
      async () => {
        const logsBefore = logs.length;
        const visits: Array<[string, { method?: string; body?: Buffer }]> = [
          ['/switch', {}],
          ['/switch-bare', {}],
          ['/switch', { method: 'POST', body: blob(100_000) }],
          ['/switch-bare', { method: 'POST', body: blob(100_000) }],
        ];
        const got: string[] = [];
        for (const [path, o] of visits) {
          const res = await zooVisit(env.edge.visitorUrl, path, { host: 'raw.test', keepBody: true, ...o });
          got.push(`${o.method ?? 'GET'} ${path}: ${res.status} ${res.failed ?? 'complete'}`);
        }
        assert.deepEqual(
          got,
          visits.map(([path, o]) => `${o.method ?? 'GET'} ${path}: 502 complete`),
        );
        const failures = logs.slice(logsBefore).filter((line) => /tried to switch protocol/.test(line));
        assert.equal(failures.length, visits.length, logs.slice(logsBefore).join(''));
        // The tunnel still serves.
        assert.equal(
          (await zooVisit(env.edge.visitorUrl, `/close?size=${MiB}`, { host: 'raw.test' })).sha256,
          sha256(blob(MiB)),
        );
      },
    );
  });
}
