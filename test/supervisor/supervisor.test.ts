/** The run loop against real local edges, with a fake clock for every wait (docs/protocol.md §12). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { pino } from 'pino';
import { LocalEdge, type RegistrationDecision } from '../../src/local-edge/index.js';
import { Orchestrator } from '../../src/orchestration/orchestrator.js';
import { parseTunnelConfig } from '../../src/orchestration/remote-config.js';
import { selectProtocol } from '../../src/supervisor/protocol.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import { resolveTunnelOptions, type TunnelOptions } from '../../src/tunnel-options.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { makeToken } from '../helpers/tunnel-env.js';
import { poolOf } from '../helpers/edge-pool.js';

/** A supervisor with the settings `options` resolve to, on a fake clock. */
function supervisor(
  token: string,
  edges: LocalEdge[],
  clock: FakeClock,
  options: Partial<TunnelOptions> = {},
): Supervisor {
  const resolved = resolveTunnelOptions({
    token,
    caCert: edges[0]!.caPem,
    // cloudflared's (and the CLI's) startup rule, which these tests exercise (§6.7).
    retryUnauthorizedAtStartup: true,
    ...options,
  });
  return new Supervisor({
    settings: resolved.supervisor,
    credentials: resolved.credentials,
    identity: resolved.identity,
    orchestrator: new Orchestrator(parseTunnelConfig('{}')),
    logger: pino({ level: 'silent' }),
    edgePool: poolOf(
      edges.length === 1
        ? Array(resolved.supervisor.haConnections).fill(edges[0]!.address)
        : edges.map((e) => e.address),
    ),
    protocol: selectProtocol('http2', true),
    clock,
  });
}

test('connection 0 registers alone; 1..3 follow one spacing apart (§12.2)', async () => {
  const { token } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token] });
  const clock = new FakeClock();
  const sup = supervisor(token, [edge], clock, { haConnections: 4 });
  const order: number[] = [];
  edge.on('register', (i) => order.push(i.connIndex));
  try {
    await sup.start();
    assert.deepEqual(order, [0]);
    for (let i = 1; i <= 3; i++) {
      await clock.waitForSleeper();
      assert.equal(clock.sleeps.at(-1), 1000, 'spacing is 1 s');
      assert.equal(order.length, i, 'nothing starts before the spacing elapsed');
      const registered = once(edge, 'register');
      clock.advance(1000);
      await registered;
    }
    assert.deepEqual(order, [0, 1, 2, 3]);
  } finally {
    await sup.shutdown(0);
    await edge.close();
  }
});

test('Unauthorized at startup is retried with backoff until the edge accepts (§6.7)', async () => {
  const { token } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token] });
  let refusals = 2;
  const attempts: number[] = [];
  edge.registrationDecider = (req): RegistrationDecision => {
    attempts.push(req.numPreviousAttempts);
    if (refusals-- > 0) return { accept: false, cause: 'Unauthorized: tunnel not found', shouldRetry: false };
    return { accept: true };
  };
  const clock = new FakeClock();
  clock.randoms = [0.999];
  const sup = supervisor(token, [edge], clock, { haConnections: 1 });
  try {
    const started = sup.start();
    for (let i = 0; i < 2; i++) {
      await clock.waitForSleeper();
      clock.advance(60_000);
    }
    const conn = await started;
    assert.equal(conn.connIndex, 0);
    // numPreviousAttempts carries the backoff counter (§6.6).
    assert.deepEqual(attempts, [0, 1, 2]);
    assert.deepEqual(clock.sleeps, [1998, 3996]);
  } finally {
    await sup.shutdown(0);
    await edge.close();
  }
});

test('EDUPCONN rotates to another edge address (§2.6)', async () => {
  const { token } = makeToken();
  const first = await LocalEdge.start({ tunnels: [token] });
  const second = await LocalEdge.start({ tunnels: [token], certs: first.certs });
  first.registrationDecider = () => ({ accept: false, cause: 'EDUPCONN', shouldRetry: true });
  const clock = new FakeClock();
  const sup = supervisor(token, [first, second], clock, { haConnections: 1 });
  const refused = once(first, 'registration_refused');
  try {
    const started = sup.start();
    await refused;
    await clock.waitForSleeper();
    const registered = once(second, 'register');
    clock.advance(60_000);
    await registered;
    const conn = await started;
    assert.equal(conn.connIndex, 0);
    assert.equal(first.connections().length, 0);
    assert.equal(second.connections().length, 1);
  } finally {
    await sup.shutdown(0);
    await first.close();
    await second.close();
  }
});
