/** Shared base of the typed RPC clients: one RPC connection whose calls all go to the peer's bootstrap capability. */
import type { Duplex } from 'node:stream';
import type { RemoteCapability } from '../connection.js';
import { RpcConnection, type RpcConnectionOptions } from '../connection.js';

/** A typed client of the peer's bootstrap capability; Bootstrap is sent with the first call, which is pipelined on it. */
export abstract class BootstrapClient {
  /** The underlying RPC connection (lifecycle: `closed`, `isClosed`). */
  readonly rpc: RpcConnection;
  private remote: RemoteCapability | undefined;

  constructor(stream: Duplex, options: Omit<RpcConnectionOptions, 'bootstrap'> = {}) {
    this.rpc = new RpcConnection(stream, options);
  }

  /** The peer's bootstrap capability. */
  protected get cap(): RemoteCapability {
    this.remote ??= this.rpc.bootstrap();
    return this.remote;
  }

  /** Release + Abort "rpc: shutdown" + end of stream, like cloudflared's Go RPC library. */
  async close(): Promise<void> {
    await this.rpc.close();
  }
}
