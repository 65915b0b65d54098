/**
 * Post-quantum key agreement with the local edge over HTTP/2 (docs/protocol.md §4.4), observed on the wire: the
 * ClientHello's groups and the ServerHello's choice. Real on a Node whose OpenSSL has X25519MLKEM768 (24.5+, 22.20+);
 * skipped, saying why, elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { LocalEdge, type EdgeConnectionInfo } from '../../../src/local-edge/index.js';
import { Tunnel } from '../../../src/tunnel.js';
import { detectPostQuantumSupport } from '../../../src/transport/tls/curves.js';
import { GROUP, startTlsHelloSniffer } from '../../helpers/tls-hello-sniffer.js';
import { makeToken, startOrigin } from '../../helpers/tunnel-env.js';
import { visit } from '../../helpers/visitor.js';

const support = await detectPostQuantumSupport();
const skip = support.supported
  ? false
  : `Node ${process.versions.node} (OpenSSL ${process.versions.openssl}) cannot negotiate X25519MLKEM768; it needs Node 24.5+ or 22.20+ (OpenSSL 3.5)`;

async function connect(postQuantum: boolean) {
  const { token } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token], transports: { quic: false, http2: true } });
  const sniffer = await startTlsHelloSniffer(edge.address);
  const origin = await startOrigin((_req, res) => res.end('pq ok'));
  const registered = once(edge, 'register') as Promise<[EdgeConnectionInfo]>;
  const tunnel = new Tunnel({
    token,
    url: origin.url,
    edge: [`127.0.0.1:${sniffer.port}`],
    caCert: edge.caPem,
    protocol: 'http2',
    postQuantum,
    haConnections: 1,
  });
  const close = async (): Promise<void> => {
    await tunnel.close({ graceMs: 0 });
    await sniffer.close();
    await edge.close();
    await origin.close();
  };
  try {
    await tunnel.ready();
    const [info] = await registered;
    return { edge, sniffer, info, close };
  } catch (err) {
    await close();
    throw err;
  }
}

test(
  'strict (--post-quantum): the connector offers only X25519MLKEM768 and the local edge negotiates it',
  { skip },
  async () => {
    const { edge, sniffer, info, close } = await connect(true);
    try {
      assert.equal(sniffer.hellos.length, 1);
      const [hello] = sniffer.hellos;
      assert.deepEqual(hello!.supportedGroups, [GROUP.X25519MLKEM768]);
      assert.deepEqual(hello!.keyShareGroups, [GROUP.X25519MLKEM768]);
      assert.equal(hello!.selectedGroup, GROUP.X25519MLKEM768);
      assert.ok(info.registration.features.includes('postquantum'), info.registration.features.join(','));
      const res = await visit(edge.visitorUrl, { path: '/' });
      assert.equal(res.body.toString(), 'pq ok');
    } finally {
      await close();
    }
  },
);

test(
  'prefer (default): X25519MLKEM768 offered first with its key share, P-256 second; the local edge picks X25519MLKEM768',
  { skip },
  async () => {
    const { edge, sniffer, info, close } = await connect(false);
    try {
      const [hello] = sniffer.hellos;
      assert.deepEqual(hello!.supportedGroups, [GROUP.X25519MLKEM768, GROUP.P256]);
      assert.equal(hello!.keyShareGroups[0], GROUP.X25519MLKEM768);
      assert.equal(hello!.selectedGroup, GROUP.X25519MLKEM768);
      assert.ok(!info.registration.features.includes('postquantum'), 'prefer mode does not claim strict post-quantum');
      const res = await visit(edge.visitorUrl, { path: '/' });
      assert.equal(res.body.toString(), 'pq ok');
    } finally {
      await close();
    }
  },
);

test(
  'on this runtime without X25519MLKEM768, prefer mode offers P-256 alone',
  { skip: support.supported ? 'this runtime has X25519MLKEM768 (covered above)' : false },
  async () => {
    const { sniffer, close } = await connect(false);
    try {
      assert.deepEqual(sniffer.hellos[0]!.supportedGroups, [GROUP.P256]);
      assert.equal(sniffer.hellos[0]!.selectedGroup, GROUP.P256);
    } finally {
      await close();
    }
  },
);
