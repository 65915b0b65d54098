/**
 * Replays the recorded control streams of real cloudflared 2023.7.3 (c2e) and the Go reference edge (e2c) against
 * our edge-side registration server and our connector-side RegistrationClient, comparing decoded structure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { utils } from 'capnp-es';
import * as rpc from 'capnp-es/capnp/rpc';
import { RegistrationServer_RegisterConnection$Params } from '../../src/capnp/gen/tunnelrpc.js';
import { RpcAbortedError } from '../../src/rpc/errors.js';
import {
  readRegisterConnectionParams,
  type WireConnectionDetails,
  type RegisterConnectionParams,
} from '../../src/rpc/tunnel/codec.js';
import { RegistrationClient } from '../../src/rpc/tunnel/registration-client.js';
import { serveRegistration } from '../../src/rpc/tunnel/registration-server.js';
import { describe, parse, splitFrames, vector, type ContentKind } from './describe.js';
import { frameQueue, socketPair } from './net-helper.js';

const EXPECTED_FEATURES = [
  'allow_remote_config',
  'management_logs',
  'serialized_headers',
  'support_datagram_v2',
  'support_quic_eof',
];

/** What cloudflared sent in its registerConnection call (decoded from the recorded Call). */
function recordedParams(frame: Buffer): RegisterConnectionParams {
  return readRegisterConnectionParams(
    utils.getStruct(0, RegistrationServer_RegisterConnection$Params, parse(frame).call.params),
  );
}

/** What the reference edge answered (decoded from the recorded Return). */
function recordedDetails(frame: Buffer): WireConnectionDetails {
  const d = describe(parse(frame), 'registerResults').content as {
    uuid: string;
    locationName: string;
    tunnelIsRemotelyManaged: boolean;
  };
  return {
    uuid: Buffer.from(d.uuid, 'hex'),
    locationName: d.locationName,
    tunnelIsRemotelyManaged: d.tunnelIsRemotelyManaged,
  };
}

function assertRecordedRegistration(p: RegisterConnectionParams, connIndex: number): void {
  assert.equal(p.accountTag, 'cfref0000000000000000000000000a1');
  assert.equal(p.tunnelSecret.toString('hex'), '0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20');
  assert.equal(p.tunnelId.toString('hex'), '9d1b2a4e6c3f4f1e9a7b0c2d3e4f5a6b');
  assert.equal(p.connIndex, connIndex);
  assert.equal(p.clientId.length, 16);
  assert.deepEqual([...p.features].sort(), EXPECTED_FEATURES);
  assert.equal(p.version, '2023.7.3');
  assert.equal(p.arch, 'linux_amd64');
  assert.equal(p.originLocalIp.toString('hex'), '00000000000000000000ffff7f000001');
  assert.equal(p.replaceExisting, false);
  assert.equal(p.compressionQuality, 0);
  assert.equal(p.numPreviousAttempts, 0);
}

function sameMessage(ours: rpc.Message, recorded: Buffer, content?: ContentKind): void {
  assert.deepEqual(describe(ours, content), describe(parse(recorded), content));
}

/** Feeds recorded c2e bytes into serveRegistration; returns checks on what it answered. */
async function serverReplay(c2e: Buffer[], e2c: Buffer[], connIndex: number, full: boolean): Promise<void> {
  const s = await socketPair();
  const seen: RegisterConnectionParams[] = [];
  let unregistered = 0;
  const server = serveRegistration(s.b, {
    registerConnection: async (p) => (seen.push(p), recordedDetails(e2c[1]!)),
    unregisterConnection: async () => void unregistered++,
    updateLocalConfiguration: async () => assert.fail('not in the recording'),
  });
  const peer = frameQueue(s.a);
  try {
    // Bootstrap + pipelined registerConnection, sent together as cloudflared does.
    s.a.write(Buffer.concat([c2e[0]!, c2e[1]!]));
    sameMessage(await peer.next(), e2c[0]!, 'cap');
    sameMessage(await peer.next(), e2c[1]!, 'registerResults');
    assert.equal(seen.length, 1);
    assertRecordedRegistration(seen[0]!, connIndex);
    if (!full) return;
    // Finish(0), Finish(1), unregisterConnection on importedCap 0 reusing question 1.
    s.a.write(Buffer.concat(c2e.slice(2, 5)));
    sameMessage(await peer.next(), e2c[2]!, 'empty');
    assert.equal(unregistered, 1);
    // Finish(1), optional Release(0), Abort "rpc: shutdown".
    const ended = once(s.a, 'end');
    s.a.write(Buffer.concat(c2e.slice(5)));
    const reason = await server.closed;
    assert.ok(reason instanceof RpcAbortedError);
    assert.equal(reason.reason, 'rpc: shutdown');
    await ended;
    assert.equal(peer.pending, 0, 'the server sends nothing after the Abort');
  } finally {
    await server.close();
    s.close();
  }
}

