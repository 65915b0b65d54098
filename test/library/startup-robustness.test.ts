/**
 * Startup as a library user meets it (issue 14 items 5 and 6): options are checked at the boundary with an error
 * naming the field, a refused token rejects instead of pending forever, an aborted startup says why, a program whose
 * only work is startTunnel() stays alive while startup is pending, and no secret shows through util.inspect.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { on, once } from 'node:events';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { LocalEdge } from '../../src/local-edge/index.js';
import {
  Tunnel,
  TunnelOptionsError,
  UnauthorizedTokenError,
  parseToken,
  startTunnel,
  type TunnelOptions,
} from '../../src/index.js';
import { withTestHooks, type TunnelTestHooks } from '../../src/internal/test-hooks.js';
import { resolveTunnelOptions } from '../../src/tunnel-options.js';
import { makeToken, startOrigin } from '../helpers/tunnel-env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The error `new Tunnel(options)` throws, or undefined (the tunnel it made is closed at once). */
function constructionError(options: unknown): unknown {
  let tunnel: Tunnel;
  try {
    tunnel = new Tunnel(options as TunnelOptions);
  } catch (err) {
    return err;
  }
  void tunnel.close({ graceMs: 0 });
  return undefined;
}

// [field, value, expected field in the error]
const BAD_OPTIONS: Array<[string, unknown, string]> = [
  ['token', undefined, 'token'],
  ['token', '', 'token'],
  ['token', 42, 'token'],
  ['token', { accountTag: 'a' }, 'token'],
  ['protocol', 'nonsense', 'protocol'],
  ['haConnections', 0, 'haConnections'],
  ['haConnections', 1.5, 'haConnections'],
  ['edge', ['nonsense'], 'edge[0]'],
  ['edge', ['no-port', '127.0.0.1:0'], 'edge[0]'],
  ['edge', ['127.0.0.1:1', 7844], 'edge[1]'],
  ['edge', [], 'edge'],
  ['edge', '127.0.0.1:1', 'edge'],
  ['retries', -1, 'retries'],
  ['gracePeriodMs', Number.NaN, 'gracePeriodMs'],
  ['edgeIpVersion', 4, 'edgeIpVersion'],
  ['protocolSelector', 'dns', 'protocolSelector'],
  ['postQuantum', 'yes', 'postQuantum'],
  ['edgeBindAddress', 'localhost', 'edgeBindAddress'],
  ['metrics', 'nope', 'metrics'],
  ['signal', 'abort', 'signal'],
  ['logger', { info() {} }, 'logger'],
  ['tags', { team: 1 }, 'tags.team'],
  ['configurationFlags', ['x'], 'configurationFlags'],
  ['caCert', 5, 'caCert'],
  ['url', '', 'url'],
  ['origin', 8080, 'origin'],
  ['ingress', [{ hostname: 'a.test' }], 'ingress[0].service'],
  ['ingress', [{ service: 'http://127.0.0.1:1', path: 5 }], 'ingress[0].path'],
  ['services', { 'http://x': 'http://y' }, 'services.http://x'],
  ['config', { ingress: [] }, 'config'],
  ['region', 1, 'region'],
  ['dnsOverTls', true, 'dnsOverTls'],
  ['retryUnauthorizedAtStartup', 1, 'retryUnauthorizedAtStartup'],
  ['features', 'support_datagram_v3_2', 'features'],
  ['features', ['ok', 3], 'features[1]'],
  ['rpcTimeoutMs', -1, 'rpcTimeoutMs'],
  ['quicFlowControl', 30, 'quicFlowControl'],
  ['quickTunnelHostname', 7, 'quickTunnelHostname'],
  // Removed options are refused, not silently ignored (JavaScript callers get no type error).
  ['haSpacingMs', 0, 'haSpacingMs'],
  ['dnsResolver', { resolveSrv() {}, resolveTxt() {}, lookup() {} }, 'dnsResolver'],
  ['identity', { version: '2026.8.2' }, 'identity'],
];

for (const [field, value, named] of BAD_OPTIONS) {
  test(`options.${field} = ${inspect(value)} is refused with TunnelOptionsError naming ${named}`, async () => {
    const { token } = makeToken();
    const options = { token, edge: ['127.0.0.1:1'], protocol: 'http2', [field]: value };
    const err = constructionError(options);
    assert.ok(err instanceof TunnelOptionsError, `got ${inspect(err)}`);
    assert.equal(err.code, 'CFT_ERR_OPTIONS');
    assert.equal(err.field, named);
    assert.ok(err.message.startsWith(`options.${named} `), err.message);
    if (typeof value === 'string' && field === 'token') assert.ok(!err.message.includes(token));
    await assert.rejects(startTunnel(options as unknown as TunnelOptions), TunnelOptionsError);
  });
}

