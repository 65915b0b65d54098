/**
 * The origin zoo, end to end through the local edge over QUIC and HTTP/2: origins not written like this project's
 * (Python's http.server as HTTP/1.0 and as HTTP/1.1 keep-alive, raw sockets with `Connection: close`, EOF-delimited
 * and chunked bodies with trailers, `100 Continue`, FIN mid-body, large headers, a slow-reading origin, and nginx),
 * each serving and receiving megabytes to and from a slow visitor and a fast one. Bytes are checked by SHA-256; a
 * body the origin cut off must reach the visitor as a failure, never as a shorter success.
 */
import { after, before, describe, test } from 'node:test';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { startTunnelEnv, type TunnelEnv } from '../helpers/tunnel-env.js';
import {
  blob,
  nginxBinary,
  sha256,
  startNginx,
  startPythonHttpServerModule,
  startPythonOrigin,
  zooVisit,
  type ZooOrigin,
  type ZooResult,
} from '../helpers/origins/index.js';
import { startRawOrigin, type RawOrigin } from '../helpers/origins/raw-origin.js';

const MiB = 1 << 20;
/** Sizes: slow visitors move a few MiB (every 4 KiB costs a turn of the loop), fast ones up to 20 MiB. */
const SLOW = 2 * MiB;
const FAST = 8 * MiB;
const NGINX_FAST = 20 * MiB;

const nginx = nginxBinary();

function assertIntact(res: ZooResult, expectedSha: string, bytes: number): void {
  assert.equal(res.failed, undefined, `request failed: ${res.failed}`);
  assert.equal(res.status, 200);
  assert.equal(res.bytes, bytes);
  assert.equal(res.sha256, expectedSha);
}

function assertUpload(res: ZooResult, data: Buffer): void {
  assert.equal(res.failed, undefined, `request failed: ${res.failed}`);
  assert.equal(res.status, 200, res.body.toString());
  assert.deepEqual(JSON.parse(res.body.toString()), { sha256: sha256(data), bytes: data.length });
}

