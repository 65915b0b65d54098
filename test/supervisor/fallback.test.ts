/** QUIC blocked (no UDP listener at the edge): `auto` falls back to HTTP/2 after §2.6/§3.4's attempt count. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createConnectorIdentity } from '../../src/connection/identity.js';
import { LocalEdge } from '../../src/edge-local/index.js';
import { Orchestrator } from '../../src/orchestration/orchestrator.js';
import { OriginServices } from '../../src/orchestration/origin-services.js';
import { parseTunnelConfig } from '../../src/orchestration/remote-config.js';
import { selectProtocol, type ProtocolOption } from '../../src/supervisor/protocol.js';
import { DEFAULT_MAX_EDGE_ADDR_RETRIES } from '../../src/edge/index.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import { parseToken } from '../../src/token/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { makeToken } from '../helpers/tunnel-env.js';
import { poolOf } from '../helpers/edge-pool.js';

async function run(option: ProtocolOption, attemptsToObserve: number) {
  const { token } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token], transports: { quic: false, http2: true } });
  const clock = new FakeClock();
  const sup = new Supervisor({
    credentials: parseToken(token),
    identity: createConnectorIdentity(),
    orchestrator: new Orchestrator(parseTunnelConfig('{}')),
    origins: new OriginServices(),
    logger: pino({ level: 'silent' }),
    edgePool: poolOf([edge.address]),
    protocol: selectProtocol(option, true),
    caCert: edge.caPem,
    haConnections: 1,
    clock,
    quicHandshakeTimeoutMs: 100,
  });
  const attempts: string[] = [];
  sup.on('reconnecting', (e) => attempts.push(e.protocol));
  const fallbacks: string[] = [];
  sup.on('protocol_fallback', (e) => fallbacks.push(`${e.from}->${e.to}`));
  let connected: string | undefined;
  const started = sup.start().then((c) => (connected = c.protocol));
  started.catch(() => undefined);
  while (connected === undefined && attempts.length < attemptsToObserve) {
    await clock.waitForSleeper(1, () => connected !== undefined);
    if (clock.pending > 0) clock.advance(60_000);
  }
  await sup.shutdown(0);
  await edge.close();
  return { attempts, fallbacks, connected };
}

test('auto: QUIC fails to dial; after max-edge-addr-retries attempts the index switches to HTTP/2 and registers', async () => {
  const { attempts, fallbacks, connected } = await run('auto', 50);
  assert.equal(connected, 'http2');
  assert.deepEqual(fallbacks, ['quic->http2']);
  // cloudflared checks the counter before incrementing it (supervisor/tunnel.go IpAddrFallback): the error *after*
  // --max-edge-addr-retries of them is the one flagged, so 8 + 1 QUIC attempts.
  assert.equal(attempts.filter((p) => p === 'quic').length, DEFAULT_MAX_EDGE_ADDR_RETRIES + 1);
});

test('explicit --protocol quic never falls back', async () => {
  const { attempts, fallbacks, connected } = await run('quic', 12);
  assert.equal(connected, undefined);
  assert.deepEqual(fallbacks, []);
  assert.ok(attempts.length >= 12);
  assert.ok(attempts.every((p) => p === 'quic'));
});
