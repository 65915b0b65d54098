import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCliLogger, formatConsoleLine, rfc3339 } from '../../src/cli/logger.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogFileError, exitCodeFor } from '../../src/cli/errors.js';
import { errorText } from '../../src/errors.js';

function capture(isTTY: boolean): { sink: { write(s: string): boolean; isTTY: boolean }; text(): string } {
  const chunks: string[] = [];
  return { sink: { write: (s: string) => chunks.push(s) > 0, isTTY }, text: () => chunks.join('') };
}

test('console lines look like cloudflared: time, level abbreviation, message, sorted key=value', () => {
  const line = formatConsoleLine(
    JSON.stringify({
      level: 'info',
      time: '2026-11-25T16:00:00Z',
      message: 'Registered tunnel connection',
      protocol: 'quic',
      location: 'TST',
      ip: '127.0.0.1',
      event: 0,
      connection: 'c0ffee',
      connIndex: 0,
    }),
  );
  assert.equal(
    line,
    '2026-11-25T16:00:00Z INF Registered tunnel connection connIndex=0 connection=c0ffee event=0 ip=127.0.0.1 location=TST protocol=quic\n',
  );
});

test('level abbreviations, quoting and error fields', () => {
  const f = (rec: object): string => formatConsoleLine(JSON.stringify({ time: 'T', message: 'm', ...rec }));
  assert.equal(f({ level: 'debug' }), 'T DBG m\n');
  assert.equal(f({ level: 'warn' }), 'T WRN m\n');
  assert.equal(
    f({ level: 'error', err: { type: 'Error', message: 'dial failed', stack: 'x' } }),
    'T ERR m error="dial failed"\n',
  );
  assert.equal(f({ level: 'fatal', path: 'a b', obj: { k: 1 } }), 'T FTL m obj={"k":1} path="a b"\n');
});

test('rfc3339 has second precision in UTC', () => {
  assert.equal(rfc3339(new Date(Date.UTC(2026, 10, 25, 16, 0, 0, 789))), '2026-11-25T16:00:00Z');
});

test('the logger writes console lines on a TTY and on a pipe alike; only --output json switches to JSON', () => {
  const tty = capture(true);
  createCliLogger({ level: 'info', output: undefined, stderr: tty.sink }).info({ connIndex: 1 }, 'hello');
  assert.match(tty.text(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INF hello connIndex=1\n$/);

  const pipe = capture(false);
  const logger = createCliLogger({ level: 'info', output: undefined, stderr: pipe.sink });
  logger.info({ connIndex: 1 }, 'hello');
  logger.debug('hidden at info');
  assert.match(pipe.text(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INF hello connIndex=1\n$/);

  const forced = capture(false);
  createCliLogger({ level: 'warn', output: 'default', stderr: forced.sink }).warn('w');
  assert.match(forced.text(), / WRN w\n$/);
  for (const isTTY of [true, false]) {
    const json = capture(isTTY);
    createCliLogger({ level: 'info', output: 'json', stderr: json.sink }).info({ connIndex: 1 }, 'j');
    const rec = JSON.parse(json.text()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(rec).sort(), ['connIndex', 'level', 'message', 'time']);
    assert.equal(rec.message, 'j');
  }
});

test('a --logfile that cannot be opened fails with LogFileError naming the flag and the path (exit code 1)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cftunnel-logfile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A regular file where the log file's directory should be: neither created nor opened.
  writeFileSync(join(dir, 'file'), '');
  const path = join(dir, 'file', 'cftunnel.log');
  assert.throws(
    () => createCliLogger({ level: 'info', output: undefined, logFile: path, stderr: { write: () => true } }),
    (e: unknown) => {
      assert.ok(e instanceof LogFileError);
      assert.equal(e.code, 'CFT_ERR_LOG_FILE');
      assert.equal(e.message, `cannot open --logfile ${path}`);
      assert.match(errorText(e), /^cannot open --logfile .*: E[A-Z]+: /);
      assert.equal(exitCodeFor(e), 1);
      return true;
    },
  );
});
