/**
 * Edge side of the control stream (for the local test edge): serves RegistrationServer as the bootstrap capability
 * (docs/protocol.md §6.5). Exported as TunnelServer like the real edge, so Calls addressed to RegistrationServer's ID are
 * accepted through `extends`.
 */
import type { Duplex } from 'node:stream';
import { interfaceAncestry, TUNNEL_SERVER_ID } from '../../capnp/interfaces.js';
import { LocalCapability } from '../capability.js';
import { RpcConnection, type RpcConnectionOptions } from '../connection.js';
import {
  dataToBuffer,
  readRegisterConnectionParams,
  writeConnectionDetails,
  writeConnectionError,
  type WireConnectionDetails,
  type ConnectionErrorInfo,
  type RegisterConnectionParams,
} from './codec.js';
import { REGISTER_CONNECTION, UNREGISTER_CONNECTION, UPDATE_LOCAL_CONFIGURATION } from './methods.js';

/** What the edge's registration handlers decide. */
export interface RegistrationHandlers {
  /** Accept (ConnectionDetails) or refuse (`{ error }`) a connection. */
  registerConnection(params: RegisterConnectionParams): Promise<WireConnectionDetails | { error: ConnectionErrorInfo }>;
  unregisterConnection(): Promise<void>;
  updateLocalConfiguration(config: Buffer): Promise<void>;
}

/** Serves the edge's registration API on a control stream; returns the RPC connection (close it when done). */
export function serveRegistration(
  stream: Duplex,
  handlers: RegistrationHandlers,
  options: Omit<RpcConnectionOptions, 'bootstrap'> = {},
): RpcConnection {
  const cap = new LocalCapability('TunnelServer', interfaceAncestry(TUNNEL_SERVER_ID))
    .method(REGISTER_CONNECTION, async (params, results) => {
      const outcome = await handlers.registerConnection(readRegisterConnectionParams(params));
      const result = results._initResult()._initResult();
      if ('error' in outcome) writeConnectionError(result._initError(), outcome.error);
      else writeConnectionDetails(result._initConnectionDetails(), outcome);
    })
    .method(UNREGISTER_CONNECTION, () => handlers.unregisterConnection())
    .method(UPDATE_LOCAL_CONFIGURATION, (params) => handlers.updateLocalConfiguration(dataToBuffer(params.config)));
  return new RpcConnection(stream, { ...options, bootstrap: cap });
}
