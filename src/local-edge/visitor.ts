/**
 * The local edge's visitor listener: plain HTTP/1.1 in, routed by Host to a registered tunnel connection. Adds the
 * headers an edge adds (the reference edge's set: Cf-Ray, Cf-Connecting-Ip, Cf-Visitor, X-Forwarded-For,
 * X-Forwarded-Proto) and turns WebSocket upgrades into `websocket` tunnel requests.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { canonicalHeaderKey, HTTP_TOKEN as TOKEN } from '../util/headers.js';
import type { EdgeRouter } from './router.js';
import type { TunnelRequest, TunnelResponse } from './types.js';

/** The running visitor listener. */
export interface VisitorListener {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

/** Status the edge answers when no connector is registered for the host (Cloudflare's 530 / error 1033). */
export const NO_TUNNEL_STATUS = 530;
/** Status the edge answers when the connector reported an origin failure (Cloudflare's 502). */
export const CONNECTOR_ERROR_STATUS = 502;

/** Request headers a proxy never forwards (RFC 9110 §7.6.1); Content-Length/Transfer-Encoding are kept for §7.2. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'host']);

function edgeHeaders(edge: EdgeRouter, raw: string[], visitorIp: string, websocket: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    if (websocket && lower === 'sec-websocket-extensions') continue;
    out.push([canonicalHeaderKey(raw[i]!), raw[i + 1]!]);
  }
  out.push(
    ['Cf-Ray', edge.nextRay()],
    ['Cf-Connecting-Ip', visitorIp],
    ['Cf-Visitor', '{"scheme":"http"}'],
    ['X-Forwarded-For', visitorIp],
    ['X-Forwarded-Proto', 'http'],
  );
  return out;
}

function hasBody(req: http.IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && Number(len) > 0) || /chunked/i.test(req.headers['transfer-encoding'] ?? '');
}

// Header names a response may carry are RFC 9110 tokens (TOKEN); other names are dropped rather than crash the listener.
/** Value bytes a response may carry: anything but CR, LF and NUL (values are byte strings, one char per byte). */
const VALUE = /^[^\r\n\0]*$/;
const NON_LATIN1 = /[^\x00-\xff]/;

/**
 * Writes the connector's status and headers to the visitor. Values are byte strings, written byte for byte (a
 * 0xFF byte goes out as 0xFF); a value with a char above 0xFF (UTF-8 text from another source) goes out as UTF-8.
 * A header Node cannot write is dropped, and a status Node refuses answers 502 (returns false), instead of an uncaught
 * exception.
 */
function writeHead(res: http.ServerResponse, status: number, headers: Array<[string, string]>): boolean {
  const flat: string[] = [];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === 'connection' || lower === 'keep-alive' || lower === 'transfer-encoding') continue;
    const bytes = NON_LATIN1.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
    if (!TOKEN.test(name) || !VALUE.test(bytes)) continue;
    flat.push(name, bytes);
  }
  try {
    res.writeHead(status, flat);
    return true;
  } catch (err) {
    res
      .writeHead(CONNECTOR_ERROR_STATUS, { 'content-type': 'text/plain' })
      .end(`cftunnel local edge: ${(err as Error).message}\n`);
    return false;
  }
}

type ForwardResult = TunnelResponse | { ok: false; error: string };

async function forward(edge: EdgeRouter, treq: TunnelRequest): Promise<ForwardResult | undefined> {
  const conn = edge.route(treq.host);
  if (conn === undefined) return undefined;
  try {
    return await conn.send(treq);
  } catch (err) {
    return { ok: false, error: `tunnel stream failed: ${(err as Error).message}` };
  }
}

/** Starts the visitor HTTP listener. */
export async function startVisitorListener(
  edge: EdgeRouter,
  options: { host: string; port: number },
): Promise<VisitorListener> {
  const sockets = new Set<Socket>();
  const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    // The visitor leaving before the response cancels its tunnel stream (and so the origin request).
    const left = new AbortController();
    const onClose = (): void => left.abort();
    res.once('close', onClose);
    void (async () => {
      const visitorIp = req.socket.remoteAddress ?? '127.0.0.1';
      const treq: TunnelRequest = {
        type: 'http',
        method: req.method ?? 'GET',
        host: req.headers.host ?? '',
        path: req.url ?? '/',
        headers: edgeHeaders(edge, req.rawHeaders, visitorIp, false),
        body: hasBody(req) ? req : null,
        visitorAddress: `${visitorIp}:${req.socket.remotePort}`,
        signal: left.signal,
      };
      const tres = await forward(edge, treq);
      res.off('close', onClose);
      if (tres === undefined) {
        res
          .writeHead(NO_TUNNEL_STATUS, { 'content-type': 'text/plain' })
          .end('cftunnel local edge: no tunnel connection for this host\n');
        return;
      }
      if (!tres.ok) {
        res
          .writeHead(CONNECTOR_ERROR_STATUS, { 'content-type': 'text/plain' })
          .end(`cftunnel local edge: ${tres.error}\n`);
        return;
      }
      const body = tres.stream as Readable;
      if (res.destroyed) {
        body.destroy();
        return;
      }
      if (!writeHead(res, tres.status, tres.headers)) {
        body.destroy();
        return;
      }
      // A stream that failed after delivering its end (its sending side stopped by the connector) left the response whole.
      body.on('error', () => {
        if (!body.readableEnded) res.destroy();
      });
      body.pipe(res);
      res.once('close', () => {
        if (!body.readableEnded) body.destroy();
      });
    })().catch(() => res.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    void (async () => {
      socket.on('error', () => undefined);
      if (head.length > 0) socket.unshift(head);
      const visitorIp = socket.remoteAddress ?? '127.0.0.1';
      const tres = await forward(edge, {
        type: 'websocket',
        method: req.method ?? 'GET',
        host: req.headers.host ?? '',
        path: req.url ?? '/',
        headers: edgeHeaders(edge, req.rawHeaders, visitorIp, true),
        body: socket,
        visitorAddress: `${visitorIp}:${socket.remotePort}`,
      });
      if (tres === undefined || !tres.ok || tres.status !== 101) {
        const status = tres === undefined ? NO_TUNNEL_STATUS : tres.ok ? tres.status : CONNECTOR_ERROR_STATUS;
        socket.end(
          `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
        );
        if (tres?.ok) (tres.stream as Duplex).destroy();
        return;
      }
      let head101 = 'HTTP/1.1 101 Switching Protocols\r\n';
      for (const [name, value] of tres.headers) {
        const bytes = NON_LATIN1.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
        if (TOKEN.test(name) && VALUE.test(bytes)) head101 += `${name}: ${bytes}\r\n`;
      }
      socket.write(`${head101}\r\n`, 'latin1');
      const stream = tres.stream as Duplex;
      stream.pipe(socket);
      stream.once('error', () => socket.destroy());
      stream.once('close', () => socket.destroy());
      socket.once('close', () => stream.destroy());
    })().catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    address: { host: addr.address, port: addr.port },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
