/**
 * Connector side of an edge-opened RPC stream (docs/protocol.md §7.5): serves CloudflaredServer (SessionManager +
 * ConfigurationManager) as the bootstrap capability. The caller has already consumed the 6-byte RPC signature.
 */
import type { Duplex } from 'node:stream';
import { CLOUDFLARED_SERVER_ID, interfaceAncestry } from '../../capnp/interfaces.js';
import { LocalCapability } from '../capability.js';
import { RpcConnection, type RpcConnectionOptions } from '../connection.js';
import { RpcServerException } from '../errors.js';
import {
  dataToBuffer,
  readRegisterUdpSessionParams,
  readUnregisterUdpSessionParams,
  writeRegisterUdpSessionResult,
  writeUpdateConfigurationResult,
  type RegisterUdpSessionParams,
  type RegisterUdpSessionResult,
  type UnregisterUdpSessionParams,
  type UpdateConfigurationResult,
} from './codec.js';
import { REGISTER_UDP_SESSION, UNREGISTER_UDP_SESSION, UPDATE_CONFIGURATION } from './methods.js';

/** The connector's implementations of the methods the edge may call on an RPC stream. */
export interface CloudflaredHandlers {
  /** Apply a remote configuration (docs/protocol.md §9.3). `err` null ⇒ the pointer is omitted, as cloudflared does. */
  updateConfiguration(version: number, config: Buffer): Promise<UpdateConfigurationResult>;
  /** Datagram v2 session registration (docs/protocol.md §14.1); absent ⇒ the call gets an `unimplemented` exception. */
  registerUdpSession?(params: RegisterUdpSessionParams): Promise<RegisterUdpSessionResult>;
  /** Datagram v2 session teardown; absent ⇒ `unimplemented`. */
  unregisterUdpSession?(params: UnregisterUdpSessionParams): Promise<void>;
}

/**
 * Serves CloudflaredServer on `stream`. Returns the RPC connection; it ends when the edge sends Abort/FIN (the
 * connector sends no Abort of its own on these streams, vectors MANIFEST).
 */
export function serveCloudflared(
  stream: Duplex,
  handlers: CloudflaredHandlers,
  options: Omit<RpcConnectionOptions, 'bootstrap'> = {},
): RpcConnection {
  const cap = new LocalCapability('CloudflaredServer', interfaceAncestry(CLOUDFLARED_SERVER_ID))
    .method(UPDATE_CONFIGURATION, async (params, results) => {
      const outcome = await handlers.updateConfiguration(params.version, dataToBuffer(params.config));
      writeUpdateConfigurationResult(results._initResult(), outcome);
    })
    .method(REGISTER_UDP_SESSION, async (params, results) => {
      if (!handlers.registerUdpSession)
        throw new RpcServerException('unimplemented', 'registerUdpSession is not supported');
      const outcome = await handlers.registerUdpSession(readRegisterUdpSessionParams(params));
      writeRegisterUdpSessionResult(results._initResult(), outcome);
    })
    .method(UNREGISTER_UDP_SESSION, async (params) => {
      if (!handlers.unregisterUdpSession)
        throw new RpcServerException('unimplemented', 'unregisterUdpSession is not supported');
      await handlers.unregisterUdpSession(readUnregisterUdpSessionParams(params));
    });
  return new RpcConnection(stream, { ...options, bootstrap: cap });
}
