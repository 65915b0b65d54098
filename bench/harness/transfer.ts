/**
 * One big body through one stream, timed: HTTP/1.1 download/upload (through the tunnel or straight at the origin),
 * and the raw `node:tls` and `node:http2` baselines of the same transfer.
 */
import http from 'node:http';
import type http2 from 'node:http2';
import tls from 'node:tls';
import { once } from 'node:events';
import { BenchError } from './errors.js';
import { writeFiller } from './filler.js';
import { H2_SERVER_NAME } from './h2-load.js';
import { RawTlsOp, rawTlsHeader } from './raw-tls.js';
import { UPLOAD_PATH, downloadPath } from './routes.js';

/** A timed transfer. */
export interface TransferFigures {
  bytes: number;
  seconds: number;
  /** Megabytes (10^6 bytes) per second. */
  mbPerSec: number;
}

function figures(bytes: number, startNs: bigint): TransferFigures {
  const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
  return { bytes, seconds, mbPerSec: bytes / 1e6 / seconds };
}

/** Counts the bytes of a readable until it ends. */
async function drain(source: NodeJS.ReadableStream): Promise<number> {
  let n = 0;
  for await (const chunk of source) n += (chunk as Buffer).length;
  return n;
}

function expectBytes(what: string, got: number, want: number): void {
  if (got !== want) throw new BenchError(`${what}: got ${got} of ${want} bytes`);
}

/** Answer of the upload route, checked. */
function checkUploadAnswer(what: string, text: string, bytes: number): void {
  const answered = (JSON.parse(text) as { bytes?: number }).bytes ?? -1;
  expectBytes(what, answered, bytes);
}

/** GETs `bytes` from `baseUrl` (the tunnel's visitor URL or the origin's). */
export async function httpDownload(baseUrl: string, bytes: number): Promise<TransferFigures> {
  const start = process.hrtime.bigint();
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get(`${baseUrl}${downloadPath(bytes)}`, { agent: false }, resolve).on('error', reject);
  });
  if (res.statusCode !== 200) throw new BenchError(`download answered ${res.statusCode}`);
  expectBytes('download', await drain(res), bytes);
  return figures(bytes, start);
}

/** POSTs `bytes` to `baseUrl` with a Content-Length. */
export async function httpUpload(baseUrl: string, bytes: number): Promise<TransferFigures> {
  const start = process.hrtime.bigint();
  const req = http.request(`${baseUrl}${UPLOAD_PATH}`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes) },
  });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  writeFiller(req, bytes);
  const res = await response;
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  if (res.statusCode !== 200) throw new BenchError(`upload answered ${res.statusCode}`);
  checkUploadAnswer('upload', Buffer.concat(chunks).toString(), bytes);
  return figures(bytes, start);
}

/** Raw TLS: `bytes` from (download) or to (upload) the raw server's TLS port. */
export async function tlsTransfer(port: number, caPem: string, op: RawTlsOp, bytes: number): Promise<TransferFigures> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca: caPem, servername: H2_SERVER_NAME });
  await once(socket, 'secureConnect');
  const start = process.hrtime.bigint();
  socket.write(rawTlsHeader(op, bytes));
  if (op === RawTlsOp.Download) expectBytes('tls download', await drain(socket), bytes);
  else {
    const ack = drain(socket);
    writeFiller(socket, bytes);
    expectBytes('tls upload ack', await ack, 1);
  }
  const out = figures(bytes, start);
  socket.destroy();
  return out;
}

/** Raw HTTP/2 over TLS: one stream downloading or uploading `bytes`. */
export async function h2Transfer(
  session: http2.ClientHttp2Session,
  direction: 'download' | 'upload',
  bytes: number,
): Promise<TransferFigures> {
  const start = process.hrtime.bigint();
  if (direction === 'download') {
    const req = session.request({ ':method': 'GET', ':path': downloadPath(bytes) });
    expectBytes('h2 download', await drain(req), bytes);
  } else {
    const req = session.request({ ':method': 'POST', ':path': UPLOAD_PATH });
    const answer = (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString();
    })();
    writeFiller(req, bytes);
    checkUploadAnswer('h2 upload', await answer, bytes);
  }
  return figures(bytes, start);
}
