import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../src/supervisor/backoff.js';
import { FakeClock } from '../helpers/fake-clock.js';

test('waits are uniform in [0, base·2^retries) and the exponent caps at --retries (docs/protocol.md §12.3)', () => {
  const clock = new FakeClock();
  clock.randoms = [0.999999];
  const backoff = new Backoff(5, 1000, clock);
  const delays = Array.from({ length: 8 }, () => backoff.nextDelayMs());
  // Just under 2 s, 4 s, 8 s, 16 s, 32 s, then 32 s forever.
  assert.deepEqual(delays, [1999, 3999, 7999, 15999, 31999, 31999, 31999, 31999]);
  assert.equal(backoff.retries, 5);
  assert.equal(backoff.reachedMaxRetries, true);
});

test('jitter uses the random source: 0 gives no wait', () => {
  const clock = new FakeClock();
  clock.randoms = [0];
  const backoff = new Backoff(5, 1000, clock);
  assert.equal(backoff.nextDelayMs(), 0);
  assert.equal(backoff.retries, 1);
});

test('the announced maximum is base·2^(retries+1) before the wait, and 1 s right after a reset', () => {
  const clock = new FakeClock();
  const backoff = new Backoff(5, 1000, clock);
  assert.equal(backoff.announcedMaxMs, 2000);
  backoff.nextDelayMs();
  assert.equal(backoff.announcedMaxMs, 4000);
  backoff.reset();
  assert.equal(backoff.retries, 0);
  assert.equal(backoff.announcedMaxMs, 1000);
});

test('success resets the counter at once (HEAD), so numPreviousAttempts goes back to 0', () => {
  const clock = new FakeClock();
  const backoff = new Backoff(5, 1000, clock);
  backoff.nextDelayMs();
  backoff.nextDelayMs();
  assert.equal(backoff.retries, 2);
  backoff.reset();
  assert.equal(backoff.retries, 0);
  clock.randoms = [0.999999];
  assert.equal(backoff.nextDelayMs(), 1999);
});

test('wait() sleeps the computed delay on the injected clock and returns early on abort', async () => {
  const clock = new FakeClock();
  clock.randoms = [0.5];
  const backoff = new Backoff(5, 1000, clock);
  const waiting = backoff.wait();
  assert.deepEqual(clock.sleeps, [1000]);
  clock.advance(999);
  assert.equal(clock.pending, 1);
  clock.advance(1);
  await waiting;
  const abort = new AbortController();
  const second = backoff.wait(abort.signal);
  abort.abort();
  await second;
  assert.equal(clock.pending, 0);
});
