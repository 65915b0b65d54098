import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as rpc from '../../src/capnp/gen/tunnelrpc.js';
import * as meta from '../../src/capnp/gen/quic_metadata_protocol.js';
import {
  CLOUDFLARED_SERVER_ID,
  CONFIGURATION_MANAGER_ID,
  ConfigurationManagerMethod,
  INTERFACES,
  REGISTRATION_SERVER_ID,
  RegistrationServerMethod,
  SESSION_MANAGER_ID,
  SessionManagerMethod,
  TUNNEL_SERVER_ID,
  interfaceAncestry,
  resolveMethod,
  servesInterface,
} from '../../src/capnp/interfaces.js';

interface CapnpNode {
  readonly _capnp: {
    readonly id: string;
    readonly size?: { readonly dataByteLength: number; readonly pointerLength: number };
  };
}

function idOf(node: CapnpNode): bigint {
  return BigInt('0x' + node._capnp.id);
}

// Every explicit ID of docs/protocol.md §6.2/§6.3, with the struct layout of §6.4 as [data bytes, pointers] where listed.
const STRUCTS: Array<[CapnpNode, bigint, [number, number]?]> = [
  [rpc.Authentication, 0xc082ef6e0d42ed1dn, [0, 3]],
  [rpc.TunnelRegistration, 0xf41a0f001ad49e46n, [8, 6]],
  [rpc.RegistrationOptions, 0xc793e50592935b4an, [16, 8]],
  [rpc.ServerInfo, 0xf2c68e2547ec3866n, [0, 1]],
  [rpc.AuthenticateResponse, 0x82c325a07ad22a65n, [8, 3]],
  [rpc.Tag, 0xcbd96442ae3bb01an, [0, 2]],
  [rpc.ClientInfo, 0x83ced0145b2f114bn, [0, 4]],
  [rpc.ConnectionOptions, 0xb4bf9861fe035d04n, [8, 2]],
  [rpc.ConnectionResponse, 0xdbaa9d03d52b62dcn, [8, 1]],
  [rpc.ConnectionError, 0xf5f383d2785edb86n, [16, 1]],
  [rpc.ConnectionDetails, 0xb5f39f082b9ac18an, [8, 2]],
  [rpc.TunnelAuth, 0x9496331ab9cd463fn, [0, 2]],
  [rpc.RegisterUdpSessionResponse, 0xab6d5210c1f26687n, [0, 2]],
  [rpc.UpdateConfigurationResponse, 0xdb58ff694ba05cf9n, [8, 1]],
  [rpc.RegistrationServer_RegisterConnection$Params, 0xe6646dec8feaa6een, [8, 3]],
  [rpc.RegistrationServer_RegisterConnection$Results, 0xea50d822450d1f17n, [0, 1]],
  [rpc.RegistrationServer_UnregisterConnection$Params, 0xf9cb7f4431a307d0n, [0, 0]],
  [rpc.RegistrationServer_UnregisterConnection$Results, 0xb046e578094b1eadn, [0, 0]],
  [rpc.RegistrationServer_UpdateLocalConfiguration$Params, 0xc5d6e311876a3604n, [0, 1]],
  [rpc.RegistrationServer_UpdateLocalConfiguration$Results, 0xe5ceae5d6897d7ben],
  [rpc.SessionManager_RegisterUdpSession$Params, 0x904e297b87fbecean, [16, 3]],
  [rpc.SessionManager_RegisterUdpSession$Results, 0x8635c6b4f45bf5cdn, [0, 1]],
  [rpc.SessionManager_UnregisterUdpSession$Params, 0x96b74375ce9b0ef6n, [0, 2]],
  [rpc.SessionManager_UnregisterUdpSession$Results, 0xf24ec4ab5891b676n],
  [rpc.ConfigurationManager_UpdateConfiguration$Params, 0xb177ca2526a3ca76n, [8, 1]],
  [rpc.ConfigurationManager_UpdateConfiguration$Results, 0x958096448eb3373en, [0, 1]],
  [rpc.TunnelServer_RegisterTunnel$Params, 0xb70431c0dc014915n],
  [rpc.TunnelServer_RegisterTunnel$Results, 0xf2c122394f447e8en],
  [rpc.TunnelServer_GetServerInfo$Params, 0xdc3ed6801961e502n],
  [rpc.TunnelServer_GetServerInfo$Results, 0xe3e37d096a5b564en],
  [rpc.TunnelServer_UnregisterTunnel$Params, 0x9b87b390babc2ccfn],
  [rpc.TunnelServer_UnregisterTunnel$Results, 0xa29a916d4ebdd894n],
  [rpc.TunnelServer_ObsoleteDeclarativeTunnelConnect$Params, 0xa766b24d4fe5da35n],
  [rpc.TunnelServer_ObsoleteDeclarativeTunnelConnect$Results, 0xfeac5c8f4899ef7cn],
  [rpc.TunnelServer_Authenticate$Params, 0x85c8cea1ab1894f3n],
  [rpc.TunnelServer_Authenticate$Results, 0xfc5edf80e39c0796n],
  [rpc.TunnelServer_ReconnectTunnel$Params, 0xa353a3556df74984n],
  [rpc.TunnelServer_ReconnectTunnel$Results, 0xd4d18de97bb12de3n],
  [meta.ConnectRequest, 0xc47116a1045e4061n, [8, 2]],
  [meta.Metadata, 0xe1446b97bfd1cd37n, [0, 2]],
  [meta.ConnectResponse, 0xb1032ec91cef8727n, [0, 2]],
];

