import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { generateEdgeCertificates, type EdgeCertificates } from '../../src/local-edge/certs.js';
import {
  discoverEdge,
  EdgeDiscoveryError,
  edgeResolverForServers,
  lookupSrvOverTls,
  DnsOverTlsError,
  staticEdgePool,
  SRV_FAILURE_HINTS,
  type DiscoverEdgeOptions,
  type EdgeAddress,
} from '../../src/edge-discovery/index.js';
import { startDnsOverTlsServer, startDnsServer, type DnsTestServer, type DnsZone } from '../helpers/dns-server.js';
import { errorText } from '../../src/errors.js';

const GLOBAL_SRV = '_v2-origintunneld._tcp.argotunnel.com';
const R1 = 'region1.v2.argotunnel.com';
const R2 = 'region2.v2.argotunnel.com';

function edgeZone(srvName = GLOBAL_SRV): DnsZone {
  return {
    srv: {
      [srvName]: [
        { target: R1, port: 7844 },
        { target: R2, port: 7844 },
      ],
    },
    a: { [R1]: ['198.41.192.7', '198.41.192.27'], [R2]: ['198.41.200.13', '198.41.200.33'] },
    aaaa: { [R1]: ['2606:4700:a0::1'], [R2]: ['2606:4700:a8::1'] },
  };
}

/** Collects log calls. */
function recorder() {
  const lines: string[] = [];
  const push = (_fields: object, message: string): void => {
    lines.push(message);
  };
  return { lines, log: { debug: push, error: push } };
}

