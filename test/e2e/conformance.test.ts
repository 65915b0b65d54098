/**
 * Golden-vector conformance: for each recorded scenario, an origin replays exactly what the recorded origin
 * answered, the local edge sends what the reference edge sent, and what our connector writes back must decode equal
 * to what real cloudflared 2023.7.3 wrote (modulo the varying fields of MANIFEST.md: header pair order).
 *
 * Not compared: the `tcp` scenario — cloudflared served it (warp routing on in config v2), cftunnel refuses
 * private-network flows by product decision (covered in proxy.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { decodeConnectRequest, decodeConnectResponse, type Metadata } from '../../src/capnp/connect-codec.js';
import { decodeSerializedHeaders } from '../../src/wire/serialized-headers.js';
import type { TunnelRequest, TunnelResponse } from '../../src/local-edge/types.js';
import { fixturePath } from '../helpers/fixtures.js';
import { startTunnelEnv, type TunnelEnv } from '../helpers/tunnel-env.js';

const HTTP_SCENARIOS = [
  'get',
  'get-dup-header',
  'not-found',
  'post-content-length',
  'put-chunked',
  'set-cookie',
  'websocket',
  'status-418',
  'origin-down-502',
];

/** A TCP origin that answers the first request on each connection with fixed bytes (and keeps upgrades open). */
async function replayOrigin(
  status: number,
  headers: Array<[string, string]>,
  body: Buffer,
): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      if (seen.indexOf('\r\n\r\n') < 0) return;
      socket.off('data', onData);
      const lines = [`HTTP/1.1 ${status} Status`, ...headers.map(([n, v]) => `${n}: ${v}`), '', ''];
      socket.write(lines.join('\r\n'));
      if (status !== 101) socket.end(body);
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function readOptional(path: string): Buffer {
  return existsSync(fixturePath(path)) ? readFileSync(fixturePath(path)) : Buffer.alloc(0);
}

function sortedPairs(pairs: Array<[string, string]>): string[] {
  // Pair order varies (Go map order, MANIFEST); relative order of one name's values does not.
  const byName = new Map<string, string[]>();
  for (const [n, v] of pairs) byName.set(n, [...(byName.get(n) ?? []), v]);
  return [...byName.entries()].map(([n, vs]) => `${n}=${JSON.stringify(vs)}`).sort();
}

function metadataPairs(meta: Metadata[]): Array<[string, string]> {
  return meta.map((m) => [m.key, m.val]);
}

async function send(env: TunnelEnv, req: TunnelRequest): Promise<TunnelResponse> {
  const conn = env.edge.route(req.host);
  assert.ok(conn, 'a registered connection');
  const res = await conn.send(req);
  if (res.ok) {
    (res.stream as Readable).resume();
    if (req.type === 'websocket') res.stream.destroy();
  }
  return res;
}

async function serviceFor(scenario: string, status: number, headers: Array<[string, string]>, body: Buffer) {
  if (scenario === 'status-418') return { service: 'http_status:418', close: async () => undefined };
  if (scenario === 'origin-down-502') return { service: 'http://127.0.0.1:9', close: async () => undefined };
  const origin = await replayOrigin(status, headers, body);
  return { service: origin.url, close: origin.close };
}

describe('quic: ConnectResponse conformance with cloudflared 2023.7.3', () => {
  let env: TunnelEnv;
  let version = 0;
  before(async () => (env = await startTunnelEnv({ protocol: 'quic' })));
  after(() => env.close());

  for (const scenario of HTTP_SCENARIOS) {
    test(scenario, async () => {
      const dir = `vectors/quic/${scenario}`;
      const request = decodeConnectRequest(readFileSync(fixturePath(`${dir}/data-e2c.0.bin`)));
      const recorded = decodeConnectResponse(readFileSync(fixturePath(`${dir}/data-c2e.0.bin`)));
      const recordedPairs = metadataPairs(recorded.metadata);
      const status = Number(recordedPairs.find(([k]) => k === 'HttpStatus')?.[1] ?? '0');
      const originHeaders = recordedPairs
        .filter(([k]) => k.startsWith('HttpHeader:'))
        .map(([k, v]) => [k.slice(11), v] as [string, string]);
      const svc = await serviceFor(scenario, status, originHeaders, readOptional(`${dir}/data-c2e.body.bin`));
      try {
        const [answer] = await env.edge.pushConfig(++version, { ingress: [{ service: svc.service }] });
        assert.equal(answer?.err, null);
        const meta = metadataPairs(request.metadata);
        const host = meta.find(([k]) => k === 'HttpHost')![1];
        const reqBody = readOptional(`${dir}/data-e2c.body.bin`);
        const res = await send(env, {
          type: request.type,
          method: meta.find(([k]) => k === 'HttpMethod')![1],
          host,
          path: new URL(request.dest).pathname + new URL(request.dest).search,
          headers: meta
            .filter(([k]) => k.startsWith('HttpHeader:') && k !== 'HttpHeader:Cf-Cloudflared-Proxy-Connection-Upgrade')
            .map(([k, v]) => [k.slice(11), v]),
          body: request.type === 'websocket' ? new PassThrough() : reqBody.length > 0 ? Readable.from([reqBody]) : null,
          visitorAddress: '127.0.0.1:1',
        });
        assert.equal(res.wire.protocol, 'quic');
        const ours = res.wire.protocol === 'quic' ? res.wire.connectResponse : undefined;
        assert.ok(ours);
        if (scenario === 'origin-down-502') {
          assert.equal(
            ours.error.replace(/127\.0\.0\.1:\d+/, 'ADDR'),
            recorded.error.replace(/127\.0\.0\.1:\d+/, 'ADDR'),
          );
          assert.deepEqual(ours.metadata, []);
          return;
        }
        assert.equal(ours.error, recorded.error);
        assert.deepEqual(ours.metadata[0], recorded.metadata[0], 'HttpStatus comes first');
        assert.deepEqual(sortedPairs(metadataPairs(ours.metadata)), sortedPairs(recordedPairs));
      } finally {
        await svc.close();
      }
    });
  }
});

