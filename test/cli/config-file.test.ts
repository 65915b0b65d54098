/** `tunnel run --config FILE`: file keys are defaults for flags (flag > environment > file, like cloudflared's altsrc). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunFlags } from '../../src/cli/tunnel-run-command.js';
import { applyConfigFile, ConfigFileValueError } from '../../src/cli/config-file.js';
import { exitCodeFor, UnsupportedFlagError, UsageError } from '../../src/cli/errors.js';
import { main } from '../../src/cli/main.js';
import { RUN_FLAGS, UNSUPPORTED_RUN_FLAGS } from '../../src/cli/run-flags.js';
import { resolveRunSettings } from '../../src/cli/run-settings.js';
import { IngressConfigError } from '../../src/ingress/errors.js';
import { ConfigFileError } from '../../src/orchestration/local-config.js';

async function tempDir(t: {
  after(fn: () => unknown): void;
}): Promise<(name: string, text: string) => Promise<string>> {
  const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return async (name, text) => {
    await writeFile(join(dir, name), text);
    return join(dir, name);
  };
}

function apply(argv: string[], env: Record<string, string>, path: string) {
  return applyConfigFile(parseRunFlags(argv, env), path, RUN_FLAGS, UNSUPPORTED_RUN_FLAGS);
}

test('file keys fill flags set neither on the command line nor in the environment; YAML lists, numbers and booleans', async (t) => {
  const write = await tempDir(t);
  const file = await write(
    'config.yml',
    [
      'token: FILE-TOKEN',
      'edge:',
      '  - 127.0.0.1:7001',
      '  - 127.0.0.1:7002',
      'ha-connections: 3',
      'protocol: quic',
      'retries: 9',
      'post-quantum: true',
      'metrics: 127.0.0.1:0',
      'grace-period: 10s',
      'loglevel: debug',
      'no-autoupdate: true',
    ].join('\n'),
  );
  const applied = await apply(['--protocol', 'http2'], { TUNNEL_RETRIES: '2' }, file);
  assert.deepEqual(applied.ignoredKeys, []);
  assert.deepEqual(
    [...applied.applied].sort(),
    ['edge', 'grace-period', 'ha-connections', 'loglevel', 'metrics', 'no-autoupdate', 'post-quantum', 'token'].sort(),
  );
  assert.equal(applied.parsed.sources.get('protocol'), 'flag');
  assert.equal(applied.parsed.sources.get('retries'), 'env');
  assert.equal(applied.parsed.sources.get('edge'), 'config');
  const s = await resolveRunSettings(applied.parsed);
  assert.deepEqual(
    [
      s.token,
      s.tokenSource,
      s.tunnel.edge,
      s.haConnections,
      s.protocol,
      s.tunnel.retries,
      s.tunnel.postQuantum,
      s.tunnel.metrics,
      s.tunnel.gracePeriodMs,
      s.logLevel,
      s.noEffectFlags,
    ],
    [
      'FILE-TOKEN',
      'config',
      ['127.0.0.1:7001', '127.0.0.1:7002'],
      3,
      'http2',
      2,
      true,
      '127.0.0.1:0',
      10_000,
      'debug',
      ['no-autoupdate'],
    ],
  );
});

test('refused flags in the file are refused by key; unknown keys are only reported; wrong YAML types fail with exit code 1', async (t) => {
  const write = await tempDir(t);
  await assert.rejects(apply([], {}, await write('icmp.yml', 'icmpv4-src: 127.0.0.1\n')), (e: unknown) => {
    assert.ok(e instanceof UnsupportedFlagError);
    assert.equal(
      e.message,
      'config file key icmpv4-src (flag --icmpv4-src) is not supported by cftunnel (ICMP proxying is not implemented)',
    );
    assert.equal(exitCodeFor(e), 2);
    return true;
  });
  // Set to false, a refused boolean key asks for what cftunnel does anyway.
  const off = await apply([], {}, await write('off.yml', 'management-diagnostics: false\nurl: http://127.0.0.1:9\n'));
  assert.deepEqual(off.applied, ['url']);
  await assert.rejects(apply([], {}, await write('on.yml', 'management-diagnostics: true\n')), UnsupportedFlagError);
  const unknown = await apply(
    [],
    {},
    await write('unknown.yml', 'frobnicate: 1\nconfig: other.yml\nurl: http://127.0.0.1:9\n'),
  );
  assert.deepEqual(unknown.ignoredKeys, ['frobnicate', 'config']);
  assert.deepEqual(unknown.applied, ['url']);
  for (const [name, text, message] of [
    ['bool.yml', 'post-quantum: "yes"\n', 'expected boolean found string for post-quantum'],
    ['map.yml', 'protocol: {a: 1}\n', 'expected string found object for protocol'],
    ['list.yml', 'edge: [1]\n', 'expected a list of strings for edge, found number in it'],
  ] as const) {
    const path = await write(name, text);
    await assert.rejects(apply([], {}, path), (e: unknown) => {
      assert.ok(e instanceof ConfigFileValueError, name);
      assert.equal(e.message, `config file ${path}: ${message}`);
      assert.equal(exitCodeFor(e), 1);
      return true;
    });
  }
  await assert.rejects(apply([], {}, join(tmpdir(), 'cftunnel-no-such-config.yml')), ConfigFileError);
  await assert.rejects(apply([], {}, await write('bad.yml', 'edge: [unclosed\n')), ConfigFileError);
});

test('ingress rules (with originRequest) become the local configuration; originRequest/warp-routing without ingress are reported unused', async (t) => {
  const write = await tempDir(t);
  const ingress = await write(
    'ingress.yml',
    'ingress:\n  - hostname: a.example.com\n    service: http://127.0.0.1:1\n  - service: http_status:404\noriginRequest:\n  connectTimeout: 5s\n',
  );
  const applied = await apply(['--token', 't'], {}, ingress);
  assert.deepEqual(
    applied.localConfig?.ingress.rules.map((r) => [r.hostname, r.service.canonical, r.originRequest.connectTimeout]),
    [
      ['a.example.com', 'http://127.0.0.1:1', 5],
      ['', 'http_status:404', 5],
    ],
  );
  assert.deepEqual(applied.unusedSections, []);
  const sections = await apply(
    [],
    {},
    await write('warp.yml', 'warp-routing:\n  enabled: true\noriginRequest:\n  noTLSVerify: true\n'),
  );
  assert.equal(sections.localConfig, undefined);
  assert.deepEqual(sections.unusedSections, ['originRequest', 'warp-routing']);
  // Invalid ingress fails with the ingress validator's error (exit code 1), e.g. no catch-all last rule.
  await assert.rejects(
    apply(
      [],
      {},
      await write('nocatchall.yml', 'ingress:\n  - hostname: a.example.com\n    service: http://127.0.0.1:1\n'),
    ),
    (e: unknown) => {
      assert.ok(e instanceof IngressConfigError);
      assert.equal(exitCodeFor(e), 1);
      return true;
    },
  );
});

test('tunnel and credentials-file keys: ignored next to a token, a clear usage error without one', async (t) => {
  const write = await tempDir(t);
  const file = await write(
    'named.yml',
    'tunnel: 6ff42ae2-765d-4adf-8112-31c55c1551ef\ncredentials-file: /root/.cloudflared/x.json\n',
  );
  const withToken = await apply(['--token', 'T'], {}, file);
  assert.equal((await resolveRunSettings(withToken.parsed, withToken.nonTokenRun)).token, 'T');
  const without = await apply([], {}, file);
  await assert.rejects(resolveRunSettings(without.parsed, without.nonTokenRun), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.equal(
      e.message,
      `config file ${file} names tunnel 6ff42ae2-765d-4adf-8112-31c55c1551ef and credentials-file /root/.cloudflared/x.json, but cftunnel only runs tunnels with a token: pass --token or --token-file, or set TUNNEL_TOKEN (runs with a credentials file are not supported)`,
    );
    return true;
  });

  // Through main(): the same message, exit code 2, one line.
  const err: string[] = [];
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await main(['tunnel', 'run', '--config', file], {
      stdout: { write: () => undefined },
      stderr: { write: (s: string) => err.push(s) },
      env: {},
    });
    assert.equal(process.exitCode, 2);
  } finally {
    process.exitCode = saved;
  }
  assert.equal(
    err.join(''),
    `cftunnel: error: config file ${file} names tunnel 6ff42ae2-765d-4adf-8112-31c55c1551ef and credentials-file /root/.cloudflared/x.json, but cftunnel only runs tunnels with a token: pass --token or --token-file, or set TUNNEL_TOKEN (runs with a credentials file are not supported)\n`,
  );
});
