/**
 * Benchmark child: a minimal `node:http` origin. `small` answers every request with the same short body (the
 * request rate limit of this machine); `large` serves sized downloads, swallows uploads and echoes WebSocket
 * messages.
 */
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { serveChild } from './child.js';
import { DOWNLOAD_PATHNAME, SMALL_BODY } from '../harness/routes.js';

/** Config the driver sends. */
export interface OriginChildConfig {
  kind: 'small' | 'large';
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

function serveDownload(res: http.ServerResponse, size: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
  let left = size;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

function largeHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://origin');
  if (req.method === 'GET' && url.pathname === DOWNLOAD_PATHNAME) {
    serveDownload(res, Number(url.searchParams.get('n') ?? '0'));
    return;
  }
  let bytes = 0;
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.once('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes })));
}

function smallHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(SMALL_BODY.length) }).end(SMALL_BODY);
}

serveChild<OriginChildConfig, { url: string }>(async ({ kind }) => {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, kind === 'small' ? smallHandler : largeHandler);
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    info: { url: `http://127.0.0.1:${port}` },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
});
