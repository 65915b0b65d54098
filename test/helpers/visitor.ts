/** A visitor: plain HTTP/1.1 requests to the local edge's visitor port, with full control of Host and headers. */
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

/** What the visitor got back. */
export interface VisitResult {
  status: number;
  /** Raw header pairs in order (lower-case names). */
  headers: Array<[string, string]>;
  body: Buffer;
}

/** Options of {@link visit}. */
export interface VisitOptions {
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string | Readable;
  /** Hash the body instead of buffering it (large downloads); `body` is then empty and `sha256` set. */
  hashBody?: boolean;
}

/** Sends one request to `baseUrl` (the edge's visitor URL). */
export function visit(
  baseUrl: string,
  options: VisitOptions = {},
): Promise<VisitResult & { sha256?: string; bytes: number }> {
  const url = new URL(options.path ?? '/', baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? 'GET',
        path: url.pathname + url.search,
        headers: { host: options.host ?? 'app.test', ...options.headers },
        agent: false,
      },
      (res) => {
        const headers: Array<[string, string]> = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          headers.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
        const hash = options.hashBody ? createHash('sha256') : undefined;
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (hash) hash.update(c);
          else chunks.push(c);
        });
        res.once('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers,
            body: Buffer.concat(chunks),
            bytes,
            sha256: hash?.digest('hex'),
          }),
        );
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    const body = options.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

/** Values of header `name` (lower-case) in order. */
export function headerValues(res: VisitResult, name: string): string[] {
  return res.headers.filter(([n]) => n === name).map(([, v]) => v);
}
