/** A connected loopback TCP socket pair for RPC tests. */
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { Message } from 'capnp-es';
import * as rpc from 'capnp-es/capnp/rpc';
import { FrameReader } from '../../src/capnp/framing.js';

/** Two ends of one 127.0.0.1 TCP connection, and a cleanup that destroys both. */
export async function socketPair(): Promise<{ a: Socket; b: Socket; close: () => void }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const accepted = once(server, 'connection');
  const a = connect(port, '127.0.0.1');
  await once(a, 'connect');
  const [b] = (await accepted) as [Socket];
  server.close();
  return {
    a,
    b,
    close: () => {
      a.destroy();
      b.destroy();
    },
  };
}

/**
 * Collects the capnp frames a raw test peer receives on `sock`; `next()` resolves with the next one (in order), and
 * `pending` counts frames received but not yet taken.
 */
export function frameQueue(sock: Socket): { next: () => Promise<rpc.Message>; readonly pending: number } {
  const reader = new FrameReader(1 << 20);
  const queue: Buffer[] = [];
  const waiters: ((b: Buffer) => void)[] = [];
  sock.on('data', (c: Buffer) => {
    for (const f of reader.push(c)) {
      const w = waiters.shift();
      if (w) w(f);
      else queue.push(f);
    }
  });
  return {
    async next() {
      const f = queue.shift() ?? (await new Promise<Buffer>((r) => waiters.push(r)));
      return new Message(f, false).getRoot(rpc.Message);
    },
    get pending() {
      return queue.length;
    },
  };
}
