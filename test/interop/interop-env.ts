/**
 * Everything a real cloudflared needs around it on loopback: the test origin, a TCP echo origin, a port known to
 * refuse connections, a local edge (every port 0) whose events are recorded, its CA in a file for `--cacert`,
 * and a scratch HOME.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { LocalEdge, type ConfigPushResult, type EdgeConnectionInfo } from '../../src/local-edge/index.js';
import { startTestOrigin } from '../helpers/test-origin.js';
import { EventLog } from './event-log.js';

/** An edge event as recorded. */
export type EdgeEvent =
  | { ev: 'register'; info: EdgeConnectionInfo }
  | { ev: 'unregister'; info: EdgeConnectionInfo }
  | { ev: 'config_pushed'; result: ConfigPushResult }
  | { ev: 'tcp_result'; result: { destination: string; ok: boolean; error: string | undefined } };

/** The running environment. */
export interface InteropEnv {
  edge: LocalEdge;
  events: EventLog<EdgeEvent>;
  /** Base URL of the HTTP/WebSocket test origin. */
  originUrl: string;
  /** `http://127.0.0.1:<port>` where nothing listens (a connection is refused). */
  downUrl: string;
  /** `127.0.0.1:<port>` of the TCP echo origin (the edge's raw TCP listener tunnels to it). */
  tcpEchoAddress: string;
  caFile: string;
  home: string;
  close(): Promise<void>;
}

async function listenLoopback(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A loopback port that was free a moment ago and is now closed again. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listenLoopback(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts origins and a local edge accepting `token`. */
export async function startInteropEnv(token: string): Promise<InteropEnv> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const home = await mkdtemp(join(tmpdir(), 'cftunnel-interop-'));
    cleanups.push(() => rm(home, { recursive: true, force: true }));
    const origin = await startTestOrigin();
    cleanups.push(() => origin.close());
    const sockets = new Set<net.Socket>();
    const echo = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    const echoPort = await listenLoopback(echo);
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    });
    const tcpEchoAddress = `127.0.0.1:${echoPort}`;
    const downUrl = `http://127.0.0.1:${await closedPort()}`;
    const edge = await LocalEdge.start({ tunnels: [token], tcp: [{ destination: tcpEchoAddress }] });
    cleanups.push(() => edge.close());
    const events = new EventLog<EdgeEvent>();
    edge.on('register', (info) => events.push({ ev: 'register', info }));
    edge.on('unregister', (info) => events.push({ ev: 'unregister', info }));
    edge.on('config_pushed', (result) => events.push({ ev: 'config_pushed', result }));
    edge.on('tcp_result', (result) => events.push({ ev: 'tcp_result', result }));
    const caFile = join(home, 'edge-ca.pem');
    await writeFile(caFile, edge.caPem);
    return { edge, events, originUrl: origin.url, downUrl, tcpEchoAddress, caFile, home, close };
  } catch (err) {
    await close();
    throw err;
  }
}
