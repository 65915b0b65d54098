import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipTo16Bytes } from '../../src/connection/net-ip.js';

test('IPv4 becomes IPv4-mapped IPv6 like Go net.IP (the vectors send ::ffff:127.0.0.1)', () => {
  assert.equal(ipTo16Bytes('127.0.0.1').toString('hex'), '00000000000000000000ffff7f000001');
  assert.equal(ipTo16Bytes('::ffff:127.0.0.1').toString('hex'), '00000000000000000000ffff7f000001');
});

test('IPv6 forms expand to 16 bytes', () => {
  assert.equal(ipTo16Bytes('::1').toString('hex'), '00000000000000000000000000000001');
  assert.equal(
    ipTo16Bytes('[2606:4700::6810:85e5]').toString('hex'),
    '26064700000000000000000068 1085e5'.replace(' ', ''),
  );
  assert.equal(ipTo16Bytes('fe80::1%eth0').toString('hex'), 'fe800000000000000000000000000001');
  assert.throws(() => ipTo16Bytes('localhost'), TypeError);
});
