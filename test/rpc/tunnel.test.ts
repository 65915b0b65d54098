/** Our typed tunnel RPC clients against our typed servers over loopback TCP. */
import { test } from 'node:test';
import type { Socket } from 'node:net';
import assert from 'node:assert/strict';
import type { RpcConnection } from '../../src/rpc/connection.js';
import { RpcExceptionError, RpcTimeoutError } from '../../src/rpc/errors.js';
import type {
  ConnectionErrorInfo,
  RegisterConnectionParams,
  RegisterUdpSessionParams,
} from '../../src/rpc/tunnel/codec.js';
import { CloudflaredClient } from '../../src/rpc/tunnel/cloudflared-client.js';
import { serveCloudflared, type CloudflaredHandlers } from '../../src/rpc/tunnel/cloudflared-server.js';
import { RegistrationClient, RegistrationError } from '../../src/rpc/tunnel/registration-client.js';
import { serveRegistration, type RegistrationHandlers } from '../../src/rpc/tunnel/registration-server.js';
import { socketPair } from './net-helper.js';

const PARAMS: RegisterConnectionParams = {
  accountTag: 'acct',
  tunnelSecret: Buffer.alloc(32, 7),
  tunnelId: Buffer.alloc(16, 1),
  connIndex: 2,
  clientId: Buffer.alloc(16, 2),
  features: ['a', 'b'],
  version: '2026.1.0',
  arch: 'linux_arm64',
  originLocalIp: Buffer.from('00000000000000000000ffff0a000001', 'hex'),
  replaceExisting: true,
  compressionQuality: 3,
  numPreviousAttempts: 4,
};

/** One of our typed servers on one end of a loopback TCP connection, one of our typed clients on the other. */
async function loopback<C extends { close(): Promise<void> }>(
  serve: (stream: Socket) => RpcConnection,
  makeClient: (stream: Socket) => C,
): Promise<{ client: C; dispose: () => Promise<void> }> {
  const s = await socketPair();
  const server = serve(s.b);
  const client = makeClient(s.a);
  return {
    client,
    async dispose() {
      await client.close();
      await server.close();
      s.close();
    },
  };
}

function registration(handlers: Partial<RegistrationHandlers>) {
  const all: RegistrationHandlers = {
    registerConnection: async () => ({
      uuid: Buffer.alloc(16, 9),
      locationName: 'ams01',
      tunnelIsRemotelyManaged: false,
    }),
    unregisterConnection: async () => {},
    updateLocalConfiguration: async () => {},
    ...handlers,
  };
  return loopback(
    (s) => serveRegistration(s, all),
    (s) => new RegistrationClient(s),
  );
}

test('registerConnection round-trips every argument and the ConnectionDetails', async () => {
  let seen: RegisterConnectionParams | undefined;
  const configs: Buffer[] = [];
  let unregistered = false;
  const r = await registration({
    registerConnection: async (p) => (
      (seen = p),
      { uuid: Buffer.alloc(16, 9), locationName: 'ams01', tunnelIsRemotelyManaged: false }
    ),
    updateLocalConfiguration: async (c) => void configs.push(c),
    unregisterConnection: async () => void (unregistered = true),
  });
  try {
    const details = await r.client.registerConnection(PARAMS, { timeoutMs: 10_000 });
    assert.deepEqual(details, { uuid: Buffer.alloc(16, 9), locationName: 'ams01', tunnelIsRemotelyManaged: false });
    assert.deepEqual(seen, PARAMS);
    await r.client.updateLocalConfiguration(Buffer.from('{"ingress":[]}'));
    assert.deepEqual(configs, [Buffer.from('{"ingress":[]}')]);
    await r.client.unregisterConnection();
    assert.equal(unregistered, true);
  } finally {
    await r.dispose();
  }
});

