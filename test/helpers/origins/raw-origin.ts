/**
 * Raw-socket origins: HTTP/1.1 written by hand, so the framing is exactly what a test asks for. One request per
 * connection (every answer says `Connection: close` or ends the connection).
 *
 * GET /close?size=N      Content-Length body, `Connection: close`, then FIN.
 * GET /eof?size=N        no length: the body ends at FIN.
 * GET /chunked?size=N    chunked body with an `X-Checksum` trailer.
 * GET /continue?size=N   `100 Continue` and `103 Early Hints` before the final 200.
 * GET /fin-mid?size=N    Content-Length N, FIN after N/2 bytes.
 * GET /fin-mid-chunked?size=N   chunked, FIN after N/2 bytes without the last chunk.
 * GET /rst-mid?size=N    Content-Length N, TCP RST after N/2 bytes.
 * PUT /early-answer      answers 413 at once, without reading the upload, and closes.
 * GET /big-headers?kib=K K headers of 1 KiB each.
 * ANY /switch           `101 Switching Protocols` with `Upgrade: foo` and `Connection: Upgrade` whatever was asked,
 *                        then holds the connection open (emits `switched`) until the client ends it.
 * ANY /switch-bare      `101 Switching Protocols` with no Upgrade headers, then FIN.
 * GET /status/NNN        that status, body `status NNN` and an `X-Origin-Status: NNN` header.
 * GET /header-bytes      headers whose values carry 0xFF and UTF-8 bytes, and a Connection-nominated header.
 * PUT /upload?size=N     reads N bytes (Content-Length) slowly (a turn of the event loop between reads), answers the SHA-256.
 * anything else          echoes the request line as the body (`X-Request-Target` too).
 */
import { createHash } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import { blob, sha256, type ZooOrigin } from './index.js';

/** Request lines the origin received, in order. */
export interface RawOrigin extends ZooOrigin {
  readonly targets: string[];
  /** Emits `sent` (path) once a `/close` or `/eof` answer, FIN included, is handed to the kernel. */
  readonly events: EventEmitter;
}

function head(status: string, headers: Array<[string, string]>): Buffer {
  let text = `HTTP/1.1 ${status}\r\n`;
  for (const [n, v] of headers) text += `${n}: ${v}\r\n`;
  return Buffer.from(`${text}\r\n`, 'latin1');
}

function chunk(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
}

/** Writes `data` in 64 KiB pieces, honouring backpressure; resolves when all is handed to the socket. */
async function writeAll(socket: net.Socket, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; at += 65536) {
    if (socket.destroyed) return;
    if (!socket.write(data.subarray(at, at + 65536)))
      await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
  }
}

