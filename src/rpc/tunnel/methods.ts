/**
 * Method descriptors of the tunnel RPC interfaces (docs/protocol.md §6.2 "Call addressing"): the declaring interface's
 * ID, the ordinal, and the generated params/results classes.
 */
import {
  ConfigurationManager_UpdateConfiguration$Params,
  ConfigurationManager_UpdateConfiguration$Results,
  RegistrationServer_RegisterConnection$Params,
  RegistrationServer_RegisterConnection$Results,
  RegistrationServer_UnregisterConnection$Params,
  RegistrationServer_UnregisterConnection$Results,
  RegistrationServer_UpdateLocalConfiguration$Params,
  RegistrationServer_UpdateLocalConfiguration$Results,
  SessionManager_RegisterUdpSession$Params,
  SessionManager_RegisterUdpSession$Results,
  SessionManager_UnregisterUdpSession$Params,
  SessionManager_UnregisterUdpSession$Results,
} from '../../capnp/gen/tunnelrpc.js';
import {
  CONFIGURATION_MANAGER_ID,
  ConfigurationManagerMethod,
  REGISTRATION_SERVER_ID,
  RegistrationServerMethod,
  SESSION_MANAGER_ID,
  SessionManagerMethod,
} from '../../capnp/interfaces.js';
import type { MethodRef } from '../capability.js';

/** `RegistrationServer.registerConnection` (called by the connector on the control stream). */
export const REGISTER_CONNECTION: MethodRef<
  RegistrationServer_RegisterConnection$Params,
  RegistrationServer_RegisterConnection$Results
> = {
  interfaceId: REGISTRATION_SERVER_ID,
  methodId: RegistrationServerMethod.registerConnection,
  Params: RegistrationServer_RegisterConnection$Params,
  Results: RegistrationServer_RegisterConnection$Results,
  name: 'RegistrationServer.registerConnection',
};

/** `RegistrationServer.unregisterConnection`. */
export const UNREGISTER_CONNECTION: MethodRef<
  RegistrationServer_UnregisterConnection$Params,
  RegistrationServer_UnregisterConnection$Results
> = {
  interfaceId: REGISTRATION_SERVER_ID,
  methodId: RegistrationServerMethod.unregisterConnection,
  Params: RegistrationServer_UnregisterConnection$Params,
  Results: RegistrationServer_UnregisterConnection$Results,
  name: 'RegistrationServer.unregisterConnection',
};

/** `RegistrationServer.updateLocalConfiguration`. */
export const UPDATE_LOCAL_CONFIGURATION: MethodRef<
  RegistrationServer_UpdateLocalConfiguration$Params,
  RegistrationServer_UpdateLocalConfiguration$Results
> = {
  interfaceId: REGISTRATION_SERVER_ID,
  methodId: RegistrationServerMethod.updateLocalConfiguration,
  Params: RegistrationServer_UpdateLocalConfiguration$Params,
  Results: RegistrationServer_UpdateLocalConfiguration$Results,
  name: 'RegistrationServer.updateLocalConfiguration',
};

/** `ConfigurationManager.updateConfiguration` (called by the edge on an RPC stream, served by the connector). */
export const UPDATE_CONFIGURATION: MethodRef<
  ConfigurationManager_UpdateConfiguration$Params,
  ConfigurationManager_UpdateConfiguration$Results
> = {
  interfaceId: CONFIGURATION_MANAGER_ID,
  methodId: ConfigurationManagerMethod.updateConfiguration,
  Params: ConfigurationManager_UpdateConfiguration$Params,
  Results: ConfigurationManager_UpdateConfiguration$Results,
  name: 'ConfigurationManager.updateConfiguration',
};

/** `SessionManager.registerUdpSession`. */
export const REGISTER_UDP_SESSION: MethodRef<
  SessionManager_RegisterUdpSession$Params,
  SessionManager_RegisterUdpSession$Results
> = {
  interfaceId: SESSION_MANAGER_ID,
  methodId: SessionManagerMethod.registerUdpSession,
  Params: SessionManager_RegisterUdpSession$Params,
  Results: SessionManager_RegisterUdpSession$Results,
  name: 'SessionManager.registerUdpSession',
};

/** `SessionManager.unregisterUdpSession`. */
export const UNREGISTER_UDP_SESSION: MethodRef<
  SessionManager_UnregisterUdpSession$Params,
  SessionManager_UnregisterUdpSession$Results
> = {
  interfaceId: SESSION_MANAGER_ID,
  methodId: SessionManagerMethod.unregisterUdpSession,
  Params: SessionManager_UnregisterUdpSession$Params,
  Results: SessionManager_UnregisterUdpSession$Results,
  name: 'SessionManager.unregisterUdpSession',
};