const refusals: [string, ConnectionErrorInfo, Partial<RegistrationError>][] = [
  [
    'EDUPCONN',
    { cause: 'EDUPCONN', retryAfterNs: 0n, shouldRetry: true },
    { isDuplicateConnection: true, code: 'CFT_ERR_REGISTRATION_DUPLICATE', retryable: true },
  ],
  [
    'Unauthorized',
    { cause: 'Unauthorized: tunnel not found', retryAfterNs: 2_000_000_000n, shouldRetry: false },
    { isUnauthorized: true, isDuplicateConnection: false, retryable: false, retryAfterMs: 2000 },
  ],
  [
    'near-EDUPCONN',
    { cause: 'EDUPCONN ', retryAfterNs: 0n, shouldRetry: false },
    { isDuplicateConnection: false, code: 'CFT_ERR_REGISTRATION_REFUSED' },
  ],
];
for (const [label, error, expected] of refusals) {
  test(`a ConnectionError (${label}) rejects with a RegistrationError carrying its fields`, async () => {
    const r = await registration({ registerConnection: async () => ({ error }) });
    try {
      await assert.rejects(r.client.registerConnection(PARAMS), (e: unknown) => {
        assert.ok(e instanceof RegistrationError);
        assert.equal(e.serverCause, error.cause);
        assert.equal(e.shouldRetry, error.shouldRetry);
        assert.equal(e.retryAfterNs, error.retryAfterNs);
        for (const [k, v] of Object.entries(expected)) assert.equal(e[k as keyof RegistrationError], v, k);
        return true;
      });
    } finally {
      await r.dispose();
    }
  });
}

test('registerConnection times out against an edge that never answers', async () => {
  const r = await registration({ registerConnection: () => new Promise(() => {}) });
  try {
    await assert.rejects(r.client.registerConnection(PARAMS, { timeoutMs: 30 }), RpcTimeoutError);
  } finally {
    await r.dispose();
  }
});

function cloudflared(handlers: CloudflaredHandlers) {
  return loopback(
    (s) => serveCloudflared(s, handlers),
    (s) => new CloudflaredClient(s),
  );
}

test('updateConfiguration passes version/config and returns latestAppliedVersion and err (null or text)', async () => {
  const seen: [number, string][] = [];
  const c = await cloudflared({
    updateConfiguration: async (version, config) => {
      seen.push([version, config.toString()]);
      return version === 7
        ? { latestAppliedVersion: 6, err: 'bad ingress' }
        : { latestAppliedVersion: version, err: null };
    },
  });
  try {
    assert.deepEqual(await c.client.updateConfiguration(6, Buffer.from('{}')), { latestAppliedVersion: 6, err: null });
    assert.deepEqual(await c.client.updateConfiguration(7, Buffer.from('{"x":1}')), {
      latestAppliedVersion: 6,
      err: 'bad ingress',
    });
    assert.deepEqual(seen, [
      [6, '{}'],
      [7, '{"x":1}'],
    ]);
  } finally {
    await c.dispose();
  }
});

test('registerUdpSession / unregisterUdpSession round-trip; a throwing handler becomes a remote exception', async () => {
  const sessions: RegisterUdpSessionParams[] = [];
  const closed: string[] = [];
  const c = await cloudflared({
    updateConfiguration: async () => assert.fail('not called'),
    registerUdpSession: async (p) => {
      sessions.push(p);
      if (p.dstPort === 0) throw new Error('no port');
      return { err: null, spans: Buffer.from([1, 2]) };
    },
    unregisterUdpSession: async (p) => void closed.push(`${p.sessionId.toString('hex')}:${p.message}`),
  });
  try {
    const params: RegisterUdpSessionParams = {
      sessionId: Buffer.alloc(16, 0xab),
      dstIp: Buffer.from([10, 0, 0, 1]),
      dstPort: 53,
      closeAfterIdleHintNs: 210_000_000_000n,
      traceContext: 'trace',
    };
    assert.deepEqual(await c.client.registerUdpSession(params), { err: null, spans: Buffer.from([1, 2]) });
    assert.deepEqual(sessions[0], params);
    await c.client.unregisterUdpSession({ sessionId: params.sessionId, message: 'idle' });
    assert.deepEqual(closed, [`${'ab'.repeat(16)}:idle`]);
    await assert.rejects(c.client.registerUdpSession({ ...params, dstPort: 0 }), (e: unknown) => {
      assert.ok(e instanceof RpcExceptionError);
      assert.equal(e.type, 'failed');
      assert.equal(e.reason, 'no port');
      return true;
    });
  } finally {
    await c.dispose();
  }
});

test('UDP session methods without a handler answer unimplemented', async () => {
  const c = await cloudflared({ updateConfiguration: async () => ({ latestAppliedVersion: 1, err: null }) });
  try {
    await assert.rejects(c.client.unregisterUdpSession({ sessionId: Buffer.alloc(16), message: '' }), (e: unknown) => {
      assert.ok(e instanceof RpcExceptionError);
      assert.equal(e.type, 'unimplemented');
      return true;
    });
  } finally {
    await c.dispose();
  }
});
