/** Stand-ins for a quick-tunnel service on loopback: one that answers as told, and a port nothing listens on. */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { once } from 'node:events';

/** A request the stub received. */
export interface StubRequest {
  method: string | undefined;
  url: string | undefined;
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
}

/** Starts an HTTP server on 127.0.0.1 answering every request with `answer` (closed after the test). */
export async function stubService(
  t: { after(fn: () => unknown): void },
  answer: (res: http.ServerResponse) => void,
): Promise<{ url: string; seen: StubRequest[]; firstRequest: Promise<StubRequest> }> {
  const seen: StubRequest[] = [];
  let first!: (r: StubRequest) => void;
  const firstRequest = new Promise<StubRequest>((resolve) => (first = resolve));
  const server = http.createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (c: Buffer) => (bodyBytes += c.length));
    req.once('end', () => {
      const request = { method: req.method, url: req.url, headers: req.headers, bodyBytes };
      seen.push(request);
      first(request);
      answer(res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, firstRequest };
}

/** A loopback port that was free a moment ago: connections to it are refused. */
export function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
