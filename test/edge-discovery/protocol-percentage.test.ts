import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  edgeResolverForServers,
  fetchProtocolPercentages,
  fnv1a32,
  parseProtocolPercentages,
  protocolBucket,
  ProtocolPercentageError,
  PROTOCOL_PERCENTAGE_RECORD,
  selectByPercentage,
} from '../../src/edge-discovery/index.js';
import { startDnsServer, type DnsTestServer } from '../helpers/dns-server.js';

describe('FNV-1a bucket (§3.2)', () => {
  it('matches the published FNV-1a 32-bit test vectors', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
    assert.equal(fnv1a32(new Uint8Array([0xff])), fnv1a32(Buffer.from([0xff])));
  });

  it('hashes the UTF-8 bytes and takes them mod 100', () => {
    assert.equal(protocolBucket('foobar'), 0xbf9cf968 % 100);
    assert.equal(fnv1a32('é'), fnv1a32(Buffer.from([0xc3, 0xa9])));
  });
});

/** Account tags whose bucket is exactly `bucket`, found by search so the tests do not depend on chosen constants. */
function tagWithBucket(bucket: number): string {
  for (let i = 0; ; i++) if (protocolBucket(`acct-${i}`) === bucket) return `acct-${i}`;
}

describe('selectByPercentage (§3.2)', () => {
  const b50 = tagWithBucket(50);

  it('picks the first protocol whose percentage is strictly above the bucket', () => {
    assert.equal(
      selectByPercentage(
        [
          { protocol: 'quic', percentage: 51 },
          { protocol: 'http2', percentage: 100 },
        ],
        b50,
      ),
      'quic',
    );
    assert.equal(
      selectByPercentage(
        [
          { protocol: 'quic', percentage: 50 },
          { protocol: 'http2', percentage: 100 },
        ],
        b50,
      ),
      'http2',
    );
    assert.equal(
      selectByPercentage([{ protocol: 'HTTP2', percentage: 51 }], b50),
      'http2',
      'names compare case-insensitively',
    );
  });

  it('defaults to QUIC when nothing qualifies or the lookup failed', () => {
    assert.equal(
      selectByPercentage(
        [
          { protocol: 'quic', percentage: 0 },
          { protocol: 'http2', percentage: 50 },
        ],
        b50,
      ),
      'quic',
    );
    assert.equal(selectByPercentage([], b50), 'quic');
    assert.equal(selectByPercentage(undefined, b50), 'quic');
    assert.equal(selectByPercentage([{ protocol: 'http2', percentage: 1 }], tagWithBucket(0)), 'http2');
  });
});

describe('parseProtocolPercentages', () => {
  it("reads the record like Go's encoding/json", () => {
    assert.deepEqual(
      parseProtocolPercentages('[{"protocol":"quic","percentage":100},{"protocol":"http2","percentage":100}]'),
      [
        { protocol: 'quic', percentage: 100 },
        { protocol: 'http2', percentage: 100 },
      ],
    );
    assert.deepEqual(parseProtocolPercentages('null'), []);
    assert.deepEqual(parseProtocolPercentages('[null,{"Protocol":"quic","extra":1},{"percentage":5}]'), [
      { protocol: '', percentage: 0 },
      { protocol: 'quic', percentage: 0 },
      { protocol: '', percentage: 5 },
    ]);
  });

  it('rejects malformed records with a typed error', () => {
    for (const bad of [
      '{',
      '{}',
      '[1]',
      '[{"protocol":1}]',
      '[{"percentage":1.5}]',
      '[{"percentage":"5"}]',
      '[{"percentage":2147483648}]',
    ]) {
      assert.throws(
        () => parseProtocolPercentages(bad),
        (err: unknown) => err instanceof ProtocolPercentageError && err.code === 'CFT_ERR_PROTOCOL_PERCENTAGE',
        bad,
      );
    }
  });
});

describe('fetchProtocolPercentages over loopback DNS', () => {
  let dns: DnsTestServer;
  before(async () => {
    dns = await startDnsServer();
  });
  after(() => dns.close());
  const resolver = () => edgeResolverForServers([dns.server], { tries: 1 });

  it('queries protocol-v2.argotunnel.com and parses the first record, joining its strings', async () => {
    dns.zone = {
      txt: {
        [PROTOCOL_PERCENTAGE_RECORD]: [['[{"protocol":"quic","percentage":', '42}]']],
      },
    };
    assert.deepEqual(await fetchProtocolPercentages(resolver()), [{ protocol: 'quic', percentage: 42 }]);
    assert.deepEqual(dns.questions.at(-1), { name: PROTOCOL_PERCENTAGE_RECORD, type: 'TXT', transport: 'udp' });
  });

  it("reports a missing record with cloudflared's text, and lookup failures as typed errors", async () => {
    dns.zone = { a: { [PROTOCOL_PERCENTAGE_RECORD]: ['127.0.0.1'] } };
    // Node reports "no TXT data" as ENODATA rather than an empty list; an empty list gets cloudflared's message.
    await assert.rejects(fetchProtocolPercentages(resolver()), ProtocolPercentageError);
    await assert.rejects(fetchProtocolPercentages({ resolveTxt: async () => [] }), {
      message: 'No TXT record found for protocol-v2.argotunnel.com to determine connection protocol',
    });
    dns.zone = { servfail: [PROTOCOL_PERCENTAGE_RECORD] };
    await assert.rejects(fetchProtocolPercentages(resolver()), (err: unknown) => {
      assert.ok(err instanceof ProtocolPercentageError);
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'ESERVFAIL');
      return true;
    });
  });
});
