import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EdgeAddressPool,
  NoFreeEdgeAddressError,
  SECONDARY_SET_TIMEOUT_MS,
  type EdgeAddress,
} from '../../src/edge-discovery/index.js';

const v4 = (n: number): EdgeAddress => ({ host: `198.41.192.${n}`, port: 7844, family: 4 });
const v6 = (n: number): EdgeAddress => ({ host: `2606:4700:a0::${n}`, port: 7844, family: 6 });

/** A scripted random source: returns the values in turn, then repeats the last. */
function scripted(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

function regionOf(addr: EdgeAddress, r1: readonly EdgeAddress[]): 1 | 2 {
  return r1.includes(addr) ? 1 : 2;
}

describe('EdgeAddressPool address assignment (§2.5)', () => {
  it('spreads four HA connections 2+2 across the regions, whatever the coin flips', () => {
    for (const coin of [0, 0.99]) {
      const r1 = [v4(1), v4(2), v4(3), v4(4)];
      const r2 = [v4(11), v4(12), v4(13), v4(14)];
      const pool = new EdgeAddressPool(r1, r2, { random: scripted(coin) });
      const regions = [0, 1, 2, 3].map((i) => regionOf(pool.getAddr(i), r1));
      assert.notEqual(regions[0], regions[1]);
      assert.notEqual(regions[2], regions[3]);
      assert.equal(regions.filter((r) => r === 1).length, 2);
      const hosts = new Set([0, 1, 2, 3].map((i) => pool.getAddr(i).host));
      assert.equal(hosts.size, 4, 'each connection has its own address');
    }
  });

  it('gives a connection the address it already holds', () => {
    const pool = new EdgeAddressPool([v4(1), v4(2)], [v4(11), v4(12)]);
    const first = pool.getAddr(3);
    assert.equal(pool.getAddr(3), first);
    assert.equal(pool.addrUsedBy(3), first);
    assert.equal(pool.capacity, 3);
  });

  it('prefers the region with more free addresses', () => {
    const r1 = [v4(1)];
    const r2 = [v4(11), v4(12), v4(13)];
    const pool = new EdgeAddressPool(r1, r2, { random: scripted(0) });
    assert.equal(regionOf(pool.getAddr(0), r1), 2);
    assert.equal(regionOf(pool.getAddr(1), r1), 2, 'region 2 still has 2 free against 1');
  });

  it("throws cloudflared's error when no address is free, and caps HA connections with its message", () => {
    const pool = new EdgeAddressPool([v4(1)], [v4(11)]);
    assert.deepEqual(pool.capHaConnections(4), {
      haConnections: 2,
      message: 'You requested 4 HA connections but I can give you at most 2.',
    });
    assert.deepEqual(pool.capHaConnections(2), { haConnections: 2, message: undefined });
    pool.getAddr(0);
    pool.getAddr(1);
    assert.equal(pool.capacity, 0);
    assert.throws(
      () => pool.getAddr(2),
      (err: unknown) => {
        assert.ok(err instanceof NoFreeEdgeAddressError);
        assert.equal(err.code, 'CFT_ERR_EDGE_NO_FREE_ADDRESS');
        assert.equal(err.message, 'there are no free edge addresses left to resolve to');
        return true;
      },
    );
  });

  it('with --edge-ip-version 4 or 6 uses only that family; auto follows the first resolved address', () => {
    const mixed = [v6(1), v4(1), v6(2)];
    assert.equal(new EdgeAddressPool(mixed, [], { ipVersion: '4' }).capacity, 1);
    assert.equal(new EdgeAddressPool(mixed, [], { ipVersion: '6' }).capacity, 2);
    const auto = new EdgeAddressPool(mixed, [], { ipVersion: 'auto' });
    assert.equal(auto.capacity, 2, 'active set = IPv6, the family of the first address');
    assert.equal(auto.getAddr(0).family, 6);
    const v4first = new EdgeAddressPool([v4(1), v6(1), v6(2)], [], { ipVersion: 'auto' });
    assert.equal(v4first.getAddr(0).family, 4);
  });

  it('anyAddress takes region 1 first and does not assign', () => {
    const pool = new EdgeAddressPool([v4(1)], [v4(11)]);
    assert.equal(pool.anyAddress(), pool.anyAddress());
    assert.equal(pool.anyAddress()?.host, v4(1).host);
    assert.equal(pool.capacity, 2);
    assert.equal(new EdgeAddressPool([], [v4(11)]).anyAddress()?.host, v4(11).host);
  });
});

describe('EdgeAddressPool rotation (§2.6)', () => {
  it('rotates to a different address and frees the old one', () => {
    const pool = new EdgeAddressPool([v4(1), v4(2)], [v4(11), v4(12)]);
    const old = pool.getAddr(0);
    const { address, maxRetriesReached } = pool.giveBack(0, { connectivityError: false });
    assert.ok(address);
    assert.notEqual(address, old);
    assert.equal(pool.getAddr(0), address);
    assert.equal(maxRetriesReached, false);
    assert.equal(pool.capacity, 3);
  });

  it('returns no address when the only other address is taken, and the old one is then free', () => {
    const pool = new EdgeAddressPool([v4(1)], [v4(11)]);
    const a0 = pool.getAddr(0);
    pool.getAddr(1);
    assert.equal(pool.giveBack(0, { connectivityError: true }).address, undefined);
    assert.equal(pool.addrUsedBy(0), undefined);
    assert.equal(pool.getAddr(0), a0, 'the next attempt gets the freed address back');
  });

  it('flags "max retries reached" on the connectivity error after --max-edge-addr-retries, then counts again', () => {
    const pool = new EdgeAddressPool([v4(1), v4(2)], [v4(11), v4(12)], { maxEdgeAddrRetries: 3 });
    pool.getAddr(0);
    pool.getAddr(1);
    const flags = Array.from({ length: 8 }, () => pool.giveBack(0, { connectivityError: true }).maxRetriesReached);
    assert.deepEqual(flags, [false, false, false, true, false, false, false, true]);
    // Non-connectivity rotations (duplicate connection, idle timeout) do not count, and each index counts alone.
    assert.equal(pool.giveBack(0, { connectivityError: false }).maxRetriesReached, false);
    assert.equal(pool.giveBack(1, { connectivityError: true }).maxRetriesReached, false);
  });

  it('defaults to 8 retries', () => {
    const pool = new EdgeAddressPool([v4(1), v4(2)], [v4(11)]);
    pool.getAddr(0);
    const flags = Array.from({ length: 9 }, () => pool.giveBack(0, { connectivityError: true }).maxRetriesReached);
    assert.equal(flags.indexOf(true), 8);
  });
});

describe('IPv6 → IPv4 switching with auto (§2.4)', () => {
  function setup() {
    let now = 1_000_000;
    const pool = new EdgeAddressPool([v6(1), v6(2), v4(1), v4(2)], [], { ipVersion: 'auto', now: () => now });
    return { pool, advance: (ms: number) => (now += ms) };
  }

  it('switches to IPv4 after an IPv6 address is given back, and back to IPv6 when an IPv4 one is', () => {
    const { pool } = setup();
    assert.equal(pool.getAddr(0).family, 6);
    const rotated = pool.giveBack(0, { connectivityError: false });
    assert.equal(rotated.address?.family, 4, 'every rotation gives back as a connectivity error');
    assert.equal(pool.capacity, 1, 'IPv4 set active: 2 addresses, one in use');
    const back = pool.giveBack(0, { connectivityError: true });
    assert.equal(back.address?.family, 6, 'giving back IPv4 while on the secondary set returns to the primary');
  });

  it('stays on IPv4 when an IPv6 address comes back before 10 minutes, returns to IPv6 after', () => {
    const { pool, advance } = setup();
    pool.getAddr(0); // IPv6
    pool.getAddr(1); // IPv6
    assert.equal(pool.giveBack(0, { connectivityError: true }).address?.family, 4);
    // Connection 1 still holds an IPv6 address; giving it back inside the timer keeps IPv4 active.
    advance(SECONDARY_SET_TIMEOUT_MS - 1);
    assert.equal(pool.giveBack(1, { connectivityError: true }).address?.family, 4);
    // Hand connection 1 an IPv6 address again by returning to primary through an IPv4 give-back, then wait.
    const { pool: p2, advance: adv2 } = setup();
    p2.getAddr(0);
    p2.getAddr(1);
    p2.giveBack(0, { connectivityError: true }); // now on IPv4
    adv2(SECONDARY_SET_TIMEOUT_MS + 1);
    assert.equal(p2.giveBack(1, { connectivityError: true }).address?.family, 6, 'timer expired: back to IPv6');
  });

  it('does not switch when there is no IPv4 set (--edge-ip-version 6)', () => {
    const pool = new EdgeAddressPool([v6(1), v6(2), v4(1)], [], { ipVersion: '6' });
    pool.getAddr(0);
    assert.equal(pool.giveBack(0, { connectivityError: true }).address?.family, 6);
  });
});
