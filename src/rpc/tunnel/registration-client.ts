/**
 * Connector side of the control stream (docs/protocol.md §6.5-§6.8): the RPC client of the edge's RegistrationServer.
 *
 * Message sequence matches cloudflared's Go client (vectors MANIFEST): Bootstrap(0), registerConnection Call(1)
 * pipelined on promisedAnswer(0), Finish(0) after the bootstrap Return, Finish(1) after the call's Return;
 * unregisterConnection reuses question 1 and targets importedCap 0; close sends Release(0, 1) and
 * Abort "rpc: shutdown".
 */
import type { CallOptions } from '../connection.js';
import { BootstrapClient } from './bootstrap-client.js';
import {
  readConnectionDetails,
  readConnectionError,
  writeRegisterConnectionParams,
  type WireConnectionDetails,
  type RegisterConnectionParams,
} from './codec.js';
import { REGISTER_CONNECTION, UNREGISTER_CONNECTION, UPDATE_LOCAL_CONFIGURATION } from './methods.js';
import { RegistrationError } from './registration-error.js';

export { RegistrationError } from './registration-error.js';

/** RPC client of the edge's registration API over one control stream (no signature on it, docs/protocol.md §6.5). */
export class RegistrationClient extends BootstrapClient {
  /**
   * Registers this connection. Resolves with the edge's ConnectionDetails; rejects with {@link RegistrationError}
   * when the edge answers a ConnectionError, or an `RpcError` when the RPC itself fails.
   */
  async registerConnection(
    params: RegisterConnectionParams,
    options: CallOptions = {},
  ): Promise<WireConnectionDetails> {
    const outcome = await this.callAndRead(
      REGISTER_CONNECTION,
      (p) => writeRegisterConnectionParams(p, params),
      (results) => {
        const result = results.result.result;
        return result._isConnectionDetails
          ? readConnectionDetails(result.connectionDetails)
          : readConnectionError(result.error);
      },
      options,
    );
    if ('uuid' in outcome) return outcome;
    throw new RegistrationError(outcome);
  }

  /** Tells the edge this connection is going away (graceful shutdown, docs/protocol.md §6.8). */
  async unregisterConnection(options: CallOptions = {}): Promise<void> {
    await this.rpc.call(this.cap, UNREGISTER_CONNECTION, () => {}, options);
  }

  /** Pushes the local configuration JSON (docs/protocol.md §9.4). */
  async updateLocalConfiguration(config: Buffer, options: CallOptions = {}): Promise<void> {
    await this.rpc.call(
      this.cap,
      UPDATE_LOCAL_CONFIGURATION,
      (p) => p._initConfig(config.length).copyBuffer(config),
      options,
    );
  }
}
