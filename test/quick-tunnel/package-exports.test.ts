/** The untun-compatible entry resolves as users import it, `cftunnel/untun`, from the built package. */
import { test } from 'node:test';
import assert from 'node:assert/strict';

test("import { startTunnel } from 'cftunnel/untun' resolves to the built entry; 'cftunnel' exports startQuickTunnel", async () => {
  const untun = (await import('cftunnel/untun')) as Record<string, unknown>;
  assert.equal(typeof untun.startTunnel, 'function');
  const main = (await import('cftunnel')) as Record<string, unknown>;
  assert.equal(typeof main.startQuickTunnel, 'function');
  assert.equal(typeof main.QuickTunnelRefusedError, 'function');
});
