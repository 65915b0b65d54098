/**
 * The origin zoo: origins not written in this project's style (Python's http.server in HTTP/1.0 and HTTP/1.1 modes,
 * raw-socket origins with unusual framing, nginx), and visitors that read or send fast or slowly, so that
 * backpressure runs end to end. Bytes are checked by SHA-256.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** A running origin. */
export interface ZooOrigin {
  url: string;
  close(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Reads stdout until `pattern` matches; returns its first group. */
async function readFromStdout(child: ChildProcess, pattern: RegExp): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      const m = pattern.exec(text);
      if (m !== null) {
        child.stdout!.off('data', onData);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`origin exited (${code}) before printing its port: ${text}`)));
    child.once('error', reject);
  });
}

/** `test/helpers/origins/zoo_origin.py` in `http10` (closes after each response) or `http11` (keep-alive) mode. */
export async function startPythonOrigin(mode: 'http10' | 'http11'): Promise<ZooOrigin> {
  const child = spawn('python3', [join(HERE, 'zoo_origin.py'), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await readFromStdout(child, /^(\d+)\n/);
  return { url: `http://127.0.0.1:${port}`, close: () => stopChild(child) };
}

/** `python3 -m http.server` serving `files` (name → bytes) from a temporary directory: HTTP/1.0, one response per connection. */
export async function startPythonHttpServerModule(files: Record<string, Buffer>): Promise<ZooOrigin> {
  const dir = await mkdtemp(join(tmpdir(), 'cftunnel-pyhttp-'));
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
  const child = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await readFromStdout(child, /port (\d+)/);
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Where nginx is, or why the nginx tests are skipped. */
export function nginxBinary(): { path: string } | { skip: string } {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']) if (existsSync(p)) return { path: p };
  return { skip: "nginx is not installed (.ci/run installs Debian's nginx when it can)" };
}

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as net.AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/**
 * nginx in the foreground on a loopback port with a generated configuration: static files from a temporary root,
 * and WebDAV `PUT` to store uploads (read back with GET to check them).
 */
export async function startNginx(binary: string, files: Record<string, Buffer>): Promise<ZooOrigin> {
  const dir = await mkdtemp(join(tmpdir(), 'cftunnel-nginx-'));
  const root = join(dir, 'root');
  await mkdir(root);
  for (const [name, data] of Object.entries(files)) await writeFile(join(root, name), data);
  const port = await freePort();
  const conf = `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    client_max_body_size 0;
    location / { dav_methods PUT; create_full_put_path on; }
  }
}
`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const child = spawn(binary, ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  // Ready once the port accepts connections (nginx prints nothing on success).
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Deterministic bytes (the same for the same size), generated once per size. */
const blobs = new Map<number, Buffer>();
export function blob(size: number): Buffer {
  let b = blobs.get(size);
  if (b === undefined) {
    b = randomBytes(size);
    blobs.set(size, b);
  }
  return b;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** What a visitor got: `failed` when the response was cut off or the request errored. */
export interface ZooResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  sha256: string;
  bytes: number;
  body: Buffer;
  trailers: Record<string, string | undefined>;
  failed?: string;
}

/** Options of {@link zooVisit}. */
export interface ZooVisitOptions {
  host: string;
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  /** Upload body; sent in 64 KiB pieces, waiting for `drain`, and in 4 KiB pieces with a turn of the loop between them when slow. */
  body?: Buffer;
  /** Send the body chunked (no Content-Length). */
  chunked?: boolean;
  /** Read the response 4 KiB at a time, one read per turn of the event loop, so the whole path applies backpressure. */
  slow?: boolean;
  keepBody?: boolean;
  /** Read nothing of the response body until this settles (a visitor that stalls, then reads); a function is called once the response headers arrived. */
  readAfter?: Promise<unknown> | (() => Promise<unknown>);
}

/** One visitor request to the local edge, with a fast or slow visitor. */
export function zooVisit(edgeUrl: string, path: string, o: ZooVisitOptions): Promise<ZooResult> {
  const url = new URL(edgeUrl);
  return new Promise((resolve) => {
    const headers: http.OutgoingHttpHeaders = { host: o.host, ...o.headers };
    if (o.body !== undefined) {
      if (o.chunked) headers['transfer-encoding'] = 'chunked';
      else headers['content-length'] = o.body.length;
    }
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: o.method ?? (o.body ? 'PUT' : 'GET'),
      path,
      headers,
      agent: false,
      maxHeaderSize: 1 << 20,
    });
    const fail = (why: string, extra: Partial<ZooResult> = {}): void =>
      resolve({
        status: 0,
        headers: {},
        rawHeaders: [],
        sha256: '',
        bytes: 0,
        body: Buffer.alloc(0),
        trailers: {},
        ...extra,
        failed: why,
      });
    req.once('error', (err) => fail(`request error: ${err.message}`));
    req.once('response', (res) => {
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      let bytes = 0;
      const take = (c: Buffer): void => {
        bytes += c.length;
        hash.update(c);
        if (o.keepBody) chunks.push(c);
      };
      const base = (): Omit<ZooResult, 'sha256' | 'failed'> => ({
        status: res.statusCode ?? 0,
        headers: res.headers,
        rawHeaders: res.rawHeaders,
        bytes,
        body: Buffer.concat(chunks),
        trailers: res.trailers,
      });
      let done = false;
      res.once('error', (err) => {
        if (done) return;
        done = true;
        fail(`response error: ${err.message}`, base());
      });
      res.once('end', () => {
        if (done) return;
        done = true;
        if (!res.complete) fail('response incomplete', base());
        else resolve({ ...base(), sha256: hash.digest('hex') });
      });
      const pump = (): void => {
        if (done) return;
        const c = res.read(4096) as Buffer | null;
        if (c === null) {
          // read(4096) returns null for a final piece shorter than 4 KiB until the stream has ended.
          const rest = res.read() as Buffer | null;
          if (rest !== null) take(rest);
          res.once('readable', pump);
          return;
        }
        take(c);
        setImmediate(pump);
      };
      const startReading = (): void => {
        if (o.slow) res.once('readable', pump);
        else res.on('data', take);
      };
      if (o.readAfter === undefined) startReading();
      else void (typeof o.readAfter === 'function' ? o.readAfter() : o.readAfter).then(startReading);
    });
    const body = o.body;
    if (body === undefined) {
      req.end();
      return;
    }
    const piece = o.slow ? 4096 : 65536;
    let at = 0;
    const write = (): void => {
      while (at < body.length) {
        const part = body.subarray(at, at + piece);
        at += part.length;
        if (!req.write(part)) {
          req.once('drain', write);
          return;
        }
        if (o.slow) {
          setImmediate(write);
          return;
        }
      }
      req.end();
    };
    write();
  });
}