/** Drives our RegistrationClient against the recorded e2c bytes; compares every message it sends with c2e. */
async function clientReplay(c2e: Buffer[], e2c: Buffer[], full: boolean): Promise<void> {
  const s = await socketPair();
  const client = new RegistrationClient(s.a);
  const edge = frameQueue(s.b);
  try {
    const registering = client.registerConnection(recordedParams(c2e[1]!));
    sameMessage(await edge.next(), c2e[0]!);
    sameMessage(await edge.next(), c2e[1]!, 'registerParams');
    s.b.write(Buffer.concat([e2c[0]!, e2c[1]!]));
    assert.deepEqual(await registering, recordedDetails(e2c[1]!));
    const details = await registering;
    assert.equal(details.locationName, 'TST');
    assert.equal(details.tunnelIsRemotelyManaged, true);
    sameMessage(await edge.next(), c2e[2]!);
    sameMessage(await edge.next(), c2e[3]!);
    if (!full) return;
    const unregistering = client.unregisterConnection();
    sameMessage(await edge.next(), c2e[4]!, 'empty');
    s.b.write(e2c[2]!);
    await unregistering;
    sameMessage(await edge.next(), c2e[5]!);
    const ended = once(s.b, 'end');
    await client.close();
    // Release(0, 1) is timing-dependent in cloudflared (present in quic/control, absent in http2/control).
    const rest: rpc.Message[] = [];
    await ended;
    while (edge.pending > 0) rest.push(await edge.next());
    const recordedRest = c2e.slice(6).map(parse);
    const withoutRelease = (list: rpc.Message[]) =>
      list.filter((m) => m.which() !== rpc.Message.RELEASE).map((m) => describe(m));
    assert.deepEqual(withoutRelease(rest), withoutRelease(recordedRest));
    assert.deepEqual(describe(rest[0]!), { release: 0, referenceCount: 1 });
  } finally {
    await client.close();
    s.close();
  }
}

for (const proto of ['quic', 'http2']) {
  const dir = `${proto}/control`;
  const c2e = splitFrames(vector(`${dir}/control-c2e.stream.bin`));
  const e2c = splitFrames(vector(`${dir}/control-e2c.stream.bin`));

  test(`${dir}: cloudflared's c2e stream into our registration server yields the recorded answers`, () =>
    serverReplay(c2e, e2c, 0, true));

  test(`${dir}: our RegistrationClient sends cloudflared's messages and accepts the recorded e2c`, () =>
    clientReplay(c2e, e2c, true));

  for (const n of [1, 2, 3]) {
    const haDir = `${proto}-ha4/conn${n}`;
    const c2eHa = [0, 1, 2, 3].map((i) => vector(`${haDir}/control-c2e.${i}.bin`));
    const e2cHa = [0, 1].map((i) => vector(`${haDir}/control-e2c.${i}.bin`));
    test(`${haDir}: registration of conn index ${n} replays both ways`, async () => {
      await serverReplay(c2eHa, e2cHa, n, false);
      await clientReplay(c2eHa, e2cHa, false);
    });
  }
}

test("our client's first two messages match control-c2e.0.bin/.1.bin message by message", async () => {
  const c2e0 = vector('quic/control/control-c2e.0.bin');
  const c2e1 = vector('quic/control/control-c2e.1.bin');
  const s = await socketPair();
  const client = new RegistrationClient(s.a);
  const edge = frameQueue(s.b);
  try {
    void client.registerConnection(recordedParams(c2e1)).catch(() => {});
    const [boot, call] = [await edge.next(), await edge.next()];
    assert.deepEqual(describe(boot), { bootstrap: 0 });
    assert.deepEqual(describe(boot), describe(parse(c2e0)));
    const d = describe(call, 'registerParams');
    assert.deepEqual(d.target, { promisedAnswer: 0, transform: 0 });
    assert.equal(d.interfaceId, 'f71695ec7fe85497');
    assert.equal(d.methodId, 0);
    assert.deepEqual(d, describe(parse(c2e1), 'registerParams'));
  } finally {
    await client.close();
    s.close();
  }
});
