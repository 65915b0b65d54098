/**
 * A Tunnel with no static edge discovers it through DNS (docs/protocol.md §2): SRV → two region targets → A records,
 * served by a loopback DNS server and pointing at two local edges (127.0.0.1 and 127.0.0.2, same port), so the HA
 * connections spread across both "regions" (§2.5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalEdge } from '../../src/local-edge/index.js';
import { edgeResolverForServers } from '../../src/edge-discovery/index.js';
import { Tunnel } from '../../src/tunnel.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { makeToken, startOrigin } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';
import { withTestHooks } from '../../src/internal/test-hooks.js';

test('SRV discovery over a loopback DNS server; HA connections capped at and spread over the two regions', async () => {
  const { token } = makeToken();
  const first = await LocalEdge.start({ tunnels: [token], transports: { quic: false, http2: true } });
  const second = await LocalEdge.start({
    tunnels: [token],
    host: '127.0.0.2',
    port: first.address.port,
    certs: first.certs,
    transports: { quic: false, http2: true },
  });
  const dns = await startDnsServer({
    srv: {
      '_v2-origintunneld._tcp.argotunnel.com': [
        { target: 'region1.v2.argotunnel.com', port: first.address.port },
        { target: 'region2.v2.argotunnel.com', port: first.address.port },
      ],
    },
    a: { 'region1.v2.argotunnel.com': ['127.0.0.1'], 'region2.v2.argotunnel.com': ['127.0.0.2'] },
  });
  const origin = await startOrigin((_req, res) => res.end('found'));
  const tunnel = new Tunnel(
    withTestHooks(
      {
        token,
        url: origin.url,
        caCert: first.caPem,
        protocol: 'http2',
        haConnections: 4,
        dnsOverTls: false,
      },
      { haSpacingMs: 0, dnsResolver: edgeResolverForServers([dns.server]) },
    ),
  );
  const connected = new Promise<void>((resolve) => {
    let n = 0;
    tunnel.on('connected', () => ++n === 2 && resolve());
  });
  try {
    await tunnel.ready();
    await connected;
    // Two addresses in total: cloudflared caps HA connections at the number of edge addresses (§2.5).
    assert.equal(tunnel.connections.length, 2);
    assert.equal(first.connections().length, 1);
    assert.equal(second.connections().length, 1);
    assert.ok(dns.questions.some((q) => q.type === 'SRV' && q.name === '_v2-origintunneld._tcp.argotunnel.com'));
    const res = await visit(first.visitorUrl);
    assert.equal(res.body.toString(), 'found');
  } finally {
    await tunnel.close({ graceMs: 1000 });
    await Promise.all([first.close(), second.close(), dns.close(), origin.close()]);
  }
});

test('the remote protocol selector follows the protocol-v2 TXT percentages (§3.2)', async () => {
  const { token } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token] });
  const dns = await startDnsServer({
    txt: {
      'protocol-v2.argotunnel.com': [['[{"protocol":"quic","percentage":0},{"protocol":"http2","percentage":100}]']],
    },
  });
  const start = (selector: 'default' | 'remote') =>
    new Tunnel(
      withTestHooks(
        {
          token,
          edge: [`127.0.0.1:${edge.address.port}`],
          caCert: edge.caPem,
          haConnections: 1,
          protocolSelector: selector,
        },
        { dnsResolver: edgeResolverForServers([dns.server]) },
      ),
    );
  try {
    // QUIC gets 0 %: every account's bucket (0..99) is >= 0, so HTTP/2 (100 % > bucket) is chosen.
    const remote = start('remote');
    await remote.ready();
    assert.equal(remote.connections[0]?.protocol, 'http2');
    await remote.close({ graceMs: 0 });
    assert.ok(dns.questions.some((q) => q.type === 'TXT' && q.name === 'protocol-v2.argotunnel.com'));
    const local = start('default');
    await local.ready();
    assert.equal(local.connections[0]?.protocol, 'quic');
    await local.close({ graceMs: 0 });
  } finally {
    await edge.close();
    await dns.close();
  }
});
