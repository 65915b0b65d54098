/**
 * An origin that is a Node request listener or `http.Server`, called in-process and never listening on a port.
 * Requests go straight to the server's `request` listeners (direct-exchange.ts: no HTTP bytes written and parsed
 * again, streaming bodies with backpressure both ways); WebSocket upgrades go through an in-memory socket handed to
 * the server's `connection` event, so its `upgrade` listeners (`ws`, socket.io) get a real byte stream.
 */
import http from 'node:http';
import type { Agent } from 'undici';
import { duplexPair } from '../duplex-pair.js';
import { OriginRequestCancelledError } from '../errors.js';
import { buildOriginRequestHeaders } from '../headers.js';
import { HttpOriginService, requestTarget, toWire } from '../http-origin.js';
import type { OriginRequest, OriginResponse, OriginService } from '../types.js';
import { exchange } from './direct-exchange.js';

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

/** Serves requests by handing them to a Node server's listeners in-process. */
class NodeOriginService implements OriginService {
  /** In-memory HTTP/1.1 connections, for upgrades only. */
  private upgrades: HttpOriginService | undefined;

  constructor(private readonly server: http.Server) {}

  async roundTrip(req: OriginRequest, signal: AbortSignal): Promise<OriginResponse> {
    if (req.isWebsocket) {
      this.upgrades ??= new HttpOriginService({ origin: IN_PROCESS_ORIGIN, connect: inProcessConnector(this.server) });
      return this.upgrades.roundTrip(req, signal);
    }
    if (signal.aborted) throw new OriginRequestCancelledError(signal.reason);
    const body = req.body;
    const built = buildOriginRequestHeaders({
      headers: req.headers,
      host: req.host,
      isWebsocket: false,
      hasBody: body !== null,
      connectorId: req.connectorId,
    });
    const raw: string[] = ['Host', toWire(built.host)];
    let length = false;
    for (const [name, value] of built.headers) {
      raw.push(name, toWire(value));
      if (name === 'Content-Length') length = true;
    }
    // The app learns a body of unknown length is there as from the network (body parsers look for these headers).
    if (body !== null && !length) raw.push('Transfer-Encoding', 'chunked');
    return exchange(this.server, { method: req.method, path: requestTarget(req.url), rawHeaders: raw, body }, signal);
  }

  async close(): Promise<void> {
    await this.upgrades?.close();
  }
}

/**
 * Wraps a listener or server. A listener gets its own `http.Server` that never listens; a given server keeps its
 * listeners (and may listen elsewhere too — cftunnel never calls `listen` or `close` on it).
 */
export function createNodeOriginService(target: http.Server | NodeRequestListener): OriginService {
  return new NodeOriginService(target instanceof http.Server ? target : http.createServer(target));
}
