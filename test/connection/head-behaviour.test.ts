/**
 * Behaviours cftunnel takes from cloudflared HEAD rather than 2023.7.3 (docs/protocol.md §18), each against the real
 * connector on a real QUIC connection to a hostile edge on loopback: the unregistered connection kept for the grace
 * period (§5.3), the RPC-stream serving bound (§7.5), datagram v3 registrations refused with v3's response (§14.2),
 * and the feature list built as HEAD builds it (§14.3, §14.4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Message } from 'capnp-es';
import * as rpc from 'capnp-es/capnp/rpc';
import { V3_RESPONSE, V3_SESSION_REGISTRATION_RESPONSE } from '../../src/connection/datagram-v3.js';
import {
  DEFAULT_CLIENT_VERSION,
  createConnectorIdentity,
  datagramVersionOf,
  selectFeatures,
} from '../../src/connection/identity.js';
import { RPC_STREAM_SIGNATURE } from '../../src/wire/preamble.js';
import { DEFAULT_EDGE_IP_VERSION } from '../../src/edge-discovery/index.js';
import { parseOriginRequest } from '../../src/ingress/origin-request.js';
import { DEFAULT_METRICS_ADDRESS } from '../../src/metrics/listen.js';
import { defaultAccessTeamUrl } from '../../src/proxy/access.js';
import { within as withinMs } from '../interop/event-log.js';
import { openHostileQuicSession, originBody, settledYet, type HostileQuicSession } from '../helpers/hostile-edge.js';

const T = { timeout: 30_000 };
/** Hang guard, not a speed assertion: far above any answer on loopback, below the test timeout. */
const HANG_GUARD_MS = 15_000;

function within<V>(promise: Promise<V>, what: string): Promise<V> {
  return withinMs(promise, HANG_GUARD_MS, `no ${what} within ${HANG_GUARD_MS} ms`);
}

async function withQuicSession(
  overrides: Parameters<typeof openHostileQuicSession>[0],
  body: (s: HostileQuicSession) => Promise<void>,
): Promise<void> {
  const s = await openHostileQuicSession(overrides);
  try {
    await body(s);
  } finally {
    await s.close();
  }
}

test('HEAD defaults: reported version (one constant), --edge-ip-version auto, metrics localhost:0', () => {
  assert.equal(DEFAULT_EDGE_IP_VERSION, 'auto');
  assert.equal(DEFAULT_METRICS_ADDRESS, 'localhost:0');
  assert.equal(DEFAULT_CLIENT_VERSION, '2026.8.2');
  assert.equal(createConnectorIdentity().version, '2026.8.2');
  assert.equal(createConnectorIdentity({ version: '2099.1.0' }).version, '2099.1.0');
});

test('feature list as HEAD builds it (§14.3/§14.4): defaults without management_logs, -F merged, deprecated strings stripped', () => {
  const sorted = (l: readonly string[]): string[] => [...l].sort();
  const defaults = ['allow_remote_config', 'serialized_headers', 'support_datagram_v2', 'support_quic_eof'];
  assert.deepEqual(sorted(selectFeatures()), defaults);
  assert.equal(datagramVersionOf(selectFeatures()), 'v2');
  // v3 asked for: both datagram strings are sent, as HEAD sends them, and v3 is the datagram format.
  const v3 = selectFeatures([
    'support_datagram_v3_2',
    'support_datagram_v3_2',
    'support_datagram_v3',
    'support_datagram_v3_1',
  ]);
  assert.deepEqual(sorted(v3), sorted([...defaults, 'support_datagram_v3_2']));
  assert.equal(datagramVersionOf(v3), 'v3');
  // management_logs is never advertised (the management service is not served); unknown strings pass through.
  assert.deepEqual(
    sorted(selectFeatures(['management_logs', 'future_thing', 'serialized_headers'])),
    sorted([...defaults, 'future_thing']),
  );
  assert.deepEqual(sorted(selectFeatures([], true)), sorted([...defaults, 'postquantum']));
});

