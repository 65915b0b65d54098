/** A QUIC connection dropped by the edge reconnects from the same local UDP port (docs/protocol.md §5.2). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { EdgeConnectionInfo } from '../../src/local-edge/index.js';
import { startTunnelEnv } from '../helpers/tunnel-env.js';

test('quic: the reconnect of an index reuses its local UDP port', async () => {
  const env = await startTunnelEnv({ protocol: 'quic' });
  try {
    const before = env.edge.connections()[0]!.remoteAddress;
    const registered = once(env.edge, 'register') as Promise<[EdgeConnectionInfo]>;
    env.edge.dropAll();
    const [after] = await registered;
    assert.equal(after.connIndex, 0);
    assert.equal(after.remoteAddress, before);
  } finally {
    await env.close();
  }
});
