/**
 * The connector process survives the edge dropping a connection that carries a WebSocket session. Runs in a child
 * process because the failure mode is the process dying of an unhandled 'error' event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./ws-drop-child.ts', import.meta.url));

function runChild(protocol: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', child, protocol], { timeout: 40_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

for (const protocol of ['quic', 'http2'] as const) {
  test(
    `${protocol}: a connection dropped under an open WebSocket does not crash the connector`,
    { timeout: 60_000 },
    async () => {
      const { code, stdout, stderr } = await runChild(protocol);
      assert.equal(code, 0, stderr.split('\n').slice(0, 6).join('\n'));
      assert.match(stdout, /survived/);
    },
  );
}
