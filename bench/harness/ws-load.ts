/**
 * Many concurrent WebSockets, each bouncing one message off the echo origin at a time: messages per second over
 * the window once every socket is open.
 */
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { BenchError } from './errors.js';

/** Result of {@link websocketLoad}. */
export interface WebSocketFigures {
  sockets: number;
  messages: number;
  seconds: number;
  msgsPerSec: number;
}

/** Sockets opened at once while ramping up (1000 simultaneous upgrades only measure the accept queue). */
const OPEN_BATCH = 50;
/** Payload of each message. */
const MESSAGE = Buffer.alloc(64, 0x77);

/** Opens `count` WebSockets to `wsUrl`, then echoes for `durationSeconds`; `onOpen` runs once all are open. */
export async function websocketLoad(
  wsUrl: string,
  count: number,
  durationSeconds: number,
  onOpen?: () => void,
): Promise<WebSocketFigures> {
  const sockets: WebSocket[] = [];
  try {
    for (let i = 0; i < count; i += OPEN_BATCH) {
      const batch = Array.from({ length: Math.min(OPEN_BATCH, count - i) }, () => {
        const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
        // Failures surface through once('open') and 'close'; this keeps a late error from crashing the driver.
        ws.on('error', () => undefined);
        return ws;
      });
      sockets.push(...batch);
      await Promise.all(batch.map((ws) => once(ws, 'open')));
    }
    onOpen?.();
    let messages = 0;
    let running = true;
    const start = process.hrtime.bigint();
    const finished = sockets.map(
      (ws) =>
        new Promise<void>((resolve, reject) => {
          ws.on('message', () => {
            messages++;
            if (running) ws.send(MESSAGE);
            else resolve();
          });
          ws.on('close', () => (running ? reject(new BenchError('a WebSocket closed during the run')) : resolve()));
          ws.send(MESSAGE);
        }),
    );
    await new Promise<void>((resolve) => setTimeout(resolve, durationSeconds * 1000));
    running = false;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const counted = messages;
    await Promise.all(finished);
    return { sockets: count, messages: counted, seconds, msgsPerSec: counted / seconds };
  } finally {
    await Promise.all(
      sockets.map(async (ws) => {
        if (ws.readyState === WebSocket.CLOSED) return;
        const closed = once(ws, 'close');
        ws.terminate();
        await closed;
      }),
    );
  }
}