// The knobs kept out of TunnelOptions (test timings, a test DNS resolver, the CLI's reported version) are checked
// when attached, and the public options no longer know them.
const BAD_HOOKS: Array<[keyof TunnelTestHooks, unknown]> = [
  ['haSpacingMs', -5],
  ['http2PingIntervalMs', 0],
  ['quicHandshakeTimeoutMs', Number.NaN],
  ['dnsResolver', {}],
  ['clientVersion', ''],
];

for (const [hook, value] of BAD_HOOKS) {
  test(`test hook ${hook} = ${inspect(value)} is refused when attached`, () => {
    assert.throws(() => withTestHooks({}, { [hook]: value }), new RegExp(`^\\w+Error: test hook ${hook} must`));
  });
}

test('the internal hooks reach the resolved settings; the same fields as options are refused', () => {
  const { token } = makeToken();
  const resolver = { resolveSrv: async () => [], resolveTxt: async () => [], lookup: async () => [] };
  const hooked = resolveTunnelOptions(
    withTestHooks({ token }, { haSpacingMs: 0, dnsResolver: resolver, clientVersion: '2099.1.0' }),
  );
  assert.equal(hooked.supervisor.haSpacingMs, 0);
  assert.equal(hooked.discovery.resolver, resolver);
  assert.equal(hooked.identity.version, '2099.1.0');
  assert.ok(Object.isFrozen(hooked) && Object.isFrozen(hooked.supervisor) && Object.isFrozen(hooked.supervisor.dial));
  // As options they do nothing: they are refused by name (see BAD_OPTIONS), never silently ignored.
  for (const [field, value] of Object.entries({
    haSpacingMs: 0,
    dnsResolver: resolver,
    identity: { version: '2099.1.0' },
  })) {
    assert.throws(() => resolveTunnelOptions({ token, ...({ [field]: value } as object) }), {
      code: 'CFT_ERR_OPTIONS',
      field,
    });
  }
});

test('top-level originRequest applies to the url/origin catch-all and is validated like an ingress rule', () => {
  const { token } = makeToken();
  const base = { token, edge: ['127.0.0.1:1'], protocol: 'http2' as const };
  const tunnel = new Tunnel({
    ...base,
    url: 'https://127.0.0.1:8443',
    originRequest: { noTLSVerify: true, httpHostHeader: 'app.internal' },
  });
  try {
    const rule = tunnel.config.ingress.rules[0]!;
    assert.equal(tunnel.config.ingress.rules.length, 1);
    assert.equal(rule.originRequest.noTLSVerify, true);
    assert.equal(rule.originRequest.httpHostHeader, 'app.internal');
  } finally {
    void tunnel.close({ graceMs: 0 });
  }
  assert.equal(
    (constructionError({ ...base, url: 'http://127.0.0.1:1', originRequest: { connectTimeout: 'abc' } }) as Error)
      ?.name,
    'IngressConfigError',
  );
});

test('an edge list with one usable host:port is accepted: cloudflared skips the other entries at startup (§2.5)', async () => {
  assert.equal(
    constructionError({ token: makeToken().token, edge: ['nonsense', '127.0.0.1:1'], protocol: 'http2' }),
    undefined,
  );
});

test('startTunnel(undefined) and a missing token (process.env.TUNNEL_TOKEN unset) say which field', async () => {
  await assert.rejects(startTunnel(undefined as unknown as TunnelOptions), { code: 'CFT_ERR_OPTIONS', field: 'token' });
  await assert.rejects(
    startTunnel({ token: process.env.CFTUNNEL_TEST_UNSET_VARIABLE as string, url: 'http://127.0.0.1:1' }),
    {
      code: 'CFT_ERR_OPTIONS',
      field: 'token',
      message: /^options\.token is required/,
    },
  );
});

for (const protocol of ['quic', 'http2'] as const) {
  test(`${protocol}: a token the edge refuses as Unauthorized rejects startTunnel with the edge's reason (no retry)`, async () => {
    const { token } = makeToken();
    const other = makeToken();
    const edge = await LocalEdge.start({ tunnels: [other.token] });
    try {
      let refusals = 0;
      const retried = new Promise<never>((_resolve, reject) => {
        edge.on('registration_refused', () => {
          if (++refusals === 2) reject(new Error('the connector registered again after Unauthorized'));
        });
      });
      retried.catch(() => undefined);
      const started = startTunnel({ token, edge: [`127.0.0.1:${edge.address.port}`], caCert: edge.caPem, protocol });
      const err = await Promise.race([
        started.then(
          () => new Error('startTunnel resolved'),
          (e: unknown) => e,
        ),
        retried,
      ]);
      assert.ok(err instanceof UnauthorizedTokenError, `got ${inspect(err)}`);
      assert.equal(err.code, 'CFT_ERR_UNAUTHORIZED');
      assert.equal(err.retryable, false);
      assert.equal(err.reason, 'Unauthorized: Failed to authenticate tunnel');
      assert.match(err.message, /Unauthorized: Failed to authenticate tunnel/);
      assert.equal((err.cause as { code?: string }).code, 'CFT_ERR_REGISTRATION_REFUSED');
      assert.equal(refusals, 1);
    } finally {
      await edge.close();
    }
  });
}

