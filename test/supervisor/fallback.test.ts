/**
 * UDP to the edge blocked, TCP fine (docs/protocol.md §3.4, cftunnel's rule): `auto` moves to HTTP/2 after the first
 * QUIC dial that says UDP is blocked, retries QUIC in the background and moves back only once a QUIC connection
 * registered; an explicit `--protocol quic` keeps dialling QUIC. Every wait of the run loop is on a fake clock; the
 * QUIC handshake timeout is shortened through the supervisor's option.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { pino } from 'pino';
import { withTestHooks } from '../../src/internal/test-hooks.js';
import { resolveTunnelOptions } from '../../src/tunnel-options.js';
import { LocalEdge, type EdgeConnectionInfo } from '../../src/local-edge/index.js';
import { Orchestrator } from '../../src/orchestration/orchestrator.js';
import { parseTunnelConfig } from '../../src/orchestration/remote-config.js';
import { selectProtocol, type ProtocolOption } from '../../src/supervisor/protocol.js';
import {
  Supervisor,
  UDP_BLOCKED_WARNING,
  quicRecoveryDelayMs,
  type SupervisorEvents,
} from '../../src/supervisor/supervisor.js';
import { quicAvailability } from '../../src/transport/quic/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { makeToken } from '../helpers/tunnel-env.js';
import { poolOf } from '../helpers/edge-pool.js';

const skip = quicAvailability().available ? false : 'QUIC binding unavailable on this platform';
const HA = 4;

type UdpPath = 'blackholed' | 'refused';

/** A UDP socket on the edge's port that reads and drops every datagram: no answer, no ICMP. */
async function blackhole(port: number): Promise<{ socket: Socket; close: () => void }> {
  let closed = false;
  const socket = createSocket('udp4');
  socket.on('message', () => undefined);
  socket.on('close', () => (closed = true));
  socket.bind(port, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, close: () => void (closed || socket.close()) };
}

async function setup(option: ProtocolOption, udp: UdpPath) {
  const { token } = makeToken();
  // QUIC off at the edge: with `refused` nothing listens on its UDP port (the kernel answers ICMP port unreachable);
  // with `blackholed` a silent socket holds it.
  const edge = await LocalEdge.start({ tunnels: [token], transports: { quic: false, http2: true } });
  const hole = udp === 'blackholed' ? await blackhole(edge.address.port) : undefined;
  const clock = new FakeClock();
  const warnings: string[] = [];
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => void warnings.push(JSON.parse(line).msg as string) },
  );
  const resolved = resolveTunnelOptions(
    withTestHooks(
      { token, caCert: edge.caPem, haConnections: HA, retryUnauthorizedAtStartup: true },
      { quicHandshakeTimeoutMs: 300 },
    ),
  );
  const sup = new Supervisor({
    settings: resolved.supervisor,
    credentials: resolved.credentials,
    identity: resolved.identity,
    orchestrator: new Orchestrator(parseTunnelConfig('{}')),
    logger,
    edgePool: poolOf(Array(HA).fill(edge.address)),
    protocol: selectProtocol(option, true),
    clock,
  });
  const dials: Array<SupervisorEvents['dialing'][0]> = [];
  sup.on('dialing', (e) => dials.push(e));
  const fallbacks: string[] = [];
  sup.on('protocol_fallback', (e) => fallbacks.push(`${e.connIndex}:${e.from}->${e.to}`));
  const close = async (): Promise<void> => {
    await sup.shutdown(0);
    hole?.close();
    await edge.close();
  };
  return { edge, hole, clock, sup, dials, fallbacks, warnings, close };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** Starts the supervisor and lets the HA spacing elapse until all four indexes registered. */
async function startAll({ sup, clock, edge }: Setup): Promise<void> {
  await sup.start();
  for (let i = 1; i < HA; i++) {
    // Pending: the HA spacing and the QUIC recovery wait.
    await clock.waitForSleeper(2);
    const registered = once(edge, 'register');
    clock.advance(1000);
    await registered;
  }
}

function quicDialsPerIndex(dials: Setup['dials']): number[] {
  const counts = Array<number>(HA).fill(0);
  for (const d of dials) if (d.protocol === 'quic') counts[d.connIndex]!++;
  return counts;
}

