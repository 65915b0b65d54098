/** The raw transport baseline server (bench/procs/raw-server.ts) for the duration of a callback. */
import { startChild } from './children.js';
import type { ScenarioContext } from './scenario.js';
import type { RawServerInfo } from '../procs/raw-server.js';

/** Starts the raw `node:tls` / `node:http2` server in its own process, runs `fn`, stops it. */
export async function withRawServer<T>(ctx: ScenarioContext, fn: (info: RawServerInfo) => Promise<T>): Promise<T> {
  ctx.log('starting the raw node:tls / node:http2 baseline server');
  const server = await startChild<Record<string, never>, RawServerInfo>('raw-server', {}, { mode: ctx.mode });
  try {
    return await fn(server.info);
  } finally {
    await server.stop();
  }
}
