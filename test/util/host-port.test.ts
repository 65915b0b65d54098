import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { joinHostPort, splitGoHostPort, splitHostPort } from '../../src/util/host-port.js';

describe('splitHostPort', () => {
  it("follows Go's rules with a numeric port", () => {
    assert.deepEqual(splitHostPort('localhost:2000'), { host: 'localhost', port: 2000 });
    assert.deepEqual(splitHostPort('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(splitHostPort(':2000'), { host: '', port: 2000 });
    for (const bad of ['localhost', '::1:80', '[::1]80', 'h:', 'h:70000', 'h:http'])
      assert.equal(splitHostPort(bad), undefined, bad);
  });
});

describe('splitGoHostPort', () => {
  it('returns the port text as Go does, empty or named', () => {
    assert.deepEqual(splitGoHostPort('example.com:'), { host: 'example.com', port: '' });
    assert.deepEqual(splitGoHostPort('example.com:http'), { host: 'example.com', port: 'http' });
    assert.deepEqual(splitGoHostPort('[fe80::1%eth0]:443'), { host: 'fe80::1%eth0', port: '443' });
  });
  it('rejects what net.SplitHostPort rejects', () => {
    // missing port, too many colons, missing ']', text after ']', stray brackets
    for (const bad of [
      'example.com',
      '::1',
      '[::1',
      '[::1]x:80',
      '[::1]:80:90',
      'a[b:80',
      'a]b:80',
      '[a[b]:80',
      '[a]:8]0',
    ]) {
      assert.equal(splitGoHostPort(bad), undefined, bad);
    }
  });
});

describe('joinHostPort', () => {
  it('brackets IPv6 literals only', () => {
    assert.equal(joinHostPort('::1', 80), '[::1]:80');
    assert.equal(joinHostPort('127.0.0.1', '8080'), '127.0.0.1:8080');
  });
});