test('originRequest.access.environment `fed` selects the FedRAMP Access domain (§10.5, HEAD `ingress/middleware/jwtvalidator.go`)', () => {
  const parsed = parseOriginRequest(
    { access: { required: true, teamName: 'team', audTag: ['aud'], environment: 'fed' } },
    'originRequest',
    'json',
  );
  assert.equal(parsed.access?.environment, 'fed');
  assert.equal(defaultAccessTeamUrl('team', 'fed'), 'https://team.fed.cloudflareaccess.com');
  assert.equal(defaultAccessTeamUrl('team', ''), 'https://team.cloudflareaccess.com');
});

test(
  'quic: after unregisterConnection the connection keeps serving new streams until the edge closes it (HEAD grace period, §5.3)',
  T,
  async () => {
    await withQuicSession({}, async (s) => {
      const shutdown = s.conn.shutdown(60_000);
      await within(s.control.unregistered, 'unregisterConnection');
      // A request the edge routed before it processed the unregistration is still served.
      assert.deepEqual(await within(s.get('/after-unregister'), 'answer after unregister'), {
        status: 200,
        body: originBody('/after-unregister'),
      });
      // Nothing is in flight, yet the connection stays: it is the edge (or the end of the grace period) that ends it.
      assert.equal(await settledYet(shutdown), false, 'the connection is kept after unregistering');
      assert.equal(await settledYet(s.conn.closed), false);
      await s.peer.quic.close(0, '');
      await within(shutdown, 'shutdown after the edge closed');
      assert.equal(await s.conn.closed, undefined, 'a graceful close');
    });
  },
);

test('quic: with no grace period left the connection closes right after unregistering', T, async () => {
  await withQuicSession({}, async (s) => {
    await within(s.conn.shutdown(0), 'shutdown with a zero grace period');
    assert.equal(s.control.unregisterCalls, 1);
    await within(s.edgeClosed, 'close at the edge');
  });
});

test(
  'quic: an RPC stream the edge opens and never finishes is ended by the connector after --rpc-timeout (§7.5)',
  T,
  async () => {
    await withQuicSession({ rpcTimeoutMs: 300 }, async (s) => {
      // Signature only, no Bootstrap, no FIN: before HEAD's bound the connector waited for the edge for ever.
      const outcome = await within(s.peer.exchange(RPC_STREAM_SIGNATURE, { end: false }), 'end of the RPC stream');
      assert.equal(outcome.fin, true, 'the connector ends its side with FIN');
      const abort = new Message(outcome.bytes, false).getRoot(rpc.Message);
      assert.equal(abort.which(), rpc.Message.ABORT);
      assert.equal(abort.abort.reason, 'rpc: shutdown');
      // Only that stream ended.
      assert.deepEqual(await within(s.get('/after-rpc-bound'), 'answer'), {
        status: 200,
        body: originBody('/after-rpc-bound'),
      });
    });
  },
);

/** A v3 UDP session registration (§14.2) for 10.0.0.1:53 with request id `id`. */
function v3Registration(id: Buffer, ipv6 = false): Buffer {
  const ip = ipv6 ? Buffer.alloc(16, 0xfd) : Buffer.from([10, 0, 0, 1]);
  const head = Buffer.from([0x00, ipv6 ? 0x01 : 0x00, 0x00, 0x35, 0x00, 0x1e]);
  return Buffer.concat([head, id, ip]);
}

test(
  'quic: with datagram v3 selected, a UDP session registration is refused with a v3 registration response (§14.2)',
  T,
  async () => {
    const identity = createConnectorIdentity({ features: selectFeatures(['support_datagram_v3_2']) });
    await withQuicSession({ identity }, async (s) => {
      for (const ipv6 of [false, true]) {
        const id = Buffer.from(`0123456789abcde${ipv6 ? '6' : '4'}`);
        const answer = once(s.peer.quic, 'datagram') as Promise<[Buffer]>;
        assert.equal(s.peer.quic.sendDatagram(v3Registration(id, ipv6)), true);
        const [response] = await within(answer, 'registration response');
        assert.equal(response[0], V3_SESSION_REGISTRATION_RESPONSE);
        assert.equal(response[1], V3_RESPONSE.unableToBindSocket);
        assert.deepEqual(response.subarray(2, 18), id);
        assert.equal(response.readUInt16BE(18), 0, 'no error text');
        assert.equal(response.length, 20);
      }
      // The connection keeps serving requests.
      assert.deepEqual(await within(s.get('/after-v3'), 'answer'), { status: 200, body: originBody('/after-v3') });
    });
  },
);
