/**
 * The connector options built from `originRequest` (docs/protocol.md §10.5), for what an end-to-end test cannot show
 * on a single-stack loopback: the dual-stack racing policy and Go's special values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ORIGIN_REQUEST_DEFAULTS } from '../../src/ingress/origin-request.js';
import { GO_DEFAULT_TCP_KEEPALIVE_MS, originDialOptions } from '../../src/proxy/dial-options.js';
import { GO_DEFAULT_MAX_IDLE_CONNS_PER_HOST, idleConnectionCap } from '../../src/proxy/idle-cap.js';

test("defaults: 30 s connect timeout, 30 s keep-alive, families raced with Node's attempt delay", () => {
  assert.deepEqual(originDialOptions(ORIGIN_REQUEST_DEFAULTS), {
    timeout: 30_000,
    keepAlive: true,
    keepAliveInitialDelay: 30_000,
    autoSelectFamily: true,
  });
});

test('noHappyEyeballs: every address is still tried, but the next only after the previous failed', () => {
  const o = originDialOptions({ ...ORIGIN_REQUEST_DEFAULTS, noHappyEyeballs: true, connectTimeout: 5 });
  assert.equal(o.autoSelectFamily, true);
  assert.equal(o.autoSelectFamilyAttemptTimeout, 5_000, 'an attempt is abandoned only when the whole budget is spent');
  const unbounded = originDialOptions({ ...ORIGIN_REQUEST_DEFAULTS, noHappyEyeballs: true, connectTimeout: 0 });
  assert.equal(unbounded.timeout, 0, 'Go: zero Dialer.Timeout = no deadline');
  assert.equal(unbounded.autoSelectFamilyAttemptTimeout, 2 ** 31 - 1);
});

test("tcpKeepAlive: 0 takes Go's 15 s default, negative disables keep-alive", () => {
  assert.equal(
    originDialOptions({ ...ORIGIN_REQUEST_DEFAULTS, tcpKeepAlive: 0 }).keepAliveInitialDelay,
    GO_DEFAULT_TCP_KEEPALIVE_MS,
  );
  const off = originDialOptions({ ...ORIGIN_REQUEST_DEFAULTS, tcpKeepAlive: -1 });
  assert.equal(off.keepAlive, false);
  assert.equal(originDialOptions({ ...ORIGIN_REQUEST_DEFAULTS, tcpKeepAlive: 7 }).keepAliveInitialDelay, 7_000);
});

test("keepAliveConnections: N idle kept; 0 = Go's per-host default 2; negative keeps none", () => {
  assert.equal(idleConnectionCap(100), 100);
  assert.equal(idleConnectionCap(1), 1);
  assert.equal(idleConnectionCap(0), GO_DEFAULT_MAX_IDLE_CONNS_PER_HOST);
  assert.equal(idleConnectionCap(-3), 0);
});