interface HeaderBlock {
  fields: Array<[string, string]>;
  decoded?: { 'cf-cloudflared-response-headers'?: Array<[string, string]> };
}

describe('http2: response header conformance with cloudflared 2023.7.3', () => {
  let env: TunnelEnv;
  let version = 0;
  before(async () => (env = await startTunnelEnv({ protocol: 'http2' })));
  after(() => env.close());

  for (const scenario of HTTP_SCENARIOS) {
    test(scenario, async () => {
      const dir = `vectors/http2/${scenario}`;
      const kind = scenario === 'websocket' ? 'websocket' : 'http';
      const requestBlock = (
        JSON.parse(readFileSync(fixturePath(`${dir}/${kind}-e2c.headers.json`), 'utf8')) as {
          header_blocks: HeaderBlock[];
        }
      ).header_blocks[0]!;
      const recordedBlock = (
        JSON.parse(readFileSync(fixturePath(`${dir}/${kind}-c2e.headers.json`), 'utf8')) as {
          header_blocks: HeaderBlock[];
        }
      ).header_blocks[0]!;
      const field = (block: HeaderBlock, name: string) => block.fields.find(([n]) => n === name)?.[1];
      const recordedOriginHeaders = recordedBlock.decoded?.['cf-cloudflared-response-headers'] ?? [];
      const status = Number(field(recordedBlock, ':status'));
      const svc = await serviceFor(
        scenario,
        scenario === 'websocket' ? 101 : status,
        recordedOriginHeaders,
        readOptional(`${dir}/${kind}-c2e.body.bin`),
      );
      try {
        const [answer] = await env.edge.pushConfig(++version, { ingress: [{ service: svc.service }] });
        assert.equal(answer?.err, null);
        const reqBody = readOptional(`${dir}/${kind}-e2c.body.bin`);
        const res = await send(env, {
          type: kind,
          method: field(requestBlock, ':method')!,
          host: field(requestBlock, ':authority')!,
          path: field(requestBlock, ':path')!,
          headers: requestBlock.fields.filter(
            ([n]) => !n.startsWith(':') && n !== 'cf-cloudflared-proxy-connection-upgrade',
          ),
          body: kind === 'websocket' ? new PassThrough() : reqBody.length > 0 ? Readable.from([reqBody]) : null,
          visitorAddress: '127.0.0.1:1',
        });
        assert.equal(res.wire.protocol, 'http2');
        const ours = res.wire.protocol === 'http2' ? res.wire.headers : [];
        const get = (name: string) => ours.find(([n]) => n === name)?.[1];
        assert.equal(get(':status'), field(recordedBlock, ':status'));
        assert.equal(get('cf-cloudflared-response-meta'), field(recordedBlock, 'cf-cloudflared-response-meta'));
        assert.equal(get('content-length'), field(recordedBlock, 'content-length'));
        const recordedSerialized = field(recordedBlock, 'cf-cloudflared-response-headers');
        if (recordedSerialized === undefined) {
          assert.equal(get('cf-cloudflared-response-headers'), undefined);
        } else {
          assert.deepEqual(
            sortedPairs(decodeSerializedHeaders(get('cf-cloudflared-response-headers') ?? '')),
            sortedPairs(decodeSerializedHeaders(recordedSerialized)),
          );
        }
      } finally {
        await svc.close();
      }
    });
  }
});
