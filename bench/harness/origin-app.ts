/**
 * The bench origin's app, shared by the origin process (listening on a port) and the connector process (served
 * in-process by cftunnel, no port). `small` answers every request with the same short body (the request rate limit of
 * this machine); `large` serves sized downloads, swallows uploads and echoes WebSocket messages.
 */
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { writeFiller } from './filler.js';
import { DOWNLOAD_PATHNAME, SMALL_BODY } from './routes.js';

/** Which app. */
export type OriginAppKind = 'small' | 'large';

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

/** An `http.Server` (not listening) with the app and a WebSocket echo. */
export function createOriginApp(kind: OriginAppKind): { server: http.Server; wss: WebSocketServer } {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, kind === 'small' ? smallHandler : largeHandler);
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  return { server, wss };
}
