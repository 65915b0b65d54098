/**
 * Per-connection reuse of request AbortControllers (src/connection/abort-pool.ts): a controller comes back only when
 * its signal never aborted and nothing listens to it any more, so no holder is told of a later request's abort.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ABORT_POOL_MAX, AbortControllerPool } from '../../src/connection/abort-pool.js';

test('a finished, unaborted controller with no listeners is handed out again', () => {
  const pool = new AbortControllerPool();
  const first = pool.take();
  const onAbort = (): void => undefined;
  first.signal.addEventListener('abort', onAbort, { once: true });
  first.signal.removeEventListener('abort', onAbort);
  pool.give(first);
  assert.equal(pool.size, 1);
  assert.equal(pool.take(), first);
  assert.equal(pool.size, 0);
  assert.notEqual(pool.take(), first, 'an empty pool makes a new controller');
});

test('an aborted controller is never reused', () => {
  const pool = new AbortControllerPool();
  const aborted = pool.take();
  aborted.abort();
  pool.give(aborted);
  assert.equal(pool.size, 0);
  const next = pool.take();
  assert.notEqual(next, aborted);
  assert.equal(next.signal.aborted, false);
});

test('a controller someone still listens to is not reused', () => {
  const pool = new AbortControllerPool();
  const held = pool.take();
  let told = 0;
  held.signal.addEventListener('abort', () => told++);
  pool.give(held);
  assert.equal(pool.size, 0);
  assert.notEqual(pool.take(), held);
  held.abort();
  assert.equal(told, 1);
});

test(`at most ${ABORT_POOL_MAX} idle controllers are kept`, () => {
  const pool = new AbortControllerPool();
  const many = Array.from({ length: ABORT_POOL_MAX + 5 }, () => pool.take());
  for (const c of many) pool.give(c);
  assert.equal(pool.size, ABORT_POOL_MAX);
});
