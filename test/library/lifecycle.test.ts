/** The library is safe inside a host application: close() leaves no handles, an AbortSignal aborts startup. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalEdge } from '../../src/local-edge/index.js';
import { Tunnel, startTunnel } from '../../src/index.js';
import { makeToken, startOrigin } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';
import { withTestHooks } from '../../src/internal/test-hooks.js';

/**
 * Live handles by type. Pending fs requests (`FSReqCallback`) are operations in progress, not handles anything could
 * leak, and come and go with whatever else the process does (seen on Node 24 between two snapshots): not counted.
 */
function handleCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of process.getActiveResourcesInfo()) {
    if (name === 'FSReqCallback') continue;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/** Lets already-closed handles finish closing (close callbacks run on the next turns of the loop). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

for (const protocol of ['quic', 'http2'] as const) {
  test(`${protocol}: close() inside a host app leaves no handles behind`, async () => {
    const { token } = makeToken();
    const edge = await LocalEdge.start({ tunnels: [token] });
    const origin = await startOrigin((_req, res) => res.end('ok'));
    await settle();
    const before = handleCounts();
    const tunnel = await startTunnel(
      withTestHooks(
        {
          token,
          url: origin.url,
          edge: [`127.0.0.1:${edge.address.port}`, `127.0.0.1:${edge.address.port}`],
          caCert: edge.caPem,
          protocol,
          metrics: '127.0.0.1:0',
        },
        { haSpacingMs: 0 },
      ),
    );
    assert.equal((await visit(edge.visitorUrl)).body.toString(), 'ok');
    // The edge's side of each connection keeps its own timers until it has seen the close (QUIC draining).
    const edgeSawClose = new Promise<void>((resolve) => {
      let n = 0;
      edge.on('transport_closed', () => ++n === 2 && resolve());
    });
    await tunnel.close({ graceMs: 1000 });
    await edgeSawClose;
    await settle();
    assert.deepEqual([...handleCounts()].sort(), [...before].sort());
    await origin.close();
    await edge.close();
    assert.deepEqual(unhandled, []);
  });
}

test('an AbortSignal aborts a startup that is still retrying, cleanly', async (t) => {
  const { token } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token] });
  // Closed even when an assertion fails: an open edge would keep the test file's process alive.
  let edgeClosed = false;
  t.after(() => (edgeClosed ? undefined : edge.close()));
  // "Unauthorized" is retried forever at startup (docs/protocol.md §6.7): only the signal can end it.
  edge.registrationDecider = () => ({ accept: false, cause: 'Unauthorized: not yet', shouldRetry: false });
  await settle();
  const before = handleCounts();
  const abort = new AbortController();
  const tunnel = new Tunnel({
    token,
    edge: [`127.0.0.1:${edge.address.port}`],
    caCert: edge.caPem,
    protocol: 'http2',
    signal: abort.signal,
    retryUnauthorizedAtStartup: true,
  });
  await new Promise<void>((resolve) => edge.once('registration_refused', () => resolve()));
  abort.abort();
  await assert.rejects(tunnel.ready(), (err: unknown) => (err as { code?: string }).code === 'CFT_ERR_ABORTED');
  await tunnel.close();
  await settle();
  assert.deepEqual([...handleCounts()].sort(), [...before].sort());
  edgeClosed = true;
  await edge.close();
  assert.deepEqual(unhandled, []);
});