for (const udp of ['blackholed', 'refused'] as const) {
  test(
    `auto, UDP ${udp}: 4 HTTP/2 connections register after one QUIC attempt; QUIC returns once UDP opens, HTTP/2 dropped only after`,
    { skip },
    async () => {
      const s = await setup('auto', udp);
      try {
        await startAll(s);
        assert.deepEqual(
          s.edge.connections().map((c) => `${c.connIndex}:${c.protocol}`),
          ['0:http2', '1:http2', '2:http2', '3:http2'],
        );
        // Index 0 tried QUIC once; the others started on HTTP/2 without trying it.
        assert.deepEqual(quicDialsPerIndex(s.dials), [1, 0, 0, 0]);
        assert.deepEqual(s.fallbacks, ['0:quic->http2']);
        assert.equal(s.warnings.filter((w) => w === UDP_BLOCKED_WARNING).length, 1, 'the UDP warning is logged once');
        // The background recovery waits its first delay before trying QUIC again: nothing was dialled meanwhile.
        assert.deepEqual(s.clock.sleeps.filter((ms) => ms === quicRecoveryDelayMs(0)).length, 1);

        // UDP opens: the edge serves QUIC on its port from now on.
        s.hole?.close();
        await s.edge.enableQuic();
        // Each HTTP/2 connection may unregister only when a QUIC connection of the same index is registered.
        const violations: string[] = [];
        const http2Gone = new Promise<void>((resolve) => {
          let left = HA;
          const onGone = (info: EdgeConnectionInfo): void => {
            if (info.protocol !== 'http2') return;
            const quic = s.edge.connections().some((c) => c.connIndex === info.connIndex && c.protocol === 'quic');
            if (!quic) violations.push(`index ${info.connIndex} lost HTTP/2 before QUIC registered`);
            if (--left === 0) resolve();
          };
          s.edge.on('unregister', onGone);
        });
        const restored: number[] = [];
        s.sup.on('protocol_restored', (e) => restored.push(e.connIndex));
        while (restored.length < HA) {
          await s.clock.waitForSleeper(1, () => restored.length >= HA);
          s.clock.advanceToNext();
        }
        await http2Gone;
        assert.deepEqual(violations, []);
        assert.deepEqual(restored, [0, 1, 2, 3]);
        assert.deepEqual(
          s.edge.connections().map((c) => `${c.connIndex}:${c.protocol}`),
          ['0:quic', '1:quic', '2:quic', '3:quic'],
        );
        assert.deepEqual(
          s.sup.connections.map((c) => c.protocol),
          ['quic', 'quic', 'quic', 'quic'],
        );
      } finally {
        await s.close();
      }
    },
  );

  test(`explicit --protocol quic, UDP ${udp}: keeps dialling QUIC, never HTTP/2`, { skip }, async () => {
    const s = await setup('quic', udp);
    const started = s.sup.start();
    started.catch(() => undefined);
    try {
      const reconnects: string[] = [];
      s.sup.on('reconnecting', (e) => reconnects.push(e.protocol));
      while (reconnects.length < 4) {
        await s.clock.waitForSleeper(1, () => reconnects.length >= 4);
        s.clock.advanceToNext();
      }
      assert.ok(s.dials.length >= 4);
      assert.ok(s.dials.every((d) => d.protocol === 'quic' && d.connIndex === 0));
      assert.deepEqual(s.fallbacks, []);
      assert.equal(s.edge.connections().length, 0);
      assert.ok(!s.warnings.includes(UDP_BLOCKED_WARNING));
    } finally {
      await s.close();
    }
  });
}

test(
  'auto, UDP refused: an HTTP/2 connection that drops before QUIC recovered reconnects on HTTP/2 without a QUIC attempt',
  { skip },
  async () => {
    const s = await setup('auto', 'refused');
    try {
      await startAll(s);
      // Index 2's HTTP/2 connection drops before the recovery ran: it reconnects on HTTP/2 (UDP still looks blocked).
      const back = once(s.edge, 'register');
      s.edge.dropConnection(2);
      await s.clock.waitForSleeper(2);
      s.clock.advance(1000);
      const [info] = (await back) as [EdgeConnectionInfo];
      assert.deepEqual([info.connIndex, info.protocol], [2, 'http2']);
      assert.deepEqual(quicDialsPerIndex(s.dials), [1, 0, 0, 0]);
    } finally {
      await s.close();
    }
  },
);

test(
  'auto, UDP still refused at recovery time: the QUIC attempt fails beside the HTTP/2 connections, which stay; the next attempt waits longer',
  { skip },
  async () => {
    const s = await setup('auto', 'refused');
    try {
      await startAll(s);
      const unregistered: number[] = [];
      s.edge.on('unregister', (info) => unregistered.push(info.connIndex));
      const closed: string[] = [];
      s.edge.on('transport_closed', (info) => closed.push(`${info.connIndex}`));
      const recoveryDials = (): number => s.dials.filter((d) => d.recovery).length;
      s.clock.advanceToNext();
      // The recovery dials QUIC for index 0, is refused, and sleeps again: twice as long.
      await s.clock.waitForSleeper(1);
      assert.equal(recoveryDials(), 1);
      assert.deepEqual(
        s.dials.filter((d) => d.recovery).map((d) => [d.connIndex, d.protocol]),
        [[0, 'quic']],
      );
      assert.equal(s.clock.sleeps.at(-1), quicRecoveryDelayMs(1));
      assert.equal(quicRecoveryDelayMs(1), 2 * quicRecoveryDelayMs(0));
      assert.deepEqual(unregistered, []);
      assert.deepEqual(closed, []);
      assert.deepEqual(
        s.edge.connections().map((c) => `${c.connIndex}:${c.protocol}`),
        ['0:http2', '1:http2', '2:http2', '3:http2'],
      );
    } finally {
      await s.close();
    }
  },
);
