/**
 * The local edge's quick-tunnel service (docs/protocol.md §20.5): `POST /tunnel` creates an account-less tunnel with
 * fresh credentials and a generated hostname, and tells the edge to accept it and route that hostname to it.
 */
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { parseUuid, TunnelSecret, type TunnelCredentials } from '../token/index.js';

/** Domain of generated hostnames unless told otherwise: never a real Cloudflare name. */
export const DEFAULT_QUICK_TUNNEL_DOMAIN = 'trycloudflare.localhost';
/** Secret length the real service hands out (a 32-byte tunnel secret, like `cloudflared tunnel create`). */
const SECRET_BYTES = 32;

/** Options of the quick-tunnel service. */
export interface QuickTunnelServiceOptions {
  /** Listen address; default 127.0.0.1, port 0. */
  host?: string;
  port?: number;
  /** Domain of generated hostnames; default {@link DEFAULT_QUICK_TUNNEL_DOMAIN}. */
  domain?: string;
}

/** A tunnel the service created. */
export interface QuickTunnelCreated {
  tunnelId: string;
  hostname: string;
  /** `User-Agent` of the request. */
  userAgent: string | undefined;
}

/** The running service. */
export interface QuickTunnelService {
  /** Base URL to give as `--quick-service` (`http://127.0.0.1:PORT`). */
  readonly url: string;
  close(): Promise<void>;
}

/** What the edge does with a created tunnel. */
export type AcceptQuickTunnel = (credentials: TunnelCredentials, created: QuickTunnelCreated) => void;

function sendJson(res: http.ServerResponse, status: number, doc: unknown): void {
  const body = JSON.stringify(doc);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Starts the service; each created tunnel is handed to `accept` before the answer is sent. */
export async function startQuickTunnelService(
  accept: AcceptQuickTunnel,
  options: QuickTunnelServiceOptions = {},
): Promise<QuickTunnelService> {
  const domain = options.domain ?? DEFAULT_QUICK_TUNNEL_DOMAIN;
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://service').pathname !== '/tunnel') {
      sendJson(res, 404, {
        success: false,
        result: null,
        errors: [{ code: 404, message: `no route for ${req.method} ${req.url}` }],
      });
      return;
    }
    const tunnelId = randomUUID();
    const name = `qt-${randomBytes(6).toString('hex')}`;
    const hostname = `${name}.${domain}`;
    const secret = randomBytes(SECRET_BYTES);
    const accountTag = randomBytes(16).toString('hex');
    accept(
      { accountTag, tunnelId, tunnelIdBytes: parseUuid(tunnelId)!, tunnelSecret: new TunnelSecret(secret) },
      { tunnelId, hostname, userAgent: req.headers['user-agent'] },
    );
    sendJson(res, 200, {
      success: true,
      result: { id: tunnelId, name, hostname, account_tag: accountTag, secret: secret.toString('base64') },
      errors: [],
      messages: [],
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
