/** UDP socket helpers shared by client and server. */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { SOCKET_BUFFER_BYTES } from './config.js';

/** Creates and binds a UDP socket; 4 MiB kernel buffers when the OS allows, the OS default otherwise. */
export async function bindUdp(family: 4 | 6, port: number, address: string | undefined): Promise<Socket> {
  const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
  const failed = once(socket, 'error');
  socket.bind(port, address);
  await Promise.race([once(socket, 'listening'), failed.then(([err]) => Promise.reject(err as Error))]);
  failed.catch(() => undefined);
  try {
    socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
    socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
  } catch {
    // The kernel refused (or capped) the size; the default buffers still work, only with more loss under bursts.
  }
  return socket;
}
