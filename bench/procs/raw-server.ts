/**
 * Benchmark child: the transport baselines with nothing of ours on top — a `node:tls` server and a `node:http2`
 * over TLS server, on the local edge's test certificate.
 */
import http2 from 'node:http2';
import tls from 'node:tls';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { generateEdgeCertificates } from '../../src/local-edge/index.js';
import { DOWNLOAD_PATHNAME, SMALL_BODY } from '../harness/routes.js';
import { RAW_TLS_HEADER_BYTES, RawTlsOp } from '../harness/raw-tls.js';
import { writeFiller } from '../harness/filler.js';
import { serveChild } from './child.js';

/** What the raw server child reports. */
export interface RawServerInfo {
  tlsPort: number;
  h2Port: number;
  caPem: string;
}

function onTlsSocket(socket: tls.TLSSocket): void {
  socket.on('error', () => undefined);
  let header = Buffer.alloc(0);
  let uploadLeft = -1;
  socket.on('data', (chunk: Buffer) => {
    if (uploadLeft >= 0) {
      uploadLeft -= chunk.length;
      if (uploadLeft <= 0) socket.end(Buffer.from([1]));
      return;
    }
    header = Buffer.concat([header, chunk]);
    if (header.length < RAW_TLS_HEADER_BYTES) return;
    const op = header[0];
    const n = Number(header.readBigUInt64BE(1));
    const rest = header.length - RAW_TLS_HEADER_BYTES;
    if (op === RawTlsOp.Download) writeFiller(socket, n);
    else {
      uploadLeft = n - rest;
      if (uploadLeft <= 0) socket.end(Buffer.from([1]));
    }
  });
}

function onH2Stream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  stream.on('error', () => undefined);
  const url = new URL(headers[':path'] ?? '/', 'https://raw');
  if (headers[':method'] === 'GET' && url.pathname === DOWNLOAD_PATHNAME) {
    const n = Number(url.searchParams.get('n') ?? '0');
    stream.respond({ ':status': 200, 'content-length': String(n) });
    writeFiller(stream, n);
    return;
  }
  if (headers[':method'] === 'GET') {
    stream.resume();
    stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': String(SMALL_BODY.length) });
    stream.end(SMALL_BODY);
    return;
  }
  let bytes = 0;
  stream.on('data', (c: Buffer) => (bytes += c.length));
  stream.once('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify({ bytes }));
  });
}

serveChild<Record<string, never>, RawServerInfo>(async () => {
  const certs = await generateEdgeCertificates();
  const tlsServer = tls.createServer({ cert: certs.certPem, key: certs.keyPem }, onTlsSocket);
  const h2Server = http2.createSecureServer({ cert: certs.certPem, key: certs.keyPem });
  h2Server.on('stream', onH2Stream);
  // Clients normally close first; these make stop() finish even after a failed run.
  const open = new Set<{ destroy(): void }>();
  const track = (s: { destroy(): void; once(e: 'close', f: () => void): unknown }): void => {
    open.add(s);
    s.once('close', () => open.delete(s));
  };
  tlsServer.on('secureConnection', track);
  h2Server.on('session', track);
  tlsServer.listen(0, '127.0.0.1');
  h2Server.listen(0, '127.0.0.1');
  await Promise.all([once(tlsServer, 'listening'), once(h2Server, 'listening')]);
  return {
    info: {
      tlsPort: (tlsServer.address() as AddressInfo).port,
      h2Port: (h2Server.address() as AddressInfo).port,
      caPem: certs.caPem,
    },
    stop: async () => {
      for (const s of open) s.destroy();
      await Promise.all([
        new Promise<void>((resolve) => tlsServer.close(() => resolve())),
        new Promise<void>((resolve) => h2Server.close(() => resolve())),
      ]);
    },
  };
});