test('generated file IDs are the spec file IDs', () => {
  assert.equal(rpc._capnpFileId, 0xdb8274f9144abc7en);
  assert.equal(meta._capnpFileId, 0xb29021ef7421cc32n);
});

test('every generated struct has the spec type ID and struct layout', () => {
  for (const [node, id, layout] of STRUCTS) {
    assert.equal(idOf(node), id, `${node._capnp.id}`);
    if (layout !== undefined) {
      const size = node._capnp.size!;
      assert.deepEqual([size.dataByteLength, size.pointerLength], layout, `layout of ${node._capnp.id}`);
    }
  }
});

test('generated enums have the spec ordinals', () => {
  assert.deepEqual({ ...meta.ConnectionType }, { HTTP: 0, WEBSOCKET: 1, TCP: 2 });
  assert.deepEqual({ ...rpc.ExistingTunnelPolicy }, { IGNORE: 0, DISCONNECT: 1, BALANCE: 2 });
});

test('generated interfaces carry the IDs of interfaces.ts', () => {
  const pairs: Array<[CapnpNode, { readonly interfaceId: bigint }, bigint]> = [
    [rpc.RegistrationServer, rpc.RegistrationServer$Client, REGISTRATION_SERVER_ID],
    [rpc.TunnelServer, rpc.TunnelServer$Client, TUNNEL_SERVER_ID],
    [rpc.SessionManager, rpc.SessionManager$Client, SESSION_MANAGER_ID],
    [rpc.ConfigurationManager, rpc.ConfigurationManager$Client, CONFIGURATION_MANAGER_ID],
    [rpc.CloudflaredServer, rpc.CloudflaredServer$Client, CLOUDFLARED_SERVER_ID],
  ];
  for (const [node, client, id] of pairs) {
    assert.equal(idOf(node), id);
    assert.equal(client.interfaceId, id);
  }
  assert.equal(REGISTRATION_SERVER_ID, 0xf71695ec7fe85497n);
  assert.equal(SESSION_MANAGER_ID, 0x839445a59fb01686n);
  assert.equal(CONFIGURATION_MANAGER_ID, 0xb48edfbdaa25db04n);
});

test('the method table of interfaces.ts matches the generated method lists', () => {
  const generated = [
    rpc.RegistrationServer$Client.methods,
    rpc.TunnelServer$Client.methods,
    rpc.SessionManager$Client.methods,
    rpc.ConfigurationManager$Client.methods,
    rpc.CloudflaredServer$Client.methods,
  ];
  let count = 0;
  for (const list of generated) {
    for (const m of list) {
      const info = INTERFACES.get(m.interfaceId)?.methods[m.methodId];
      assert.ok(info, `${m.interfaceName}.${m.methodName}`);
      assert.equal(info.name, m.methodName);
      assert.equal(info.paramsStructId, idOf(m.ParamsClass as unknown as CapnpNode));
      assert.equal(info.resultsStructId, idOf(m.ResultsClass as unknown as CapnpNode));
      count++;
    }
  }
  const tableCount = [...INTERFACES.values()].reduce((n, i) => n + i.methods.length, 0);
  assert.equal(count, tableCount);
  assert.equal(RegistrationServerMethod.updateLocalConfiguration, 2);
  assert.equal(SessionManagerMethod.unregisterUdpSession, 1);
  assert.equal(ConfigurationManagerMethod.updateConfiguration, 0);
});

test('CloudflaredServer answers SessionManager and ConfigurationManager calls, not RegistrationServer', () => {
  assert.deepEqual(interfaceAncestry(CLOUDFLARED_SERVER_ID), [
    CLOUDFLARED_SERVER_ID,
    SESSION_MANAGER_ID,
    CONFIGURATION_MANAGER_ID,
  ]);
  assert.equal(resolveMethod(CLOUDFLARED_SERVER_ID, SESSION_MANAGER_ID, 1)?.name, 'unregisterUdpSession');
  assert.equal(resolveMethod(CLOUDFLARED_SERVER_ID, CONFIGURATION_MANAGER_ID, 0)?.name, 'updateConfiguration');
  assert.equal(resolveMethod(CLOUDFLARED_SERVER_ID, CONFIGURATION_MANAGER_ID, 1), undefined);
  assert.equal(resolveMethod(CLOUDFLARED_SERVER_ID, REGISTRATION_SERVER_ID, 0), undefined);
  assert.equal(servesInterface(CONFIGURATION_MANAGER_ID, CLOUDFLARED_SERVER_ID), false);
});

test('TunnelServer answers RegistrationServer calls under RegistrationServer’s ID', () => {
  assert.deepEqual(interfaceAncestry(TUNNEL_SERVER_ID), [TUNNEL_SERVER_ID, REGISTRATION_SERVER_ID]);
  const m = resolveMethod(TUNNEL_SERVER_ID, REGISTRATION_SERVER_ID, RegistrationServerMethod.registerConnection);
  assert.equal(m?.name, 'registerConnection');
  assert.equal(m?.interfaceId, REGISTRATION_SERVER_ID);
  assert.equal(interfaceAncestry(0x1234n).length, 0);
});
