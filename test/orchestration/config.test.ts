/**
 * Remote configuration (docs/protocol.md §9): full validation before apply, version semantics, the vectors' configs,
 * the YAML config file and the `updateLocalConfiguration` payload (§9.4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '../helpers/fixtures.js';
import { ORIGIN_REQUEST_DEFAULTS } from '../../src/ingress/origin-request.js';
import { ERR_LAST_RULE_NOT_CATCH_ALL } from '../../src/ingress/rules.js';
import { INITIAL_CONFIG_VERSION, Orchestrator } from '../../src/orchestration/orchestrator.js';
import { parseTunnelConfig, type TunnelConfig } from '../../src/orchestration/remote-config.js';
import {
  ConfigFileError,
  configFromUrl,
  loadConfigFile,
  localConfigurationJson,
  NO_INGRESS_RULES_WARNING,
  parseConfigFile,
} from '../../src/orchestration/local-config.js';

const inputs = JSON.parse(readFileSync(fixturePath('vectors/inputs.json'), 'utf8')) as {
  configs: Record<string, unknown>;
};
const V1 = inputs.configs['1']!;
const V2 = inputs.configs['2']!;
const V3_INVALID = inputs.configs['3 (invalid, rejected)']!;

function orchestrator(): Orchestrator {
  return new Orchestrator(configFromUrl(undefined));
}

test('vectors: v1 applies (hello_world + http_status:404 catch-all)', async () => {
  const o = orchestrator();
  assert.equal(o.currentVersion, INITIAL_CONFIG_VERSION);
  assert.deepEqual(await o.updateConfiguration(1, JSON.stringify(V1)), { latestAppliedVersion: 1, err: null });
  assert.equal(o.config.ingress.match('hello.test', '/').service.kind, 'hello_world');
  assert.equal(o.config.ingress.match('other.test', '/').service.canonical, 'http_status:404');
  assert.equal(o.config.warpRouting.enabled, false);
});

test('vectors: v2 applies over v1; warp-routing enabled is accepted', async () => {
  const o = orchestrator();
  await o.updateConfiguration(1, JSON.stringify(V1));
  assert.deepEqual(await o.updateConfiguration(2, JSON.stringify(V2)), { latestAppliedVersion: 2, err: null });
  assert.equal(o.config.ingress.match('status.test', '/').service.canonical, 'http_status:418');
  assert.equal(o.config.ingress.match('echo.test', '/').service.canonical, 'http://127.0.0.1:8002');
  assert.equal(o.config.ingress.match('nope.test', '/').service.canonical, 'http://127.0.0.1:8000');
  assert.equal(o.config.warpRouting.enabled, true);
});

test("vectors: v3 is rejected with cloudflared's exact text and the last good config stays", async () => {
  const o = orchestrator();
  await o.updateConfiguration(2, JSON.stringify(V2));
  const before = o.config;
  assert.deepEqual(await o.updateConfiguration(3, JSON.stringify(V3_INVALID)), {
    latestAppliedVersion: 2,
    err: ERR_LAST_RULE_NOT_CATCH_ALL,
  });
  assert.equal(
    ERR_LAST_RULE_NOT_CATCH_ALL,
    'The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)',
  );
  assert.equal(o.config, before);
  assert.equal(o.currentVersion, 2);
});

test('version semantics: <= current is ignored without error; the first version 0 applies; events fire once per swap', async () => {
  const o = orchestrator();
  const seen: number[] = [];
  o.on('config', (v) => seen.push(v));
  assert.deepEqual(await o.updateConfiguration(0, JSON.stringify(V1)), { latestAppliedVersion: 0, err: null });
  assert.deepEqual(await o.updateConfiguration(0, JSON.stringify(V2)), { latestAppliedVersion: 0, err: null });
  assert.deepEqual(await o.updateConfiguration(-5, JSON.stringify(V2)), { latestAppliedVersion: 0, err: null });
  assert.equal(
    o.config.ingress.match('hello.test', '/').service.kind,
    'hello_world',
    'ignored versions changed nothing',
  );
  assert.deepEqual(await o.updateConfiguration(7, JSON.stringify(V2)), { latestAppliedVersion: 7, err: null });
  assert.deepEqual(seen, [0, 7]);
});

test('every originRequest value is type-checked; one bad value fails the whole update', async () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ connectTimeout: 1.5 }, /strconv\.ParseInt: parsing "1\.5": invalid syntax/],
    [{ keepAliveTimeout: '30s' }, /strconv\.ParseInt/],
    [{ noTLSVerify: 'yes' }, /cannot unmarshal string into Go struct field .*noTLSVerify of type bool/],
    [{ keepAliveConnections: 2.5 }, /cannot unmarshal number .* of type int/],
    [{ proxyPort: -1 }, /of type uint/],
    [{ httpHostHeader: 5 }, /of type string/],
    [{ access: { required: 'true' } }, /access\.required of type bool/],
    [{ ipRules: [{ prefix: 10 }] }, /prefix of type string/],
  ];
  for (const [originRequest, message] of bad) {
    for (const where of ['rule', 'top'] as const) {
      const o = orchestrator();
      const before = o.config;
      const doc =
        where === 'rule'
          ? {
              ingress: [
                { hostname: 'a.test', service: 'http://127.0.0.1:1', originRequest },
                { service: 'http_status:404' },
              ],
            }
          : { originRequest, ingress: [{ service: 'http_status:404' }] };
      const res = await o.updateConfiguration(1, JSON.stringify(doc));
      assert.equal(res.latestAppliedVersion, INITIAL_CONFIG_VERSION, JSON.stringify(doc));
      assert.match(res.err ?? '', message);
      assert.equal(o.config, before);
    }
  }
});

test('wrongly typed rule members and documents are rejected', async () => {
  for (const doc of [
    '{"ingress":{}}',
    '{"ingress":[{"service":5}]}',
    '{"ingress":[1]}',
    '[]',
    'not json',
    '{"warp-routing":{"enabled":"yes"}}',
  ]) {
    const o = orchestrator();
    const res = await o.updateConfiguration(1, doc);
    assert.equal(res.latestAppliedVersion, -1, doc);
    assert.ok(res.err !== null && res.err !== '', doc);
  }
});

test('member names match case-insensitively (Go encoding/json); unknown members are ignored', () => {
  const cfg = parseTunnelConfig(
    '{"Ingress":[{"HOSTNAME":"a.test","Service":"http://127.0.0.1:1","originrequest":{"ConnectTimeout":7}},{"service":"http_status:404"}],"extra":1}',
  );
  const rule = cfg.ingress.match('a.test', '/');
  assert.equal(rule.service.canonical, 'http://127.0.0.1:1');
  assert.equal(rule.originRequest.connectTimeout, 7);
});

test('originRequest inheritance per field: rule value, else top-level, else default (§10.4)', () => {
  const cfg = parseTunnelConfig(
    JSON.stringify({
      originRequest: { connectTimeout: 11, noTLSVerify: true, httpHostHeader: 'top.internal' },
      ingress: [
        { hostname: 'a.test', service: 'https://127.0.0.1:1', originRequest: { connectTimeout: 3 } },
        { service: 'http_status:404' },
      ],
    }),
  );
  const a = cfg.ingress.match('a.test', '/').originRequest;
  assert.equal(a.connectTimeout, 3);
  assert.equal(a.noTLSVerify, true);
  assert.equal(a.httpHostHeader, 'top.internal');
  assert.equal(a.tlsTimeout, ORIGIN_REQUEST_DEFAULTS.tlsTimeout);
  assert.equal(cfg.ingress.match('b.test', '/').originRequest.connectTimeout, 11);
});

test('empty or missing ingress gives the 503 catch-all (§9.2)', () => {
  for (const doc of ['{}', '{"ingress":[]}', 'null']) {
    assert.equal(parseTunnelConfig(doc).ingress.match('x', '/').service.canonical, 'http_status:503', doc);
  }
});

const YAML_FILE = `
tunnel: 9d1b2a4e-6c3f-4f1e-9a7b-0c2d3e4f5a6b
credentials-file: /etc/cloudflared/9d1b2a4e.json
protocol: http2
loglevel: debug
originRequest:
  connectTimeout: 10s
  keepAliveTimeout: 1m30s
ingress:
  - hostname: app.test
    service: http://127.0.0.1:8080
    originRequest:
      httpHostHeader: internal.app
      noTLSVerify: true
  - hostname: "*.static.test"
    path: ^/assets/
    service: https://127.0.0.1:8443
    originRequest:
      tlsTimeout: 2s
  - hostname: ssh.test
    service: ssh://127.0.0.1
  - service: http_status:404
warp-routing:
  enabled: true
`;

const SAME_AS_JSON = {
  originRequest: { connectTimeout: 10, keepAliveTimeout: 90 },
  ingress: [
    {
      hostname: 'app.test',
      service: 'http://127.0.0.1:8080',
      originRequest: { httpHostHeader: 'internal.app', noTLSVerify: true },
    },
    {
      hostname: '*.static.test',
      path: '^/assets/',
      service: 'https://127.0.0.1:8443',
      originRequest: { tlsTimeout: 2 },
    },
    { hostname: 'ssh.test', service: 'ssh://127.0.0.1' },
    { service: 'http_status:404' },
  ],
  'warp-routing': { enabled: true },
};

const REQUESTS: Array<[string, string]> = [
  ['app.test', '/'],
  ['app.test:443', '/x?y'],
  ['a.static.test', '/assets/app.js'],
  ['a.static.test', '/other'],
  ['ssh.test', '/'],
  ['none.test', '/'],
];

function decisions(cfg: TunnelConfig): unknown[] {
  return REQUESTS.map(([host, path]) => {
    const r = cfg.ingress.match(host, path);
    return [r.index, r.service.canonical, r.originRequest];
  });
}

test('YAML config file: same routing decisions and options as the equivalent remote JSON', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cft-config-'));
  try {
    const path = join(dir, 'config.yml');
    await writeFile(path, YAML_FILE);
    const file = await loadConfigFile(path);
    assert.equal(file.source, path);
    assert.equal(file.tunnel, '9d1b2a4e-6c3f-4f1e-9a7b-0c2d3e4f5a6b');
    assert.equal(file.credentialsFile, '/etc/cloudflared/9d1b2a4e.json');
    assert.deepEqual(file.flags, {
      'credentials-file': '/etc/cloudflared/9d1b2a4e.json',
      protocol: 'http2',
      loglevel: 'debug',
    });
    assert.equal(file.hasIngress, true);
    assert.deepEqual(file.warnings, []);
    assert.deepEqual(decisions(file.config), decisions(parseTunnelConfig(JSON.stringify(SAME_AS_JSON))));
    assert.equal(file.config.warpRouting.enabled, true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('YAML config file: the same validation messages; durations must be Go duration text', () => {
  assert.throws(() => parseConfigFile('ingress:\n  - hostname: a.test\n    service: http://h:1\n'), {
    message: ERR_LAST_RULE_NOT_CATCH_ALL,
  });
  assert.throws(
    () => parseConfigFile('ingress:\n  - service: http://h:1/x\n'),
    /don't support proxying to a different path/,
  );
  assert.throws(
    () => parseConfigFile('originRequest:\n  connectTimeout: 10\ningress:\n  - service: http_status:404\n'),
    /time\.Duration/,
  );
  assert.throws(() => parseConfigFile('originRequest:\n  connectTimeout: 10 parsecs\n'), /invalid duration/);
  assert.throws(() => parseConfigFile('ingress: [\n'), ConfigFileError);
  const empty = parseConfigFile('protocol: quic\n');
  assert.equal(empty.hasIngress, false);
  assert.deepEqual(empty.warnings, [NO_INGRESS_RULES_WARNING]);
  assert.equal(empty.config.ingress.match('a', '/').service.canonical, 'http_status:503');
});

test('loadConfigFile reports a missing file as ConfigFileError', async () => {
  await assert.rejects(loadConfigFile(join(tmpdir(), 'cft-does-not-exist.yml')), ConfigFileError);
});

test('--url is a single catch-all rule; its originRequest flags apply to it', () => {
  const cfg = configFromUrl('http://127.0.0.1:8080', { httpHostHeader: 'h.internal' });
  assert.equal(cfg.ingress.rules.length, 1);
  assert.equal(cfg.ingress.match('any', '/').service.canonical, 'http://127.0.0.1:8080');
  assert.equal(cfg.ingress.rules[0]!.originRequest.httpHostHeader, 'h.internal');
  assert.throws(() => configFromUrl('localhost:8080'), /invalid address/);
});

test('updateLocalConfiguration payload: flags, non-default originRequest only, canonical services (§9.4)', () => {
  const file = parseConfigFile(YAML_FILE);
  const json = localConfigurationJson(file.config, {
    protocol: 'http2',
    loglevel: 'debug',
    metrics: '',
    'grace-period': '5s',
    retries: '3',
  });
  assert.deepEqual(JSON.parse(json.toString('utf8')), {
    __configuration_flags: { loglevel: 'debug', protocol: 'http2', retries: '3' },
    ingress: [
      {
        hostname: 'app.test',
        service: 'http://127.0.0.1:8080',
        originRequest: { connectTimeout: 10, httpHostHeader: 'internal.app', noTLSVerify: true },
      },
      {
        hostname: '*.static.test',
        path: '^/assets/',
        service: 'https://127.0.0.1:8443',
        originRequest: { connectTimeout: 10, tlsTimeout: 2 },
      },
      { hostname: 'ssh.test', service: 'ssh://127.0.0.1:22', originRequest: { connectTimeout: 10 } },
      { service: 'http_status:404', originRequest: { connectTimeout: 10 } },
    ],
    'warp-routing': { enabled: true },
  });
  assert.ok(
    json
      .toString()
      .startsWith('{"__configuration_flags":{"loglevel":"debug","protocol":"http2","retries":"3"},"ingress":'),
    'Go member order',
  );
  const bare = JSON.parse(localConfigurationJson(configFromUrl(undefined)).toString()) as Record<string, unknown>;
  assert.deepEqual(bare, {
    ingress: [{ service: 'http_status:503', originRequest: {} }],
    'warp-routing': { enabled: false },
  });
  // The payload is itself a valid remote configuration with the same routing.
  assert.deepEqual(decisions(parseTunnelConfig(json.toString())), decisions(file.config));
});
