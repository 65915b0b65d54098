/**
 * In-process origins (no listening port): Express, Fastify and Hono apps served through the tunnel, with streaming
 * bodies, a WebSocket through `ws` attached to an in-process http.Server, and 50 MB integrity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { WebSocket, WebSocketServer } from 'ws';
import { startTunnelEnv } from '../helpers/tunnel-env.js';
import { patternSha256, patternStream } from '../helpers/test-origin.js';
import { visit } from '../helpers/visitor.js';

const MB = 1024 * 1024;

function sha256Of(req: http.IncomingMessage): Promise<{ sha: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
    });
    req.once('end', () => resolve({ sha: hash.digest('hex'), bytes }));
    req.once('error', reject);
  });
}

for (const protocol of ['quic', 'http2'] as const) {
  test(`${protocol}: an Express app served in-process: GET, 50 MB POST and download, WebSocket via ws`, async () => {
    const app = express();
    app.get('/hello/:name', (req, res) => res.json({ hello: req.params.name, host: req.headers.host }));
    app.post('/upload', async (req, res) => res.json(await sha256Of(req)));
    app.get('/download', (_req, res) => {
      res.setHeader('content-length', String(50 * MB));
      patternStream(50 * MB, 3).pipe(res);
    });
    const server = http.createServer(app);
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m.toString()}`)));

    const env = await startTunnelEnv({ protocol, tunnel: { origin: server } });
    try {
      const hello = await visit(env.edge.visitorUrl, { path: '/hello/tunnel', host: 'app.test' });
      assert.deepEqual(JSON.parse(hello.body.toString()), { hello: 'tunnel', host: 'app.test' });

      const up = await visit(env.edge.visitorUrl, {
        method: 'POST',
        path: '/upload',
        body: patternStream(50 * MB, 4),
        headers: { 'content-length': String(50 * MB) },
      });
      assert.deepEqual(JSON.parse(up.body.toString()), { sha: await patternSha256(50 * MB, 4), bytes: 50 * MB });

      const down = await visit(env.edge.visitorUrl, { path: '/download', hashBody: true });
      assert.equal(down.sha256, await patternSha256(50 * MB, 3));

      const ws = new WebSocket(`${env.edge.visitorUrl.replace('http', 'ws')}/ws`);
      await once(ws, 'open');
      const reply = once(ws, 'message');
      ws.send('hi');
      assert.equal(String((await reply)[0]), 'echo:hi');
      ws.close();
      await once(ws, 'close');
      assert.equal(server.address(), null, 'the app never listened on a port');
    } finally {
      await env.close();
      wss.close();
    }
  });
}

test('a Fastify app (its server) served in-process', async () => {
  const app = Fastify();
  app.get('/items/:id', async (req) => ({ id: (req.params as { id: string }).id }));
  app.post('/items', async (req) => ({ received: req.body }));
  await app.ready();
  const env = await startTunnelEnv({ protocol: 'http2', tunnel: { origin: app.server } });
  try {
    const get = await visit(env.edge.visitorUrl, { path: '/items/42' });
    assert.deepEqual(JSON.parse(get.body.toString()), { id: '42' });
    const post = await visit(env.edge.visitorUrl, {
      method: 'POST',
      path: '/items',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual(JSON.parse(post.body.toString()), { received: { a: 1 } });
    assert.equal(app.server.address(), null);
  } finally {
    await env.close();
    await app.close();
  }
});

test('a Hono app (fetch handler) served in-process, streaming a request body and a response body', async () => {
  const app = new Hono();
  app.get('/stream', () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode(`part${i};`));
        controller.close();
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/plain', 'set-cookie': 'a=1' } });
  });
  app.post('/len', async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength, host: c.req.header('host') }));
  const env = await startTunnelEnv({ protocol: 'quic', tunnel: { origin: app } });
  try {
    const res = await visit(env.edge.visitorUrl, { path: '/stream', host: 'hono.test' });
    assert.equal(res.body.toString(), 'part0;part1;part2;part3;part4;');
    assert.deepEqual(
      res.headers.filter(([n]) => n === 'set-cookie').map(([, v]) => v),
      ['a=1'],
    );
    const len = await visit(env.edge.visitorUrl, {
      method: 'POST',
      path: '/len',
      body: patternStream(MB, 1),
      headers: { 'content-length': String(MB) },
    });
    assert.deepEqual(JSON.parse(len.body.toString()), { bytes: MB, host: 'app.test' });
  } finally {
    await env.close();
  }
});

test('per-hostname ingress mixes a URL origin and in-process apps; remote services map to in-process apps', async () => {
  const urlOrigin = http.createServer((_req, res) => res.end('from-url'));
  urlOrigin.listen(0, '127.0.0.1');
  await once(urlOrigin, 'listening');
  const port = (urlOrigin.address() as { port: number }).port;
  const api = new Hono().get('*', (c) => c.text('from-hono'));
  const site = express().use((_req, res) => void res.send('from-express'));
  const env = await startTunnelEnv({
    protocol: 'http2',
    tunnel: {
      ingress: [
        { hostname: 'api.example.test', service: api },
        { hostname: '*.site.test', service: site },
        { service: `http://127.0.0.1:${port}` },
      ],
      services: { 'http://localhost:3000': api },
    },
  });
  try {
    assert.equal((await visit(env.edge.visitorUrl, { host: 'api.example.test' })).body.toString(), 'from-hono');
    assert.equal((await visit(env.edge.visitorUrl, { host: 'www.site.test' })).body.toString(), 'from-express');
    assert.equal((await visit(env.edge.visitorUrl, { host: 'other.test' })).body.toString(), 'from-url');
    // The dashboard's configuration replaces local ingress; its service string is mapped to the Hono app.
    await env.edge.pushConfig(1, { ingress: [{ service: 'http://localhost:3000' }] });
    assert.equal((await visit(env.edge.visitorUrl, { host: 'other.test' })).body.toString(), 'from-hono');
  } finally {
    await env.close();
    urlOrigin.close();
  }
});

for (const protocol of ['quic', 'http2'] as const) {
  test(`${protocol}: a Node app in-process: streamed response without a length after a 103, chunked upload, HEAD, and a visitor leaving mid-response`, async () => {
    let leftReq: (() => void) | undefined;
    const resClosed = new Promise<void>((resolve) => (leftReq = resolve));
    const server = http.createServer((req, res) => {
      if (req.url === '/stream') {
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        res.setHeader('content-type', 'text/plain');
        for (let i = 0; i < 5; i++) res.write(`part${i};`);
        res.end('done');
      } else if (req.url === '/upload') {
        void sha256Of(req).then((r) => res.end(JSON.stringify({ ...r, te: req.headers['transfer-encoding'] ?? null })));
      } else if (req.url === '/head') {
        res.setHeader('x-kind', 'head');
        res.end(req.method === 'HEAD' ? undefined : 'body');
      } else if (req.url === '/endless') {
        res.on('close', () => leftReq?.());
        res.write('first;');
      }
    });
    const env = await startTunnelEnv({ protocol, tunnel: { origin: server } });
    try {
      const stream = await visit(env.edge.visitorUrl, { path: '/stream' });
      assert.equal(stream.status, 200);
      assert.equal(stream.body.toString(), 'part0;part1;part2;part3;part4;done');

      const up = await visit(env.edge.visitorUrl, { method: 'POST', path: '/upload', body: patternStream(3 * MB, 5) });
      assert.deepEqual(JSON.parse(up.body.toString()), {
        sha: await patternSha256(3 * MB, 5),
        bytes: 3 * MB,
        te: 'chunked',
      });

      const head = await visit(env.edge.visitorUrl, { method: 'HEAD', path: '/head' });
      assert.equal(head.status, 200);
      assert.deepEqual(
        head.headers.filter(([n]) => n === 'x-kind').map(([, v]) => v),
        ['head'],
      );
      assert.equal(head.body.length, 0);

      const url = new URL('/endless', env.edge.visitorUrl);
      const visitor = http.request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        headers: { host: 'app.test' },
        agent: false,
      });
      visitor.end();
      const [res] = (await once(visitor, 'response')) as [http.IncomingMessage];
      await once(res, 'data');
      visitor.destroy();
      await resClosed;
    } finally {
      await env.close();
    }
  });
}