for (const protocol of ['quic', 'http2'] as const) {
  describe(`origin zoo over ${protocol}`, { timeout: 120_000 }, () => {
    let env: TunnelEnv;
    let edgeUrl: string;
    let pyModule: ZooOrigin;
    let py10: ZooOrigin;
    let py11: ZooOrigin;
    let raw: RawOrigin;
    let web: ZooOrigin | undefined;
    const file = blob(MiB);
    const fourMiB = blob(4 * MiB);

    before(async () => {
      [pyModule, py10, py11, raw] = await Promise.all([
        startPythonHttpServerModule({ 'one-mib.bin': file, 'four-mib.bin': fourMiB }),
        startPythonOrigin('http10'),
        startPythonOrigin('http11'),
        startRawOrigin(),
      ]);
      if ('path' in nginx)
        web = await startNginx(nginx.path, { 'small.bin': blob(SLOW), 'large.bin': blob(NGINX_FAST) });
      env = await startTunnelEnv({ protocol });
      edgeUrl = env.edge.visitorUrl;
      const [pushed] = await env.edge.pushConfig(1, {
        ingress: [
          { hostname: 'pymodule.test', service: pyModule.url },
          { hostname: 'py10.test', service: py10.url },
          { hostname: 'py11.test', service: py11.url },
          { hostname: 'raw.test', service: raw.url },
          ...(web !== undefined ? [{ hostname: 'nginx.test', service: web.url }] : []),
          { service: 'http_status:404' },
        ],
      });
      assert.equal(pushed?.err, null);
    });

    after(async () => {
      await env?.close();
      await Promise.all([pyModule, py10, py11, raw, web].map((o) => o?.close()));
    });

    test('python -m http.server (HTTP/1.0, closes after the body): 1 and 4 MiB files to a slow visitor, then a fast one', async () => {
      for (const [name, data] of [
        ['/one-mib.bin', file],
        ['/four-mib.bin', fourMiB],
      ] as const) {
        for (const slow of [true, false])
          assertIntact(await zooVisit(edgeUrl, name, { host: 'pymodule.test', slow }), sha256(data), data.length);
      }
      // The connector is still serving.
      assert.equal((await zooVisit(edgeUrl, '/one-mib.bin', { host: 'pymodule.test' })).status, 200);
    });

    test('origin closing its socket while the connector holds the body back: a visitor that reads only once the origin is done', async () => {
      // The whole answer and its FIN are with the kernel before the visitor reads a byte, so the connector's origin
      // client meets end-of-file while the body is held back by backpressure (undici 7 asserted there, #5360).
      for (const path of ['/close', '/eof']) {
        for (const slow of [true, false]) {
          const sent = once(raw.events, 'sent');
          const res = await zooVisit(edgeUrl, `${path}?size=${4 * MiB}`, { host: 'raw.test', slow, readAfter: sent });
          assertIntact(res, sha256(blob(4 * MiB)), 4 * MiB);
        }
      }
    });

    for (const [name, host] of [
      ['Python http.server HTTP/1.0', 'py10.test'],
      ['Python ThreadingHTTPServer HTTP/1.1 keep-alive', 'py11.test'],
    ] as const) {
      test(`${name}: Content-Length and EOF-delimited downloads, slow and fast`, async () => {
        for (const path of ['/blob', '/eof']) {
          for (const [slow, size] of [
            [true, SLOW],
            [false, FAST],
          ] as const) {
            const res = await zooVisit(edgeUrl, `${path}?size=${size}`, { host, slow });
            // Python generates the bytes; it sends their SHA-256 in X-Sha256.
            assertIntact(res, String(res.headers['x-sha256']), size);
          }
        }
      });

      test(`${name}: uploads with Content-Length, slow and fast, and to an origin reading 1 KiB at a time`, async () => {
        assertUpload(
          await zooVisit(edgeUrl, '/upload', { host, body: blob(SLOW), slow: true, keepBody: true }),
          blob(SLOW),
        );
        assertUpload(await zooVisit(edgeUrl, '/upload', { host, body: blob(FAST), keepBody: true }), blob(FAST));
        assertUpload(await zooVisit(edgeUrl, '/upload?slow=1', { host, body: blob(SLOW), keepBody: true }), blob(SLOW));
      });
    }

    test('Python HTTP/1.1: chunked download with a trailer, chunked uploads, slow and fast', async () => {
      for (const [slow, size] of [
        [true, SLOW],
        [false, FAST],
      ] as const) {
        const res = await zooVisit(edgeUrl, `/chunked?size=${size}`, { host: 'py11.test', slow });
        assertIntact(res, String(res.headers['x-sha256']), size);
        const up = await zooVisit(edgeUrl, '/upload', {
          host: 'py11.test',
          body: blob(size),
          chunked: true,
          slow,
          keepBody: true,
        });
        assertUpload(up, blob(size));
      }
    });

    test('raw origin: Connection: close, EOF-delimited, chunked with trailer, 100 Continue + 103 then 200; slow and fast', async () => {
      for (const path of ['/close', '/eof', '/chunked', '/continue']) {
        for (const [slow, size] of [
          [true, SLOW],
          [false, FAST],
        ] as const) {
          const res = await zooVisit(edgeUrl, `${path}?size=${size}`, { host: 'raw.test', slow });
          assertIntact(res, sha256(blob(size)), size);
        }
      }
    });

    test('raw origin: FIN mid-body (Content-Length or chunked) reaches the visitor as a failure, never a short success', async () => {
      for (const path of ['/fin-mid', '/fin-mid-chunked']) {
        for (const slow of [true, false]) {
          const res = await zooVisit(edgeUrl, `${path}?size=${SLOW}`, { host: 'raw.test', slow });
          assert.notEqual(
            res.failed,
            undefined,
            `${path} (slow: ${slow}) looked complete: status ${res.status}, ${res.bytes} bytes`,
          );
          assert.ok(res.bytes < SLOW);
        }
      }
      // The tunnel still serves afterwards.
      assertIntact(await zooVisit(edgeUrl, `/close?size=${MiB}`, { host: 'raw.test' }), sha256(blob(MiB)), MiB);
    });

    test("raw origin: 24 KiB of response headers pass (more than Node's 16 KiB default)", async () => {
      const res = await zooVisit(edgeUrl, '/big-headers?kib=24', { host: 'raw.test', keepBody: true });
      assert.equal(res.failed, undefined, res.failed);
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-big-23'], '3'.repeat(1024));
      assert.equal(res.body.toString(), 'ok');
    });

    test('raw origin reading the upload slowly: slow and fast visitors', async () => {
      for (const [slow, size] of [
        [true, SLOW],
        [false, FAST],
      ] as const) {
        assertUpload(
          await zooVisit(edgeUrl, `/upload?size=${size}`, { host: 'raw.test', body: blob(size), slow, keepBody: true }),
          blob(size),
        );
      }
    });

    test(
      'nginx: static downloads slow and fast, PUT uploads read back intact',
      { skip: 'skip' in nginx ? nginx.skip : false },
      async () => {
        assertIntact(
          await zooVisit(edgeUrl, '/small.bin', { host: 'nginx.test', slow: true }),
          sha256(blob(SLOW)),
          SLOW,
        );
        assertIntact(
          await zooVisit(edgeUrl, '/large.bin', { host: 'nginx.test' }),
          sha256(blob(NGINX_FAST)),
          NGINX_FAST,
        );
        for (const [slow, size, chunked] of [
          [true, SLOW, false],
          [false, NGINX_FAST, false],
          [false, FAST, true],
        ] as const) {
          const name = `/up-${protocol}-${slow}-${size}-${chunked}.bin`;
          const put = await zooVisit(edgeUrl, name, {
            host: 'nginx.test',
            method: 'PUT',
            body: blob(size),
            slow,
            chunked,
          });
          assert.equal(put.failed, undefined, put.failed);
          assert.ok(put.status === 201 || put.status === 204, `PUT answered ${put.status}`);
          assertIntact(await zooVisit(edgeUrl, name, { host: 'nginx.test', slow }), sha256(blob(size)), size);
        }
      },
    );
  });
}