async function serve(socket: net.Socket, headText: string, rest: Buffer, events: EventEmitter): Promise<void> {
  const [requestLine, ...headerLines] = headText.split('\r\n');
  const [method, target] = requestLine!.split(' ') as [string, string];
  const url = new URL(target.startsWith('/') ? `http://x${target}` : 'http://x/');
  const size = Number(url.searchParams.get('size') ?? '0');
  const path = target.split('?')[0]!;
  const body = blob(size);
  const sum = sha256(body);
  if (method === 'PUT' && path === '/early-answer') {
    socket.end(
      head('413 Content Too Large', [
        ['Content-Length', '0'],
        ['Connection', 'close'],
      ]),
    );
    return;
  }
  if (method === 'PUT' && path === '/upload') {
    const length = Number(headerLines.find((l) => /^content-length:/i.test(l))?.split(':')[1] ?? '0');
    const hash = createHash('sha256');
    let got = 0;
    const take = (c: Buffer): void => {
      hash.update(c);
      got += c.length;
    };
    take(rest);
    // Slow reader: what is buffered, once per turn of the event loop; the kernel buffers fill meanwhile.
    while (got < length) {
      const c = socket.read() as Buffer | null;
      if (c !== null) {
        take(c);
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      if (socket.readableEnded || socket.destroyed) break;
      await Promise.race([once(socket, 'readable'), once(socket, 'close')]);
    }
    const answer = Buffer.from(JSON.stringify({ sha256: hash.digest('hex'), bytes: got }));
    socket.end(
      Buffer.concat([
        head('200 OK', [
          ['Content-Length', String(answer.length)],
          ['Connection', 'close'],
        ]),
        answer,
      ]),
    );
    return;
  }
  switch (path) {
    case '/switch':
      socket.write(
        head('101 Switching Protocols', [
          ['Upgrade', 'foo'],
          ['Connection', 'Upgrade'],
        ]),
      );
      socket.resume();
      events.emit('switched', path);
      return;
    case '/switch-bare':
      socket.end(head('101 Switching Protocols', []));
      return;
    case '/close':
      socket.write(
        head('200 OK', [
          ['Content-Length', String(size)],
          ['Connection', 'close'],
          ['X-Sha256', sum],
        ]),
      );
      await writeAll(socket, body);
      socket.end(() => events.emit('sent', path));
      return;
    case '/eof':
      socket.write(
        head('200 OK', [
          ['Connection', 'close'],
          ['X-Sha256', sum],
        ]),
      );
      await writeAll(socket, body);
      socket.end(() => events.emit('sent', path));
      return;
    case '/chunked': {
      socket.write(
        head('200 OK', [
          ['Transfer-Encoding', 'chunked'],
          ['Trailer', 'X-Checksum'],
          ['Connection', 'close'],
          ['X-Sha256', sum],
        ]),
      );
      for (let at = 0; at < body.length; at += 65536) await writeAll(socket, chunk(body.subarray(at, at + 65536)));
      socket.end(`0\r\nX-Checksum: ${sum}\r\n\r\n`);
      return;
    }
    case '/continue':
      socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      socket.write('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n');
      socket.write(
        head('200 OK', [
          ['Content-Length', String(size)],
          ['Connection', 'close'],
          ['X-Sha256', sum],
        ]),
      );
      await writeAll(socket, body);
      socket.end();
      return;
    case '/fin-mid':
      socket.write(
        head('200 OK', [
          ['Content-Length', String(size)],
          ['Connection', 'close'],
        ]),
      );
      await writeAll(socket, body.subarray(0, size >> 1));
      socket.end();
      return;
    case '/rst-mid':
      socket.write(
        head('200 OK', [
          ['Content-Length', String(size)],
          ['Connection', 'close'],
        ]),
      );
      await writeAll(socket, body.subarray(0, size >> 1));
      socket.resetAndDestroy();
      return;
    case '/fin-mid-chunked':
      socket.write(
        head('200 OK', [
          ['Transfer-Encoding', 'chunked'],
          ['Connection', 'close'],
        ]),
      );
      await writeAll(socket, chunk(body.subarray(0, size >> 1)));
      socket.end();
      return;
    case '/big-headers': {
      const kib = Number(url.searchParams.get('kib') ?? '1');
      const headers: Array<[string, string]> = [];
      for (let i = 0; i < kib; i++) headers.push([`X-Big-${i}`, String(i % 10).repeat(1024)]);
      socket.end(
        Buffer.concat([
          head('200 OK', [...headers, ['Content-Length', '2'], ['Connection', 'close']]),
          Buffer.from('ok'),
        ]),
      );
      return;
    }
    case '/header-bytes': {
      const h = Buffer.concat([
        Buffer.from('HTTP/1.1 200 OK\r\nX-Bytes: a'),
        Buffer.from([0xff, 0x62]),
        Buffer.from(
          '\r\nX-Utf8: \u20ac caf\u00e9\r\n'.replace(/[^\x00-\x7f]/g, (c) => Buffer.from(c, 'utf8').toString('latin1')),
          'latin1',
        ),
        Buffer.from(
          'Connection: close, X-Private\r\nX-Private: secret\r\nX-Public: visible\r\nContent-Length: 2\r\n\r\nok',
        ),
      ]);
      socket.end(h);
      return;
    }
    default:
      if (path.startsWith('/status/')) {
        const status = path.slice(8);
        const body = Buffer.from(`status ${status}`, 'latin1');
        socket.end(
          Buffer.concat([
            head(`${status} Whatever`, [
              ['Content-Length', String(body.length)],
              ['X-Origin-Status', status],
              ['Connection', 'close'],
            ]),
            body,
          ]),
        );
        return;
      }
      socket.end(
        Buffer.concat([
          head('200 OK', [
            ['Content-Length', String(Buffer.byteLength(target, 'latin1'))],
            ['Connection', 'close'],
            ['X-Request-Target', target],
          ]),
          Buffer.from(target, 'latin1'),
        ]),
      );
  }
}

/** Starts the raw origin on 127.0.0.1:0. */
export async function startRawOrigin(): Promise<RawOrigin> {
  const targets: string[] = [];
  const events = new EventEmitter();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buffered = Buffer.concat([buffered, c]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      const headText = buffered.subarray(0, end).toString('latin1');
      targets.push(headText.split('\r\n')[0]!.split(' ')[1]!);
      void serve(socket, headText, buffered.subarray(end + 4), events).catch(() => socket.destroy());
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    events,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
