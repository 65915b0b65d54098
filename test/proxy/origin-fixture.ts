/** Loopback origins for the proxy tests: an echo/route HTTP server with a `ws` echo endpoint. */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { WebSocketServer } from 'ws';

/** What the origin saw for one request. */
export interface SeenRequest {
  method: string;
  url: string;
  rawHeaders: Array<[string, string]>;
  bodyBytes: number;
  bodySha256: string;
  remotePort: number;
}

/** Deterministic pseudo-random bytes, generated lazily in chunks. */
export function patternStream(total: number, chunk = 64 * 1024): Readable {
  let sent = 0;
  let x = 0x12345678;
  return new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const n = Math.min(chunk, total - sent);
      const buf = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) {
        x = (x * 1664525 + 1013904223) >>> 0;
        buf[i] = x >>> 24;
      }
      sent += n;
      this.push(buf);
    },
  });
}

export async function sha256Of(stream: Readable): Promise<{ bytes: number; hex: string }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of stream) {
    h.update(c as Buffer);
    bytes += (c as Buffer).length;
  }
  return { bytes, hex: h.digest('hex') };
}

function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/** An HTTP origin with a few routes; `seen` collects every request it answered. */
export class TestOrigin {
  readonly server: http.Server;
  readonly wss: WebSocketServer;
  readonly seen: SeenRequest[] = [];
  /** Resolves each time a request reaches `/hang`. */
  hangReached: Promise<http.IncomingMessage>;
  private hangResolve!: (req: http.IncomingMessage) => void;

  constructor() {
    this.hangReached = new Promise((r) => (this.hangResolve = r));
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.wss = new WebSocketServer({ server: this.server });
    this.wss.on('connection', (ws, req) => {
      this.seen.push({
        method: req.method!,
        url: req.url!,
        rawHeaders: pairs(req.rawHeaders),
        bodyBytes: 0,
        bodySha256: '',
        remotePort: req.socket.remotePort!,
      });
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  }

  async listen(path?: string): Promise<this> {
    if (path) this.server.listen(path);
    else this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/hang') {
      this.hangResolve(req);
      this.hangReached = new Promise((r) => (this.hangResolve = r));
      return;
    }
    if (url.pathname === '/drop') {
      req.socket.destroy();
      return;
    }
    if (url.pathname === '/download') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      patternStream(Number(url.searchParams.get('n'))).pipe(res);
      return;
    }
    const { bytes, hex } = await sha256Of(req);
    this.seen.push({
      method: req.method!,
      url: req.url!,
      rawHeaders: pairs(req.rawHeaders),
      bodyBytes: bytes,
      bodySha256: hex,
      remotePort: req.socket.remotePort!,
    });
    if (url.pathname.startsWith('/status/')) {
      res.writeHead(Number(url.pathname.slice(8)), { 'content-type': 'text/plain' });
      res.end(`status ${url.pathname.slice(8)}\n`);
      return;
    }
    if (url.pathname === '/cookies') {
      res.writeHead(
        200,
        [
          ['set-cookie', 'a=1'],
          ['x-lower-name', 'v'],
          ['Set-Cookie', 'b=2'],
          ['content-length', '2'],
        ].flat(),
      );
      res.end('ok');
      return;
    }
    if (url.pathname === '/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part1-');
      res.end('part2');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ bytes, hex }));
  }
}