/** A TCP listener that drops every connection: each connector attempt fails and is retried after a backoff. */
async function droppingEdge(): Promise<{ port: number; attempts: AsyncIterator<unknown[]>; close(): Promise<void> }> {
  const server = createServer((socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    attempts: on(server, 'connection'),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test('a program whose only work is startTunnel() stays alive while startup is pending, and an abort says why', async () => {
  const edge = await droppingEdge();
  const dir = mkdtempSync(join(tmpdir(), 'cftunnel-startup-'));
  const { token } = makeToken();
  const script = join(dir, 'only-start-tunnel.mjs');
  // The signal handler is the test's way in; it holds no handle, so it cannot keep the process alive itself.
  writeFileSync(
    script,
    `import { startTunnel } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};
const abort = new AbortController();
process.on('SIGUSR2', () => abort.abort());
startTunnel({ token: ${JSON.stringify(token)}, edge: ['127.0.0.1:${edge.port}'], protocol: 'http2', signal: abort.signal }).then(
  () => console.log(JSON.stringify({ outcome: 'connected' })),
  (err) => console.log(JSON.stringify({ outcome: 'rejected', code: err.code, cause: err.cause?.code, causeMessage: err.cause?.message })),
);
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  try {
    // Two attempts means the process lived through a reconnect backoff wait, when only unref'd timers are pending.
    const secondAttempt = (async () => {
      await edge.attempts.next();
      await edge.attempts.next();
      return 'second attempt' as const;
    })();
    const first = await Promise.race([
      secondAttempt,
      exited.then(([code]) => `exited with ${code} (stdout ${JSON.stringify(stdout)})`),
    ]);
    assert.equal(first, 'second attempt');
    child.kill('SIGUSR2');
    const [code] = await exited;
    assert.equal(code, 0);
    const result = JSON.parse(stdout.trim()) as Record<string, string | undefined>;
    assert.equal(result.outcome, 'rejected');
    assert.equal(result.code, 'CFT_ERR_ABORTED');
    // The cause is the last connection error, not the abort.
    assert.ok(result.cause !== undefined && result.cause !== 'ABORT_ERR', JSON.stringify(result));
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await edge.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every form the token and the secret could take in printed output. */
function secretForms(token: string, secret: Buffer): string[] {
  return [
    token,
    secret.toString('base64'),
    secret.toString('hex'),
    inspect(secret).slice(8, 40),
    secret.toString('base64url'),
  ];
}

function assertNoSecret(text: string, forms: string[], what: string): void {
  for (const form of forms) assert.ok(!text.includes(form), `${what} shows a secret (${form.slice(0, 6)}…)`);
}

test('util.inspect of a running tunnel, its credentials and its errors never shows the token or the secret', async () => {
  const { token, secret } = makeToken();
  const forms = secretForms(token, secret);
  const edge = await LocalEdge.start({ tunnels: [token] });
  const origin = await startOrigin((_req, res) => res.end('ok'));
  const tunnel = await startTunnel({
    token,
    url: origin.url,
    edge: [`127.0.0.1:${edge.address.port}`],
    caCert: edge.caPem,
    protocol: 'http2',
  });
  try {
    assertNoSecret(inspect(tunnel), forms, 'inspect(tunnel)');
    assert.match(inspect(tunnel), new RegExp(`^Tunnel .*${tunnel.credentials.tunnelId}`, 's'));
    assertNoSecret(inspect(tunnel, { depth: Infinity, showHidden: true }), forms, 'inspect(tunnel) deep');
    // Everything reachable through the object's properties, the custom view bypassed.
    assertNoSecret(
      inspect(tunnel, {
        depth: 6,
        showHidden: true,
        customInspect: false,
        maxArrayLength: 1000,
        maxStringLength: Infinity,
      }),
      forms,
      'raw tunnel',
    );
    assertNoSecret(inspect(parseToken(token), { depth: Infinity, showHidden: true }), forms, 'credentials');
    assertNoSecret(JSON.stringify(parseToken(token)), forms, 'JSON credentials');
    assertNoSecret(
      inspect(constructionError({ token, protocol: 'nonsense' }), { depth: Infinity, showHidden: true }),
      forms,
      'options error',
    );
    const refused = await startTunnel({
      token: makeToken().token,
      edge: [`127.0.0.1:${edge.address.port}`],
      caCert: edge.caPem,
      protocol: 'http2',
    }).catch((e: unknown) => e);
    assert.ok(refused instanceof UnauthorizedTokenError);
    assertNoSecret(inspect(refused, { depth: Infinity, showHidden: true }), forms, 'Unauthorized error');
  } finally {
    await tunnel.close({ graceMs: 0 });
    await origin.close();
    await edge.close();
  }
});
