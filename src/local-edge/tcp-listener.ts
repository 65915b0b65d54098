/**
 * Raw TCP visitor listeners of the local edge: each accepted socket becomes a private-network `tcp` request to a
 * fixed destination (docs/protocol.md §7.2 type tcp, §8.6), so tests can check that connectors refuse such flows.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { EdgeRouter } from './router.js';

/** A running TCP listener. */
export interface TcpListener {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts a TCP listener whose connections are tunnelled to `destination` (`ip:port`). */
export async function startTcpListener(
  edge: EdgeRouter,
  options: { host: string; port: number; destination: string },
): Promise<TcpListener> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    void (async () => {
      const conn = edge.route('');
      if (conn === undefined) return socket.destroy();
      try {
        const res = await conn.send({
          type: 'tcp',
          method: 'CONNECT',
          host: options.destination,
          path: '',
          headers: [['Cf-Ray', edge.nextRay()]],
          body: socket,
          dest: options.destination,
          visitorAddress: `${socket.remoteAddress}:${socket.remotePort}`,
        });
        edge.emit('tcp_result', {
          destination: options.destination,
          ok: res.ok,
          error: res.ok ? undefined : res.error,
        });
        if (!res.ok) return socket.destroy();
        const stream = res.stream as Duplex;
        stream.pipe(socket);
        stream.once('close', () => socket.destroy());
        socket.once('close', () => stream.destroy());
      } catch (err) {
        edge.emit('tcp_result', {
          destination: options.destination,
          ok: false,
          error: `tunnel stream failed: ${(err as Error).message}`,
        });
        socket.destroy();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
