/** UDP socket helpers shared by client and server. */
import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { SOCKET_BUFFER_BYTES } from './config.js';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram resolves the destination of every unconnected `send()` through `lookup`, and `dns.lookup` answers even an IP
 * literal on the next tick: a per-packet deferral, and one that keeps the packet buffer busy past `send()`. The
 * server only ever sends to IP literals (the peer's source address), so those are answered synchronously.
 * Pass it as `createSocket({ lookup })`. @internal
 */
export function literalLookup(hostname: string, family: number, callback: LookupCallback): void {
  const literal = isIP(hostname);
  if (literal !== 0) callback(null, hostname, literal);
  else dnsLookup(hostname, family, callback);
}

/** Creates and binds a UDP socket; 4 MiB kernel buffers when the OS allows, the OS default otherwise. */
export async function bindUdp(family: 4 | 6, port: number, address: string | undefined): Promise<Socket> {
  const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', lookup: literalLookup as never });
  try {
    await new Promise<void>((resolve, reject) => {
      // Both may be emitted synchronously inside bind() (the lookup above answers at once): listen first.
      const onError = (err: Error): void => {
        socket.off('listening', onListening);
        reject(err);
      };
      const onListening = (): void => {
        socket.off('error', onError);
        resolve();
      };
      socket.once('error', onError);
      socket.once('listening', onListening);
      socket.bind(port, address);
    });
  } catch (err) {
    socket.close();
    throw err;
  }
  try {
    socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
    socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
  } catch {
    // The kernel refused (or capped) the size; the default buffers still work, only with more loss under bursts.
  }
  return socket;
}

/**
 * Binds `preferredPort` if given and free, else a random port (docs/protocol.md §5.2: reconnects of a connection index
 * try the port of its previous socket first).
 */
export async function bindUdpPreferring(
  family: 4 | 6,
  preferredPort: number | undefined,
  address: string | undefined,
): Promise<Socket> {
  if (preferredPort !== undefined && preferredPort > 0) {
    try {
      return await bindUdp(family, preferredPort, address);
    } catch {
      // Taken (or not allowed): a random port works just as well.
    }
  }
  return bindUdp(family, 0, address);
}
