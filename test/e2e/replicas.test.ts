/**
 * Replicas: two `cftunnel run` processes with the same token are two connectors of one tunnel; the edge spreads
 * visitors over every registered connection of both. Killing one (SIGKILL) fails only the requests it had in flight;
 * once the edge saw its connections go, every visitor reaches the other; a restarted replica gets traffic again, and
 * one that leaves gracefully (SIGTERM) gets no new visitors.
 * Each replica tags its requests (`--tag replica=…` → `Cf-Warp-Tag-Replica`, docs/protocol.md §10.6), so the origin
 * sees which replica brought each request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalEdge, type EdgeConnectionInfo } from '../../src/local-edge/index.js';
import { quicAvailability } from '../../src/transport/quic/index.js';
import { spawnCli, stopGracefully, type CliChild } from '../cli/child.js';
import { makeToken } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';

const HA = 2;

/** An origin that counts requests per replica tag and holds `/held` requests until released. */
async function startOrigin() {
  const seen = new Map<string, number>();
  const held: Array<{ replica: string; res: http.ServerResponse }> = [];
  const events = new EventEmitter();
  const server = http.createServer((req, res) => {
    const replica = String(req.headers['cf-warp-tag-replica'] ?? 'none');
    seen.set(replica, (seen.get(replica) ?? 0) + 1);
    if (req.url === '/held') {
      held.push({ replica, res });
      events.emit('held');
      return;
    }
    res.end(replica);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    held,
    async heldCount(n: number): Promise<void> {
      while (held.length < n) await once(events, 'held');
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

for (const protocol of ['http2', 'quic'] as const) {
  const skip =
    protocol === 'quic' && !quicAvailability().available ? 'QUIC binding unavailable on this platform' : false;
  test(
    `${protocol}: two replicas share the visitors; killing one fails only its in-flight requests; it rejoins`,
    { skip, timeout: 150_000 },
    async (t) => {
      const { token } = makeToken();
      const edge = await LocalEdge.start({ tunnels: [token] });
      const origin = await startOrigin();
      const dir = await mkdtemp(join(tmpdir(), 'cftunnel-replicas-'));
      const caPath = join(dir, 'ca.pem');
      await writeFile(caPath, edge.caPem);
      const children: CliChild[] = [];
      t.after(async () => {
        for (const c of children) c.kill();
        await edge.close();
        await origin.close();
        await rm(dir, { recursive: true, force: true });
      });

      /** Starts a replica and resolves once its HA connections registered, with their edge-side infos. */
      const startReplica = async (name: string): Promise<{ child: CliChild; conns: EdgeConnectionInfo[] }> => {
        const conns: EdgeConnectionInfo[] = [];
        const registered = new Promise<void>((resolve) => {
          let clientId: string | undefined;
          const onRegister = (info: EdgeConnectionInfo): void => {
            clientId ??= info.registration.clientId;
            if (info.registration.clientId !== clientId) return;
            conns.push(info);
            if (conns.length === HA) {
              edge.off('register', onRegister);
              resolve();
            }
          };
          edge.on('register', onRegister);
        });
        const address = `${edge.address.host}:${edge.address.port}`;
        const child = spawnCli([
          'run',
          '--token',
          token,
          '--edge',
          address,
          '--edge',
          address,
          '--cacert',
          caPath,
          '--protocol',
          protocol,
          '--ha-connections',
          String(HA),
          '--url',
          origin.url,
          '--tag',
          `replica=${name}`,
          '--output',
          'json',
        ]);
        children.push(child);
        const exited = child.exited.then(() => {
          throw new Error(`replica ${name} exited before registering:\n${child.allOutput()}`);
        });
        await Promise.race([registered, exited]);
        return { child, conns };
      };

      const visitMany = async (n: number): Promise<Map<string, number>> => {
        const got = new Map<string, number>();
        for (let i = 0; i < n; i++) {
          const res = await visit(edge.visitorUrl, { path: `/r${i}` });
          assert.equal(res.status, 200, res.body.toString());
          const replica = res.body.toString();
          got.set(replica, (got.get(replica) ?? 0) + 1);
        }
        return got;
      };

      // Replica a starts alone, then b: one tunnel, four connections, two connectors.
      const a = await startReplica('a');
      const b = await startReplica('b');
      assert.notEqual(a.conns[0]!.registration.clientId, b.conns[0]!.registration.clientId);
      assert.equal(edge.connections().length, 2 * HA);

      // Visitors are spread over all four connections: both replicas serve equally.
      assert.deepEqual(Object.fromEntries(await visitMany(8)), { a: 4, b: 4 });

      // One held request per connection, then replica a dies.
      const inFlight = Array.from({ length: 2 * HA }, () => visit(edge.visitorUrl, { path: '/held' }));
      await origin.heldCount(2 * HA);
      assert.deepEqual(origin.held.map((h) => h.replica).sort(), ['a', 'a', 'b', 'b']);
      const aIds = new Set(a.conns.map((c) => c.id));
      const aGone = new Promise<void>((resolve) => {
        let left = aIds.size;
        edge.on('transport_closed', (info) => {
          if (info.id !== undefined && aIds.has(info.id) && --left === 0) resolve();
        });
      });
      a.child.process.kill('SIGKILL');
      await aGone;
      for (const h of origin.held) if (h.replica === 'b') h.res.end('b');
      const outcomes = await Promise.allSettled(inFlight);
      const statuses = outcomes.map((o) =>
        o.status === 'fulfilled'
          ? `${o.value.status}:${o.value.body.toString().split('\n')[0]!.slice(0, 24)}`
          : 'reset',
      );
      // b's two in-flight requests complete; a's two fail (the edge answers 502, or the visitor sees the reset).
      assert.equal(statuses.filter((s) => s === '200:b').length, 2, statuses.join(', '));
      assert.equal(
        statuses.filter((s) => s !== '200:b' && (s === 'reset' || s.startsWith('502:'))).length,
        2,
        statuses.join(', '),
      );

      // Replica a left: every new visitor reaches b.
      assert.deepEqual(Object.fromEntries(await visitMany(6)), { b: 6 });

      // It rejoins (a new process, a new connector id): traffic reaches both again.
      const again = await startReplica('a');
      assert.deepEqual(Object.fromEntries(await visitMany(8)), { a: 4, b: 4 });

      // A replica that leaves gracefully (SIGTERM: unregister, drain, exit) gets no new visitors either.
      await stopGracefully(again.child);
      assert.deepEqual(
        edge.connections().map((c) => c.registration.clientId),
        Array(HA).fill(b.conns[0]!.registration.clientId),
      );
      assert.deepEqual(Object.fromEntries(await visitMany(4)), { b: 4 });
    },
  );
}
