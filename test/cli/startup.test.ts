/**
 * Startup paths of `tunnel run`: edge discovery through a loopback DNS server (the hidden test-only
 * `CFTUNNEL_DNS_SERVER`), discovery failure, and `--post-quantum` on this runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectPostQuantumSupport } from '../../src/transport/tls/curves.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { makeToken } from '../helpers/tunnel-env.js';
import { assertNoSecret, runCli, spawnCli, startEdge, stopGracefully } from './child.js';

test(
  'without --edge, the edge is discovered through DNS; TUNNEL_REGION picks the SRV name and TUNNEL_EDGE_IP_VERSION=4 is accepted',
  { timeout: 150_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-disc-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const { token } = makeToken();
    const { child: edge, info } = await startEdge(token, join(dir, 'certs'), t);
    const port = Number(info.edge.slice(info.edge.lastIndexOf(':') + 1));
    const dns = await startDnsServer({
      srv: {
        '_us-v2-origintunneld._tcp.argotunnel.com': [
          { target: 'us-region1.v2.argotunnel.com', port },
          { target: 'us-region2.v2.argotunnel.com', port },
        ],
      },
      a: { 'us-region1.v2.argotunnel.com': ['127.0.0.1'], 'us-region2.v2.argotunnel.com': ['127.0.0.1'] },
    });
    t.after(() => dns.close());
    const connector = spawnCli(
      [
        'run',
        '--token',
        token,
        '--cacert',
        info.ca,
        '--protocol',
        'http2',
        '--ha-connections',
        '1',
        '--output',
        'json',
      ],
      {
        CFTUNNEL_DNS_SERVER: dns.server,
        TUNNEL_REGION: 'us',
        TUNNEL_EDGE_IP_VERSION: '4',
      },
    );
    t.after(() => connector.kill());
    const registered = JSON.parse(await edge.waitForLine(/"event":"register"/)) as Record<string, unknown>;
    assert.equal(registered.connIndex, 0);
    const asked = dns.questions.map((q) => `${q.type} ${q.name}`);
    assert.ok(asked.includes('SRV _us-v2-origintunneld._tcp.argotunnel.com'), asked.join(', '));
    assert.ok(
      !asked.some((q) => q.startsWith('SRV _v2-origintunneld')),
      'the global SRV name is not asked when a region is set',
    );
    await stopGracefully(connector);
    await stopGracefully(edge);
  },
);

test(
  '--post-quantum: strict X25519MLKEM768 over HTTP/2 when this Node has it, else a clean exit 1 naming the runtime',
  { timeout: 150_000 },
  async (t) => {
    const { token, secret } = makeToken();
    const pq = await detectPostQuantumSupport();
    if (!pq.supported) {
      const run = await runCli([
        'run',
        '--token',
        token,
        '--edge',
        '127.0.0.1:7844',
        '--post-quantum',
        '--output',
        'json',
      ]);
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stdout, '');
      const last = run.stderr.split('\n').at(-1)!;
      assert.match(
        last,
        /^cftunnel: error: post-quantum mode requires the X25519MLKEM768 key exchange, which this runtime \(Node \S+, OpenSSL \S+\) does not support$/,
      );
      assertNoSecret(run.stderr, token, secret);
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-pq-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const { child: edge, info } = await startEdge(token, join(dir, 'certs'), t);
    const connector = spawnCli(
      ['run', '--token', token, '--edge', info.edge, '--cacert', info.ca, '--ha-connections', '1', '--output', 'json'],
      { TUNNEL_POST_QUANTUM: 'true' },
    );
    t.after(() => connector.kill());
    const registered = JSON.parse(await edge.waitForLine(/"event":"register"/)) as {
      protocol: string;
      features: string[];
    };
    assert.equal(registered.protocol, 'http2');
    assert.ok(registered.features.includes('postquantum'), registered.features.join(','));
    await stopGracefully(connector);
    await stopGracefully(edge);
  },
);

test(
  "discovery that DNS cannot answer is a clean startup failure: exit 1 with cloudflared's message",
  { timeout: 150_000 },
  async (t) => {
    const dns = await startDnsServer({ servfail: ['_v2-origintunneld._tcp.argotunnel.com'] });
    t.after(() => dns.close());
    const { token, secret } = makeToken();
    const run = await runCli(['run', '--token', token, '--protocol', 'http2', '--output', 'json'], {
      CFTUNNEL_DNS_SERVER: dns.server,
    });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout, '');
    assert.match(
      run.stderr.split('\n').at(-1)!,
      /^cftunnel: error: Could not lookup srv records on _v2-origintunneld\._tcp\.argotunnel\.com: /,
    );
    assert.ok(dns.questions.some((q) => q.type === 'SRV' && q.name === '_v2-origintunneld._tcp.argotunnel.com'));
    assertNoSecret(run.stderr, token, secret);
  },
);