describe('edge discovery over loopback DNS (§2.1–§2.3)', () => {
  let certs: EdgeCertificates;
  let otherCa: EdgeCertificates;
  let system: DnsTestServer;
  let dot: DnsTestServer;

  before(async () => {
    certs = await generateEdgeCertificates({ dnsNames: ['cloudflare-dns.com'], caCommonName: 'dot test CA' });
    otherCa = await generateEdgeCertificates({ dnsNames: ['cloudflare-dns.com'], caCommonName: 'unrelated CA' });
    system = await startDnsServer();
    dot = await startDnsOverTlsServer({}, certs);
  });
  after(async () => {
    await system.close();
    await dot.close();
  });

  function options(extra: Partial<DiscoverEdgeOptions> = {}): DiscoverEdgeOptions {
    system.questions.length = 0;
    dot.questions.length = 0;
    return {
      resolver: edgeResolverForServers([system.server], { tries: 1, timeoutMs: 2000 }),
      dnsOverTls: { host: '127.0.0.1', port: dot.port, ca: certs.caPem },
      ...extra,
    };
  }

  it('resolves both SRV targets through the system resolver and builds two regions', async () => {
    system.zone = edgeZone();
    dot.zone = {};
    const pool = await discoverEdge(options({ ipVersion: '4' }));
    assert.equal(pool.capacity, 4, 'two IPv4 addresses per region');
    const r1 = new Set(['198.41.192.7', '198.41.192.27']);
    const first = pool.getAddr(0);
    const second = pool.getAddr(1);
    assert.equal(first.port, 7844);
    assert.notEqual(r1.has(first.host), r1.has(second.host), 'connections 0 and 1 land in different regions');
    assert.deepEqual(
      system.questions.filter((q) => q.type === 'SRV').map((q) => q.name),
      [GLOBAL_SRV],
    );
    for (const host of [R1, R2]) {
      assert.ok(system.questions.some((q) => q.name === host && q.type === 'A'));
      assert.ok(system.questions.some((q) => q.name === host && q.type === 'AAAA'));
    }
    assert.equal(dot.questions.length, 0, 'no DNS-over-TLS when the system lookup works');
  });

  it('--edge-ip-version 6 keeps only IPv6; auto makes the first resolved family (IPv4 here) primary', async () => {
    system.zone = edgeZone();
    const pool = await discoverEdge(options({ ipVersion: '6' }));
    assert.equal(pool.capacity, 2);
    assert.equal(pool.getAddr(0).family, 6);
    const auto = await discoverEdge(options({ ipVersion: 'auto' }));
    assert.equal(auto.capacity, 4, 'IPv4 (resolved first) is primary');
  });

  it('queries the regional SRV name', async () => {
    system.zone = edgeZone('_us-v2-origintunneld._tcp.argotunnel.com');
    const pool = await discoverEdge(options({ region: 'us' }));
    assert.ok(pool.capacity > 0);
    assert.deepEqual(
      system.questions.filter((q) => q.type === 'SRV').map((q) => q.name),
      ['_us-v2-origintunneld._tcp.argotunnel.com'],
    );
  });

  it('falls back to DNS-over-TLS when the system SRV lookup fails; targets still use the system resolver', async () => {
    system.zone = { ...edgeZone(), servfail: [GLOBAL_SRV] };
    dot.zone = { srv: edgeZone().srv };
    const pool = await discoverEdge(options({ ipVersion: '4' }));
    assert.equal(pool.capacity, 4);
    assert.deepEqual(dot.questions, [{ name: GLOBAL_SRV, type: 'SRV', transport: 'tls' }]);
    assert.ok(system.questions.some((q) => q.name === R1 && q.type === 'A'));
  });

  it("reports the system error (not the fallback's) and logs hints when both lookups fail", async () => {
    system.zone = { servfail: [GLOBAL_SRV] };
    dot.zone = { servfail: [GLOBAL_SRV] };
    const { lines, log } = recorder();
    await assert.rejects(discoverEdge(options({ log })), (err: unknown) => {
      assert.ok(err instanceof EdgeDiscoveryError);
      assert.equal(err.code, 'CFT_ERR_EDGE_DISCOVERY');
      assert.equal(err.retryable, false);
      assert.match(
        errorText(err),
        /^Could not lookup srv records on _v2-origintunneld\._tcp\.argotunnel\.com: .*SERVFAIL/,
      );
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'ESERVFAIL');
      return true;
    });
    assert.equal(dot.questions.length, 1, 'the fallback was tried');
    for (const hint of SRV_FAILURE_HINTS) assert.ok(lines.includes(hint));
  });

  it('treats an empty DNS-over-TLS answer and an untrusted DoT certificate as failures', async () => {
    system.zone = { servfail: [GLOBAL_SRV] };
    dot.zone = { a: { [GLOBAL_SRV]: ['127.0.0.1'] } }; // the name exists, no SRV records
    await assert.rejects(discoverEdge(options()), EdgeDiscoveryError);
    assert.equal(dot.questions.length, 1);
    dot.zone = { srv: edgeZone().srv };
    await assert.rejects(
      discoverEdge(options({ dnsOverTls: { host: '127.0.0.1', port: dot.port, ca: otherCa.caPem } })),
      EdgeDiscoveryError,
    );
    assert.equal(dot.questions.length, 0, 'no query is sent over an unverified connection');
  });

  it('needs at least two SRV records', async () => {
    system.zone = { ...edgeZone(), srv: { [GLOBAL_SRV]: [{ target: R1, port: 7844 }] } };
    await assert.rejects(discoverEdge(options()), {
      name: 'EdgeDiscoveryError',
      message: 'expected at least 2 Cloudflare Regions regions, but SRV only returned 1',
    });
  });

  it('fails when any SRV target does not resolve, naming the record like Go', async () => {
    const zone = edgeZone();
    zone.srv![GLOBAL_SRV]!.push({ target: 'region3.v2.argotunnel.com', port: 7844, priority: 5, weight: 1 });
    system.zone = zone;
    await assert.rejects(discoverEdge(options()), (err: unknown) => {
      assert.ok(err instanceof EdgeDiscoveryError);
      assert.match(errorText(err), /^Couldn't resolve SRV record &\{region3\.v2\.argotunnel\.com\. 7844 5 1\}: /);
      return true;
    });
  });

  it('lookupSrvOverTls orders records by priority and rejects with a typed error on SERVFAIL', async () => {
    dot.zone = {
      srv: {
        [GLOBAL_SRV]: [
          { target: 'b.example', port: 1, priority: 20 },
          { target: 'a.example', port: 2, priority: 10 },
        ],
      },
    };
    const records = await lookupSrvOverTls(GLOBAL_SRV, { host: '127.0.0.1', port: dot.port, ca: certs.caPem });
    assert.deepEqual(
      records.map((r) => r.name),
      ['a.example', 'b.example'],
    );
    dot.zone = { servfail: [GLOBAL_SRV] };
    await assert.rejects(
      lookupSrvOverTls(GLOBAL_SRV, { host: '127.0.0.1', port: dot.port, ca: certs.caPem }),
      DnsOverTlsError,
    );
  });
  it('lookupSrvOverTls gives up at its deadline when the server never answers', async () => {
    const silent = tls.createServer({ cert: certs.certPem, key: certs.keyPem }, (socket) => socket.resume());
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const port = (silent.address() as AddressInfo).port;
      await assert.rejects(
        lookupSrvOverTls(GLOBAL_SRV, { host: '127.0.0.1', port, ca: certs.caPem, timeoutMs: 200 }),
        (err: unknown) => {
          assert.ok(err instanceof DnsOverTlsError);
          assert.match(err.message, /timed out/);
          return true;
        },
      );
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('--edge static addresses (§2.5)', () => {
  let system: DnsTestServer;
  before(async () => {
    system = await startDnsServer({ a: { 'edge.test': ['127.0.0.2'] }, aaaa: { 'edge.test': ['::1'] } });
  });
  after(() => system.close());

  it('resolves each entry to one address (IPv4 preferred for names), skips bad ones and deals them into two regions', async () => {
    const { lines, log } = recorder();
    const resolver = edgeResolverForServers([system.server], { order: 'ipv6first', tries: 1 });
    const entries = ['127.0.0.1:7844', 'edge.test:7845', 'no-port', '127.0.0.3:7846', 'missing.test:1', '[::1]:7847'];
    const pool = await staticEdgePool(entries, { resolver, log, random: () => 0 });
    assert.equal(lines.filter((l) => l === 'edge discovery: failed to resolve to TCP address').length, 2);
    // Region 1 = 127.0.0.1, 127.0.0.3; region 2 = 127.0.0.2 (edge.test's A record, although AAAA came first), ::1.
    // With auto, region 2's primary family is IPv4 (its first address), so ::1 waits in the secondary set.
    assert.equal(pool.capacity, 3);
    const got: EdgeAddress[] = [0, 1, 2].map((i) => pool.getAddr(i));
    // Connection 0 takes from the fuller region 1, connection 1 meets a 1–1 tie that random() = 0 gives to region 1,
    // connection 2 gets region 2's IPv4 address.
    assert.deepEqual(
      got.map((a) => `${a.host}:${a.port}/${a.family}`),
      ['127.0.0.1:7844/4', '127.0.0.3:7846/4', '127.0.0.2:7845/4'],
    );
    assert.throws(() => pool.getAddr(3), { name: 'NoFreeEdgeAddressError' });
  });

  it("takes a bracketed name's IPv6 address, as Go's ResolveTCPAddr does", async () => {
    const resolver = edgeResolverForServers([system.server], { tries: 1 });
    const pool = await staticEdgePool(['[edge.test]:7848'], { resolver });
    assert.deepEqual(pool.getAddr(0), { host: '::1', port: 7848, family: 6 });
  });

  it('fails when no entry resolves', async () => {
    const resolver = edgeResolverForServers([system.server], { tries: 1 });
    await assert.rejects(staticEdgePool(['missing.test:1', 'x'], { resolver }), {
      name: 'EdgeDiscoveryError',
      message: 'failed to resolve any edge address',
    });
  });
});
