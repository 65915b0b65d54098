import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  edgeSrvName,
  EdgeDiscoveryOptionError,
  ipVersionForBindAddress,
  orderSrvRecords,
  parseEdgeIpVersion,
  resolveEdgeRegion,
  type SrvRecord,
} from '../../src/edge-discovery/index.js';

const rec = (name: string, priority: number, weight: number): SrvRecord => ({ name, port: 7844, priority, weight });

describe('SRV names and order (§2.1)', () => {
  it('builds the global and regional names', () => {
    assert.equal(edgeSrvName(), '_v2-origintunneld._tcp.argotunnel.com');
    assert.equal(edgeSrvName(''), '_v2-origintunneld._tcp.argotunnel.com');
    assert.equal(edgeSrvName('us'), '_us-v2-origintunneld._tcp.argotunnel.com');
    assert.equal(edgeSrvName('fed'), '_fed-v2-origintunneld._tcp.argotunnel.com');
  });

  it('takes the region from --region or the token endpoint, never both', () => {
    assert.equal(resolveEdgeRegion('us', undefined), 'us');
    assert.equal(resolveEdgeRegion(undefined, 'fed'), 'fed');
    assert.equal(resolveEdgeRegion('', ''), undefined);
    assert.throws(() => resolveEdgeRegion('us', 'fed'), {
      message: 'region provided with a token that has an endpoint',
    });
  });

  it('sorts by priority, then orders each priority by weighted random picks', () => {
    const records = [rec('p2', 2, 0), rec('a', 1, 10), rec('b', 1, 30)];
    // Total weight 40: a pick below 10 chooses a, otherwise b.
    assert.deepEqual(
      orderSrvRecords(records, () => 0.1).map((r) => r.name),
      ['a', 'b', 'p2'],
    );
    assert.deepEqual(
      orderSrvRecords(records, () => 0.5).map((r) => r.name),
      ['b', 'a', 'p2'],
    );
    assert.deepEqual(
      orderSrvRecords([rec('x', 1, 0), rec('y', 1, 0)], () => 0.9).map((r) => r.name),
      ['x', 'y'],
      'zero weights keep their order',
    );
    assert.deepEqual(
      records.map((r) => r.name),
      ['p2', 'a', 'b'],
      'input untouched',
    );
  });
});

describe('IP version options (§2.4)', () => {
  it('accepts 4, 6 and auto only', () => {
    assert.equal(parseEdgeIpVersion('4'), '4');
    assert.equal(parseEdgeIpVersion('auto'), 'auto');
    assert.throws(
      () => parseEdgeIpVersion('5'),
      (err: unknown) =>
        err instanceof EdgeDiscoveryOptionError && err.message === 'invalid value for edge-ip-version: 5',
    );
  });

  it('lets --edge-bind-address force the family, warning on contradiction', () => {
    assert.deepEqual(ipVersionForBindAddress('auto', undefined), { ipVersion: 'auto', warning: undefined });
    assert.deepEqual(ipVersionForBindAddress('auto', '127.0.0.1'), { ipVersion: '4', warning: undefined });
    assert.deepEqual(ipVersionForBindAddress('6', '127.0.0.1'), {
      ipVersion: '4',
      warning: 'IPv4 bind address is specified, but edge-ip-version is IPv6',
    });
    assert.deepEqual(ipVersionForBindAddress('4', '::1'), {
      ipVersion: '6',
      warning: 'IPv6 bind address is specified, but edge-ip-version is IPv4',
    });
    assert.throws(() => ipVersionForBindAddress('auto', 'localhost'), {
      message: 'invalid value for edge-bind-address: localhost',
    });
  });
});
