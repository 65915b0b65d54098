/**
 * Cap'n Proto interface IDs, method ordinals and the `extends` graph of the tunnel schemas (docs/protocol.md §6.2).
 *
 * An RPC Call names the interface that *declares* the method, not the one the target object was exported as
 * (docs/protocol.md §6.2 "Call addressing"). capnp-es generates no inherited methods, so the RPC layer dispatches through
 * this table: an object exported as CloudflaredServer must answer `(SessionManager, 0)` and
 * `(ConfigurationManager, 0)`, and the edge's bootstrap capability (typed TunnelServer) is called with
 * RegistrationServer's ID.
 *
 * This module deliberately does not import the generated code, so that it stays cheap to load; a test checks it
 * against `src/capnp/gen/`.
 */

/** Interface ID of `RegistrationServer` (docs/protocol.md §6.2): the edge's registration API, called by the connector. */
export const REGISTRATION_SERVER_ID = 0xf71695ec7fe85497n;
/** Interface ID of the legacy `TunnelServer` (docs/protocol.md §6.2), which extends RegistrationServer. */
export const TUNNEL_SERVER_ID = 0xea58385c65416035n;
/** Interface ID of `SessionManager` (docs/protocol.md §6.2): UDP sessions, served by the connector. */
export const SESSION_MANAGER_ID = 0x839445a59fb01686n;
/** Interface ID of `ConfigurationManager` (docs/protocol.md §6.2): remote config push, served by the connector. */
export const CONFIGURATION_MANAGER_ID = 0xb48edfbdaa25db04n;
/** Interface ID of `CloudflaredServer` (docs/protocol.md §6.2): the connector's bootstrap capability on RPC streams. */
export const CLOUDFLARED_SERVER_ID = 0xf548cef9dea2a4a1n;

/** Method ordinals of RegistrationServer (docs/protocol.md §6.2). */
export const RegistrationServerMethod = {
  registerConnection: 0,
  unregisterConnection: 1,
  updateLocalConfiguration: 2,
} as const;

/** Method ordinals of SessionManager (docs/protocol.md §6.2). */
export const SessionManagerMethod = {
  registerUdpSession: 0,
  unregisterUdpSession: 1,
} as const;

/** Method ordinals of ConfigurationManager (docs/protocol.md §6.2). */
export const ConfigurationManagerMethod = {
  updateConfiguration: 0,
} as const;

/** One method of an interface, with the IDs of its implicit parameter and result structs (docs/protocol.md §6.2). */
export interface MethodInfo {
  /** ID of the interface that declares the method — the `interfaceId` of a Call to it. */
  readonly interfaceId: bigint;
  /** Method ordinal — the `methodId` of a Call to it. */
  readonly methodId: number;
  /** Method name as written in the schema. */
  readonly name: string;
  /** Type ID of the implicit `$Params` struct. */
  readonly paramsStructId: bigint;
  /** Type ID of the implicit `$Results` struct. */
  readonly resultsStructId: bigint;
}

/** One interface: its ID, schema name, direct superclasses and its own (not inherited) methods. */
export interface InterfaceInfo {
  readonly id: bigint;
  readonly name: string;
  /** Direct superclasses, in schema order. */
  readonly extends: readonly bigint[];
  /** Methods declared by this interface, indexed by ordinal. */
  readonly methods: readonly MethodInfo[];
}

function methods(interfaceId: bigint, list: ReadonlyArray<readonly [string, bigint, bigint]>): MethodInfo[] {
  return list.map(([name, paramsStructId, resultsStructId], methodId) =>
    Object.freeze({ interfaceId, methodId, name, paramsStructId, resultsStructId }),
  );
}

function iface(id: bigint, name: string, supers: bigint[], list: ReadonlyArray<readonly [string, bigint, bigint]>) {
  return Object.freeze({ id, name, extends: Object.freeze(supers), methods: Object.freeze(methods(id, list)) });
}

/**
 * Every interface of `tunnelrpc.capnp`, keyed by ID. Params/Results struct IDs are the table of docs/protocol.md §6.2,
 * listed in method-ordinal order.
 */
export const INTERFACES: ReadonlyMap<bigint, InterfaceInfo> = new Map<bigint, InterfaceInfo>(
  [
    iface(
      REGISTRATION_SERVER_ID,
      'RegistrationServer',
      [],
      [
        ['registerConnection', 0xe6646dec8feaa6een, 0xea50d822450d1f17n],
        ['unregisterConnection', 0xf9cb7f4431a307d0n, 0xb046e578094b1eadn],
        ['updateLocalConfiguration', 0xc5d6e311876a3604n, 0xe5ceae5d6897d7ben],
      ],
    ),
    iface(
      TUNNEL_SERVER_ID,
      'TunnelServer',
      [REGISTRATION_SERVER_ID],
      [
        ['registerTunnel', 0xb70431c0dc014915n, 0xf2c122394f447e8en],
        ['getServerInfo', 0xdc3ed6801961e502n, 0xe3e37d096a5b564en],
        ['unregisterTunnel', 0x9b87b390babc2ccfn, 0xa29a916d4ebdd894n],
        ['obsoleteDeclarativeTunnelConnect', 0xa766b24d4fe5da35n, 0xfeac5c8f4899ef7cn],
        ['authenticate', 0x85c8cea1ab1894f3n, 0xfc5edf80e39c0796n],
        ['reconnectTunnel', 0xa353a3556df74984n, 0xd4d18de97bb12de3n],
      ],
    ),
    iface(
      SESSION_MANAGER_ID,
      'SessionManager',
      [],
      [
        ['registerUdpSession', 0x904e297b87fbecean, 0x8635c6b4f45bf5cdn],
        ['unregisterUdpSession', 0x96b74375ce9b0ef6n, 0xf24ec4ab5891b676n],
      ],
    ),
    iface(
      CONFIGURATION_MANAGER_ID,
      'ConfigurationManager',
      [],
      [['updateConfiguration', 0xb177ca2526a3ca76n, 0x958096448eb3373en]],
    ),
    iface(CLOUDFLARED_SERVER_ID, 'CloudflaredServer', [SESSION_MANAGER_ID, CONFIGURATION_MANAGER_ID], []),
  ].map((info) => [info.id, info]),
);

/**
 * The interface itself followed by every interface it transitively extends (depth-first, schema order, no
 * duplicates). Empty for an unknown ID.
 */
export function interfaceAncestry(id: bigint): bigint[] {
  const out: bigint[] = [];
  const visit = (current: bigint): void => {
    const info = INTERFACES.get(current);
    if (info === undefined || out.includes(current)) return;
    out.push(current);
    for (const parent of info.extends) visit(parent);
  };
  visit(id);
  return out;
}

/** True when an object exported as `servedId` must accept Calls addressed to `interfaceId`. */
export function servesInterface(servedId: bigint, interfaceId: bigint): boolean {
  return interfaceAncestry(servedId).includes(interfaceId);
}

/**
 * Resolves a Call's `(interfaceId, methodId)` against an object exported as `servedId`.
 *
 * @returns the method, or `undefined` when the object does not implement that interface or the interface has no such
 *   method — the RPC layer answers `unimplemented` then.
 */
export function resolveMethod(servedId: bigint, interfaceId: bigint, methodId: number): MethodInfo | undefined {
  if (!servesInterface(servedId, interfaceId)) return undefined;
  return INTERFACES.get(interfaceId)?.methods[methodId];
}
