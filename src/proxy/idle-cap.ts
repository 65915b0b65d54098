/**
 * `keepAliveConnections` (docs/protocol.md §10.5): Go's `MaxIdleConns` / `MaxIdleConnsPerHost`. Any number of
 * connections may be busy at once; when one becomes idle while the cap is already reached, it is closed instead of
 * being pooled. undici has no such cap, so each pooled undici Client is watched: `drain` = it became idle, a
 * dispatch = it is busy again, `disconnect` = its socket is gone.
 */
import type { Duplex } from 'node:stream';
import type { Client, Dispatcher, Pool } from 'undici';
import { undici } from './undici.js';

/** Go's `http.DefaultMaxIdleConnsPerHost`, used when the per-host value is 0 (Go `net/http/transport.go`). */
export const GO_DEFAULT_MAX_IDLE_CONNS_PER_HOST = 2;

/**
 * Idle connections kept for a `keepAliveConnections` value: 0 falls back to Go's per-host default, a negative value
 * keeps none (Go compares the idle count against it and always finds the pool full).
 */
export function idleConnectionCap(keepAliveConnections: number): number {
  if (keepAliveConnections === 0) return GO_DEFAULT_MAX_IDLE_CONNS_PER_HOST;
  return Math.max(0, keepAliveConnections);
}

type Connector = NonNullable<Extract<Client.Options['connect'], (...args: never[]) => unknown>>;

type WatchedClientClass = new (origin: URL, options: Client.Options, onDispatch: () => void) => Client;

let watchedClientClass: WatchedClientClass | undefined;

/** A Client that reports each dispatch, so an idle connection picked up again stops counting as idle. */
function watchedClient(): WatchedClientClass {
  watchedClientClass ??= class WatchedClient extends undici().Client {
    constructor(
      origin: URL,
      options: Client.Options,
      private readonly onDispatch: () => void,
    ) {
      super(origin, options);
    }

    override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      this.onDispatch();
      return super.dispatch(options, handler);
    }
  };
  return watchedClientClass;
}

/** One idle-connection budget, shared by every pool of an origin service (Go: one `http.Transport` per rule). */
export class IdleConnectionCap {
  private readonly idle = new Set<Client>();

  /** @param max idle connections allowed, see {@link idleConnectionCap}. */
  constructor(readonly max: number) {}

  /** Idle pooled connections right now. */
  get idleCount(): number {
    return this.idle.size;
  }

  /** `Agent.Options.factory`: a Pool per origin whose Clients obey the cap. */
  readonly poolFactory = (origin: string | URL, options: object): Dispatcher =>
    new (undici().Pool)(origin, {
      ...(options as Pool.Options),
      factory: (o, opts) => this.client(o, opts as Client.Options),
    });

  private client(origin: URL, options: Client.Options): Client {
    let socket: Duplex | undefined;
    const connect = options.connect as Connector;
    const WatchedClient = watchedClient();
    const client: Client = new WatchedClient(
      origin,
      {
        ...options,
        connect: (opts, callback) =>
          connect(opts, (err, s) => {
            socket = s ?? undefined;
            callback(err, s as never);
          }),
      },
      () => this.idle.delete(client),
    );
    client.on('drain', () => {
      if (socket === undefined || socket.destroyed) return;
      if (this.idle.size >= this.max) socket.destroy();
      else this.idle.add(client);
    });
    // An upgraded socket also leaves its Client this way; it then belongs to the WebSocket, never to the cap.
    client.on('disconnect', () => {
      socket = undefined;
      this.idle.delete(client);
    });
    return client;
  }
}
