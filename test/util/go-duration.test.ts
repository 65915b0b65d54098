import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurationSyntaxError, formatGoDuration, parseGoDuration } from '../../src/util/go-duration.js';

test('parses Go duration syntax into milliseconds', () => {
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1h2m3s', 3_723_000],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1.s', 1_000],
    ['250ms', 250],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['1500μs', 1.5],
    ['2000000ns', 2],
    ['+5s', 5_000],
    ['-5s', -5_000],
    ['3m0s', 180_000],
    ['0s', 0],
  ];
  for (const [text, ms] of cases) assert.equal(parseGoDuration(text), ms, text);
});

test('rejects what Go rejects', () => {
  for (const text of [
    '',
    '-',
    '30',
    '1.5',
    's',
    '.s',
    '1x',
    '1sm',
    '1 s',
    ' 1s',
    '1s ',
    '1S',
    '1d',
    '--1s',
    '1m-30s',
  ]) {
    assert.throws(() => parseGoDuration(text), DurationSyntaxError, JSON.stringify(text));
  }
});

test('the syntax error names the text and has a stable code', () => {
  assert.throws(
    () => parseGoDuration('ten seconds'),
    (err: unknown) => {
      assert.ok(err instanceof DurationSyntaxError);
      assert.equal(err.code, 'CFT_ERR_DURATION_SYNTAX');
      assert.match(err.message, /"ten seconds"/);
      return true;
    },
  );
});

test('formats milliseconds like Go prints durations', () => {
  assert.equal(formatGoDuration(0), '0s');
  assert.equal(formatGoDuration(250), '250ms');
  assert.equal(formatGoDuration(30_000), '30s');
  assert.equal(formatGoDuration(90_000), '1m30s');
  assert.equal(formatGoDuration(3_723_000), '1h2m3s');
  assert.equal(formatGoDuration(1_500), '1.5s');
  for (const ms of [0, 250, 1_500, 90_000, 3_723_000]) assert.equal(parseGoDuration(formatGoDuration(ms)), ms);
});
