/**
 * One origin with the routes the end-to-end tests need (echo, status codes, cookies, large bodies, WebSocket echo),
 * on a real `http.Server` on loopback.
 */
import type http from 'node:http';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { WebSocketServer } from 'ws';
import { startOrigin } from './tunnel-env.js';

/** Deterministic pseudo-random bytes (xorshift), so both ends can hash a large body without storing it. */
export function patternStream(size: number, seed = 1): Readable {
  let state = seed >>> 0 || 1;
  let left = size;
  return new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const n = Math.min(left, 64 * 1024);
      const buf = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        buf[i] = state & 0xff;
      }
      left -= n;
      this.push(buf);
    },
  });
}

/** SHA-256 of {@link patternStream}(size, seed). */
export async function patternSha256(size: number, seed = 1): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of patternStream(size, seed)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** What the echo route reports about the request it received. */
export interface EchoReport {
  method: string;
  url: string;
  rawHeaders: string[];
  bodyLength: number;
  bodySha256: string;
}

/** Starts the test origin; the WebSocket server echoes every message prefixed with `echo:`. */
export async function startTestOrigin(): Promise<{ url: string; server: http.Server; close(): Promise<void> }> {
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary }));
  });
  const origin = await startOrigin((req, res) => {
    const url = new URL(req.url ?? '/', 'http://origin');
    switch (url.pathname) {
      case '/missing':
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
        return;
      case '/teapot':
        res.writeHead(418, { 'content-type': 'text/plain' }).end("I'm a teapot");
        return;
      case '/cookies':
        res.setHeader('Set-Cookie', ['a=1', 'b=2']);
        res.end('cookies');
        return;
      case '/download': {
        const size = Number(url.searchParams.get('size') ?? '0');
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
        patternStream(size, Number(url.searchParams.get('seed') ?? '1')).pipe(res);
        return;
      }
      default: {
        const hash = createHash('sha256');
        let length = 0;
        req.on('data', (c: Buffer) => {
          length += c.length;
          hash.update(c);
        });
        req.once('end', () => {
          const report: EchoReport = {
            method: req.method ?? '',
            url: req.url ?? '',
            rawHeaders: req.rawHeaders,
            bodyLength: length,
            bodySha256: hash.digest('hex'),
          };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(report));
        });
      }
    }
  });
  origin.server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)),
  );
  return {
    url: origin.url,
    server: origin.server,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await origin.close();
    },
  };
}
