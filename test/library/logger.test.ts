/** The `logger` option takes any object with pino's level methods, not only a pino instance. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TunnelLogger } from '../../src/index.js';
import { startTunnelEnv } from '../helpers/tunnel-env.js';

test("a hand-written logger (no pino) receives the connector's lines, with their bindings", async () => {
  const lines: Array<{ level: string; bindings: Record<string, unknown>; message: string }> = [];
  const at =
    (level: string) =>
    (a: Record<string, unknown> | string, b?: string): void => {
      lines.push(
        typeof a === 'string' ? { level, bindings: {}, message: a } : { level, bindings: a, message: b ?? '' },
      );
    };
  const logger: TunnelLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const env = await startTunnelEnv({ protocol: 'http2', tunnel: { logger } });
  await env.close();
  const registered = lines.find((l) => l.message === 'Registered tunnel connection');
  assert.ok(registered, lines.map((l) => l.message).join('\n'));
  assert.equal(registered.level, 'info');
  assert.equal(registered.bindings.connIndex, 0);
  assert.ok(lines.some((l) => l.message === 'Unregistered tunnel connection'));
});
