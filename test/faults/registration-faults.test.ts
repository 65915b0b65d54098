/**
 * Registration failures (docs/protocol.md §6.7, §12.2): at startup only EDUPCONN and `Unauthorized` are retried on
 * connection 0 (`Unauthorized` when `retryUnauthorizedAtStartup` asks for cloudflared's behaviour, as the CLI does; the
 * library's default rejection is tested in test/library/startup-robustness.test.ts); after the first registration
 * every error retries forever. A registration answered later than the
 * RPC timeout fails with the typed timeout error and is retried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RegistrationDecision } from '../../src/local-edge/types.js';
import { RegistrationError } from '../../src/rpc/tunnel/registration-client.js';
import { RpcTimeoutError } from '../../src/rpc/errors.js';
import { InitialConnectionError } from '../../src/supervisor/supervisor.js';
import { LocalEdge } from '../../src/local-edge/index.js';
import { Tunnel } from '../../src/tunnel.js';
import { makeToken, startTunnelEnv } from '../helpers/tunnel-env.js';
import { nextEvents } from './events.js';

type Reconnecting = [{ connIndex: number; error: Error }];
/** Every wait here is one backoff (< 2 s after a success, < 4 s on the second failure) plus a handshake. */
const T = { timeout: 30_000 };

/** Refuses the next `n` registrations with `refusal`, then accepts. */
function refuseFirst(n: number, refusal: RegistrationDecision): () => RegistrationDecision {
  let left = n;
  return () => (left-- > 0 ? refusal : { accept: true });
}

async function startupWith(protocol: 'quic' | 'http2', refusal: RegistrationDecision) {
  const { token } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token] });
  edge.registrationDecider = refuseFirst(1, refusal);
  const tunnel = new Tunnel({
    token,
    edge: [`127.0.0.1:${edge.address.port}`],
    caCert: edge.caPem,
    protocol,
    haConnections: 1,
    retryUnauthorizedAtStartup: true,
  });
  return {
    edge,
    tunnel,
    async close() {
      await tunnel.close({ graceMs: 0 });
      await edge.close();
    },
  };
}

for (const protocol of ['quic', 'http2'] as const) {
  for (const [label, refusal, code] of [
    ['EDUPCONN', { accept: false, cause: 'EDUPCONN', shouldRetry: true }, 'CFT_ERR_REGISTRATION_DUPLICATE'],
    [
      'Unauthorized',
      { accept: false, cause: 'Unauthorized: tunnel not propagated yet', shouldRetry: false },
      'CFT_ERR_REGISTRATION_REFUSED',
    ],
  ] as const) {
    test(`${protocol}: ${label} at startup is retried on connection 0 until it registers`, T, async () => {
      const env = await startupWith(protocol, refusal);
      try {
        const retried = nextEvents<Reconnecting>(env.tunnel, 'reconnecting', 1);
        const details = await env.tunnel.ready();
        const [event] = (await retried)[0]!;
        assert.ok(event.error instanceof RegistrationError);
        assert.equal(event.error.code, code);
        assert.equal(details.locationName, 'TST');
      } finally {
        await env.close();
      }
    });
  }

  test(`${protocol}: a retryable (non-EDUPCONN) refusal at startup is fatal like cloudflared`, T, async () => {
    const env = await startupWith(protocol, { accept: false, cause: 'server overloaded', shouldRetry: true });
    try {
      await assert.rejects(env.tunnel.ready(), (err: unknown) => {
        assert.ok(err instanceof InitialConnectionError);
        assert.ok(err.cause instanceof RegistrationError);
        assert.equal(err.cause.retryable, true);
        return true;
      });
    } finally {
      await env.close();
    }
  });

  for (const refusals of [
    [
      { accept: false, cause: 'tunnel is deleted', shouldRetry: false },
      { accept: false, cause: 'Unauthorized: Failed to authenticate tunnel', shouldRetry: false },
    ],
    [
      { accept: false, cause: 'server overloaded', shouldRetry: true },
      { accept: false, cause: 'EDUPCONN', shouldRetry: true },
    ],
  ] as const) {
    const causes = refusals.map((r) => r.cause);
    test(
      `${protocol}: after startup, refusals (${causes.join(', ')}) are retried until it registers again`,
      T,
      async () => {
        const env = await startTunnelEnv({ protocol, haConnections: 1 });
        try {
          let i = 0;
          env.edge.registrationDecider = () => refusals[i++] ?? { accept: true };
          // The drop itself, then one reconnecting event per refusal.
          const errors = nextEvents<Reconnecting>(env.tunnel, 'reconnecting', 1 + refusals.length);
          const back = nextEvents(env.tunnel, 'connected', 1);
          env.edge.dropConnection(0);
          await back;
          const seen = (await errors)
            .slice(1)
            .map(([e]) => (e.error instanceof RegistrationError ? e.error.serverCause : e.error.message));
          assert.deepEqual(seen, causes);
        } finally {
          await env.close();
        }
      },
    );
  }

  test(
    `${protocol}: a registration answered after the RPC timeout fails with CFT_ERR_RPC_TIMEOUT and is retried`,
    T,
    async () => {
      const { token } = makeToken();
      const edge = await LocalEdge.start({ tunnels: [token] });
      let release: (() => void) | undefined;
      let first = true;
      edge.registrationDecider = () => {
        if (!first) return { accept: true };
        first = false;
        // Answered only once the connector has given up on it (its 5 s default RPC timeout fired).
        return new Promise<RegistrationDecision>((resolve) => (release = () => resolve({ accept: true })));
      };
      const tunnel = new Tunnel({
        token,
        edge: [`127.0.0.1:${edge.address.port}`],
        caCert: edge.caPem,
        protocol,
        haConnections: 1,
      });
      try {
        const retried = nextEvents<Reconnecting>(tunnel, 'reconnecting', 1);
        const [event] = (await retried)[0]!;
        release?.();
        assert.ok(event.error instanceof RpcTimeoutError, String(event.error));
        assert.equal((event.error as RpcTimeoutError).code, 'CFT_ERR_RPC_TIMEOUT');
        await tunnel.ready();
      } finally {
        await tunnel.close({ graceMs: 0 });
        await edge.close();
      }
    },
  );
}
