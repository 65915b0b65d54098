/**
 * An origin that is a Node request listener or `http.Server`, called in-process: each connection the proxy would
 * open becomes an in-memory socket handed to the server's `connection` event, so the server parses requests exactly
 * as from the network — streaming bodies, keep-alive, and `upgrade` listeners (so `ws` and socket.io work) — and never
 * has to listen on a port.
 */
import http from 'node:http';
import type { Agent } from 'undici';
import { duplexPair } from '../duplex-pair.js';
import { HttpOriginService } from '../http-origin.js';
import type { OriginService } from '../types.js';

/** A Node request listener, e.g. an Express app or `(req, res) => …`. */
export type NodeRequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** Host used for the in-memory origin's URL; reserved TLD, never resolved or dialled. */
const IN_PROCESS_ORIGIN = 'http://in-process.invalid';

/** The undici `connect` function that opens in-memory connections to `server`. */
export function inProcessConnector(server: http.Server): NonNullable<Agent.Options['connect']> {
  return (_options, callback) => {
    const [client, serverSide] = duplexPair();
    server.emit('connection', serverSide);
    // Asynchronously, like a real dial: undici ignores a resume requested from inside its own connect call.
    process.nextTick(callback as (err: null, socket: unknown) => void, null, client);
  };
}

/**
 * Wraps a listener or server. A listener gets its own `http.Server` that never listens; a given server keeps its
 * listeners (and may listen elsewhere too — cftunnel never calls `listen` or `close` on it).
 */
export function createNodeOriginService(target: http.Server | NodeRequestListener): OriginService {
  const server = target instanceof http.Server ? target : http.createServer(target);
  return new HttpOriginService({ origin: IN_PROCESS_ORIGIN, connect: inProcessConnector(server) });
}
