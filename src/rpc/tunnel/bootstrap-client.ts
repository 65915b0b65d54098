/** Shared base of the typed RPC clients: one RPC connection whose calls all go to the peer's bootstrap capability. */
import type { Duplex } from 'node:stream';
import type { Struct } from 'capnp-es';
import type { MethodRef } from '../capability.js';
import type { CallOptions, RemoteCapability } from '../connection.js';
import { RpcConnection, type RpcConnectionOptions } from '../connection.js';
import { RpcProtocolError } from '../errors.js';
import { CftunnelError } from '../../errors.js';

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

  /**
   * Calls `ref` on the peer's bootstrap capability and converts its results with `read`. Results are peer-controlled
   * bytes read lazily: a malformed struct surfaces as {@link RpcProtocolError}, not as a capnp-es exception.
   */
  protected async callAndRead<P extends Struct, R extends Struct, T>(
    ref: MethodRef<P, R>,
    build: (params: P) => void,
    read: (results: R) => T,
    options: CallOptions,
  ): Promise<T> {
    const { results } = await this.rpc.call(this.cap, ref, build, options);
    try {
      return read(results);
    } catch (err) {
      if (!(err instanceof Error) || err instanceof CftunnelError) throw err;
      throw new RpcProtocolError(`malformed ${ref.name} results: ${err.message}`, { cause: err });
    }
  }

  /** Release + Abort "rpc: shutdown" + end of stream, like cloudflared's Go RPC library. */
  async close(): Promise<void> {
    await this.rpc.close();
  }
}
