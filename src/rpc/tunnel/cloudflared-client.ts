/**
 * Edge side of an RPC stream (for the local test edge, docs/protocol.md §7.5): calls the connector's CloudflaredServer.
 * The caller writes the 6-byte RPC signature before handing the stream over. Like the Go edge, each call is
 * pipelined on the bootstrap promise.
 */
import type { CallOptions } from '../connection.js';
import { BootstrapClient } from './bootstrap-client.js';
import {
  readRegisterUdpSessionResult,
  readUpdateConfigurationResult,
  writeRegisterUdpSessionParams,
  writeUnregisterUdpSessionParams,
  writeUpdateConfigurationParams,
  type RegisterUdpSessionParams,
  type RegisterUdpSessionResult,
  type UnregisterUdpSessionParams,
  type UpdateConfigurationResult,
} from './codec.js';
import { REGISTER_UDP_SESSION, UNREGISTER_UDP_SESSION, UPDATE_CONFIGURATION } from './methods.js';

/** RPC client of the connector's CloudflaredServer over one edge-opened stream. */
export class CloudflaredClient extends BootstrapClient {
  /** Pushes a remote configuration (docs/protocol.md §9.3). */
  async updateConfiguration(
    version: number,
    config: Buffer,
    options: CallOptions = {},
  ): Promise<UpdateConfigurationResult> {
    return this.callAndRead(
      UPDATE_CONFIGURATION,
      (p) => writeUpdateConfigurationParams(p, version, config),
      (results) => readUpdateConfigurationResult(results.result),
      options,
    );
  }

  /** Registers a datagram v2 UDP session (docs/protocol.md §14.1). */
  async registerUdpSession(
    params: RegisterUdpSessionParams,
    options: CallOptions = {},
  ): Promise<RegisterUdpSessionResult> {
    return this.callAndRead(
      REGISTER_UDP_SESSION,
      (p) => writeRegisterUdpSessionParams(p, params),
      (results) => readRegisterUdpSessionResult(results.result),
      options,
    );
  }

  /** Unregisters a datagram v2 UDP session. */
  async unregisterUdpSession(params: UnregisterUdpSessionParams, options: CallOptions = {}): Promise<void> {
    await this.rpc.call(this.cap, UNREGISTER_UDP_SESSION, (p) => writeUnregisterUdpSessionParams(p, params), options);
  }
}
