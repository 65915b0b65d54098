/**
 * Benchmark child: a minimal `node:http` origin. `small` answers every request with the same short body (the
 * request rate limit of this machine); `large` serves sized downloads, swallows uploads and echoes WebSocket
 * messages.
 */
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { writeFiller } from '../harness/filler.js';
import { serveChild } from './child.js';
import { DOWNLOAD_PATHNAME, SMALL_BODY } from '../harness/routes.js';

/** Config the driver sends. */
export interface OriginChildConfig {
  kind: 'small' | 'large';
}

function largeHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://origin');
  if (req.method === 'GET' && url.pathname === DOWNLOAD_PATHNAME) {
    const size = Number(url.searchParams.get('n') ?? '0');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
    writeFiller(res, size);
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
