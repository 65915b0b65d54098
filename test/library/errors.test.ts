/** Error codes that no other suite produces, each provoked for real. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { generateEdgeCertificates } from '../../src/local-edge/index.js';
import { dialTunnelConnection } from '../../src/supervisor/dial.js';
import { Tunnel } from '../../src/tunnel.js';
import { CftunnelError } from '../../src/errors.js';
import { connectionContext, makeToken, startOrigin, startTunnelEnv } from '../helpers/tunnel-env.js';

const code = (expected: string) => (err: unknown) => (err as { code?: string }).code === expected;

/** An origin that only counts the requests reaching it (the tests below assert none does). */
async function startCountingOrigin(): Promise<{ origin: Awaited<ReturnType<typeof startOrigin>>; reached(): number }> {
  let reached = 0;
  const origin = await startOrigin((_req, res) => {
    reached++;
    res.end('ok');
  });
  return { origin, reached: () => reached };
}

test('CFT_ERR_OPTIONS: an empty edge list is refused at construction', () => {
  assert.throws(() => new Tunnel({ token: makeToken().token, edge: [] }), code('CFT_ERR_OPTIONS'));
});

test('CFT_ERR_CACERT_INVALID: a --cacert without a valid certificate is refused at construction', () => {
  assert.throws(
    () => new Tunnel({ token: makeToken().token, edge: ['127.0.0.1:1'], caCert: 'not a certificate' }),
    code('CFT_ERR_CACERT_INVALID'),
  );
  assert.throws(
    () =>
      new Tunnel({
        token: makeToken().token,
        edge: ['127.0.0.1:1'],
        caCert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      }),
    code('CFT_ERR_CACERT_INVALID'),
  );
});

test('CFT_ERR_CACERT_INVALID: a file path given as caCert is refused with a message saying it takes the PEM text', () => {
  assert.throws(
    () => new Tunnel({ token: makeToken().token, edge: ['127.0.0.1:1'], caCert: './edge-certs/ca.pem' }),
    (e: unknown) => {
      assert.ok(e instanceof CftunnelError && e.code === 'CFT_ERR_CACERT_INVALID');
      assert.match(e.message, /takes the PEM text of the CA bundle, not a file path/);
      return true;
    },
  );
});

test('CFT_ERR_CONTROL_STREAM_TIMEOUT: an HTTP/2 edge that never opens the control stream', async () => {
  const certs = await generateEdgeCertificates();
  // Speaks TLS, then nothing: the connector's HTTP/2 server waits for a control stream that never comes.
  const server = tls.createServer({ cert: certs.certPem, key: certs.keyPem }, (socket) =>
    socket.on('error', () => undefined),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { token } = makeToken();
  try {
    await assert.rejects(
      dialTunnelConnection(
        'http2',
        { host: '127.0.0.1', port: (server.address() as AddressInfo).port },
        connectionContext(token, { rpcTimeoutMs: 200 }),
        {
          caCert: certs.caPem,
        },
      ),
      code('CFT_ERR_CONTROL_STREAM_TIMEOUT'),
    );
  } finally {
    server.close();
  }
});

test('CFT_ERR_EDGE_REQUEST: a malformed header key in a ConnectRequest is answered with an error, origin untouched', async () => {
  const { origin, reached } = await startCountingOrigin();
  const env = await startTunnelEnv({ protocol: 'quic', url: origin.url });
  try {
    const conn = env.edge.route('app.test')!;
    const res = await conn.send({
      type: 'http',
      method: 'GET',
      host: 'app.test',
      path: '/',
      headers: [['X-Bad:Name', 'v']],
      body: null,
      visitorAddress: '127.0.0.1:1',
    });
    assert.equal(res.ok, false);
    assert.match(res.ok ? '' : res.error, /header Key: HttpHeader:X-Bad:Name malformed/);
    assert.equal(reached(), 0);
  } finally {
    await env.close();
    await origin.close();
  }
});

test('CFT_ERR_RE2_SYNTAX: a path regex RE2 cannot express is refused', async () => {
  const { compileRe2 } = await import('../../src/ingress/regex.js');
  assert.throws(() => compileRe2('^/(?=lookahead)'), code('CFT_ERR_RE2_SYNTAX'));
});

test('CFT_ERR_ORIGIN_SERVICE: an eyeball URL that is not absolute never reaches the origin', async () => {
  const { origin, reached } = await startCountingOrigin();
  const env = await startTunnelEnv({ protocol: 'quic', url: origin.url });
  try {
    const res = await env.edge.route('x')!.send({
      type: 'http',
      method: 'GET',
      host: 'bad host',
      path: '/',
      headers: [],
      body: null,
      visitorAddress: '127.0.0.1:1',
    });
    assert.equal(res.ok, false);
    assert.match(res.ok ? '' : res.error, /is not absolute/);
    assert.equal(reached(), 0);
  } finally {
    await env.close();
    await origin.close();
  }
});
