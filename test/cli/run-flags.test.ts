import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunFlags } from '../../src/cli/tunnel-run-command.js';
import { UnsupportedFlagError, UsageError, exitCodeFor } from '../../src/cli/errors.js';
import { flagValue } from '../../src/cli/flags.js';
import { UNSUPPORTED_RUN_FLAGS } from '../../src/cli/run-flags.js';
import { resolveRunSettings, resolveToken } from '../../src/cli/run-settings.js';
import { TokenFileError } from '../../src/token/index.js';
import { errorText } from '../../src/errors.js';

const EDGE = ['--edge', '127.0.0.1:7844'];

test('accepts --name value, --name=value, -p, single-dash long names and mixed positionals', () => {
  const p = parseRunFlags(
    ['--token', 'T1', '-p', 'http2', '-ha-connections=3', 'my-tunnel', '--grace-period=1m30s'],
    {},
  );
  assert.equal(flagValue(p, 'token'), 'T1');
  assert.equal(flagValue(p, 'protocol'), 'http2');
  assert.equal(flagValue(p, 'ha-connections'), '3');
  assert.equal(flagValue(p, 'grace-period'), '1m30s');
  assert.deepEqual(p.positionals, ['my-tunnel']);
  assert.equal(p.help, false);
  assert.equal(parseRunFlags(['--help'], {}).help, true);
});

test('--edge is repeatable and takes comma lists, on the command line and in TUNNEL_EDGE', () => {
  const cli = parseRunFlags(['--edge', 'a:1,b:2', '--edge', 'c:3'], { TUNNEL_EDGE: 'x:9' });
  assert.deepEqual(cli.values.get('edge'), ['a:1', 'b:2', 'c:3']);
  const env = parseRunFlags([], { TUNNEL_EDGE: 'x:9, y:8' });
  assert.deepEqual(env.values.get('edge'), ['x:9', 'y:8']);
  assert.equal(env.sources.get('edge'), 'env');
});

test('a flag on the command line beats its environment variable', () => {
  const p = parseRunFlags(['--protocol', 'quic', '--retries', '7'], {
    TUNNEL_TRANSPORT_PROTOCOL: 'http2',
    TUNNEL_RETRIES: '2',
    TUNNEL_GRACE_PERIOD: '5s',
  });
  assert.equal(flagValue(p, 'protocol'), 'quic');
  assert.equal(flagValue(p, 'retries'), '7');
  assert.equal(flagValue(p, 'grace-period'), '5s');
  assert.equal(p.sources.get('grace-period'), 'env');
  assert.equal(p.envNames.get('grace-period'), 'TUNNEL_GRACE_PERIOD');
});

test('every supported environment variable is read', async () => {
  const env = {
    TUNNEL_TOKEN: 'tok',
    TUNNEL_URL: 'http://127.0.0.1:1',
    TUNNEL_EDGE: '127.0.0.1:2',
    TUNNEL_REGION: 'us',
    TUNNEL_EDGE_IP_VERSION: '6',
    TUNNEL_POST_QUANTUM: 'true',
    TUNNEL_TAG: 'env=prod,Team=a b',
    TUNNEL_CACERT: '/ca.pem',
    TUNNEL_TRANSPORT_PROTOCOL: 'h2mux',
    TUNNEL_RETRIES: '3',
    TUNNEL_GRACE_PERIOD: '1m',
    TUNNEL_EDGE_BIND_ADDRESS: '::1',
    TUNNEL_LOGLEVEL: 'debug',
    TUNNEL_LOGFILE: '/tmp/x.log',
    TUNNEL_LOG_OUTPUT: 'JSON',
    TUNNEL_METRICS: '127.0.0.1:0',
    TUNNEL_PIDFILE: '/tmp/x.pid',
    TUNNEL_QUIC_CONN_LEVEL_FLOW_CONTROL_LIMIT: '1048576',
    TUNNEL_QUIC_STREAM_LEVEL_FLOW_CONTROL_LIMIT: '65536',
    CFTUNNEL_CLIENT_VERSION: '2099.1.0',
    NO_TLS_VERIFY: 'true',
    TUNNEL_HTTP_HOST_HEADER: 'app.internal',
    TUNNEL_ORIGIN_SERVER_NAME: 'origin.internal',
    TUNNEL_ORIGIN_CA_POOL: '/origin-ca.pem',
    TUNNEL_NO_CHUNKED_ENCODING: '1',
    TUNNEL_ORIGIN_ENABLE_HTTP2: 'true',
    TUNNEL_PROXY_ADDRESS: '127.0.0.2',
    TUNNEL_PROXY_PORT: '8000',
  };
  const s = await resolveRunSettings(parseRunFlags([], env));
  assert.deepEqual(
    { ...s, noEffectFlags: undefined },
    {
      token: 'tok',
      tokenSource: 'env',
      url: 'http://127.0.0.1:1',
      singleOrigin: {
        service: 'http://127.0.0.1:1',
        originRequest: {
          httpHostHeader: 'app.internal',
          originServerName: 'origin.internal',
          caPool: '/origin-ca.pem',
          noTLSVerify: true,
          disableChunkedEncoding: true,
          http2Origin: true,
          proxyAddress: '127.0.0.2',
          proxyPort: 8000,
        },
      },
      caCertPath: '/ca.pem',
      protocol: 'h2mux',
      haConnections: undefined,
      logLevel: 'debug',
      logFile: '/tmp/x.log',
      output: 'json',
      configFile: undefined,
      pidFile: '/tmp/x.pid',
      noEffectFlags: undefined,
      tunnelArgument: undefined,
      clientVersion: '2099.1.0',
      tunnel: {
        edge: ['127.0.0.1:2'],
        region: 'us',
        edgeIpVersion: '6',
        postQuantum: true,
        retries: 3,
        gracePeriodMs: 60_000,
        edgeBindAddress: '::1',
        metrics: '127.0.0.1:0',
        tags: { env: 'prod', Team: 'a b' },
        configurationFlags: {
          'edge-bind-address': '::1',
          'edge-ip-version': '6',
          loglevel: 'debug',
          metrics: '127.0.0.1:0',
          protocol: 'h2mux',
          retries: '3',
        },
        features: undefined,
        rpcTimeoutMs: undefined,
        quicFlowControl: { maxConnectionWindow: 1_048_576, maxStreamWindow: 65_536 },
      },
    },
  );
});

test('HEAD flags (docs/protocol.md §18): --features/-F, --rpc-timeout, QUIC flow-control limits, --client-version', async () => {
  const s = await resolveRunSettings(
    parseRunFlags(
      [
        '--token',
        't',
        '-F',
        'support_datagram_v3_2,future',
        '--features',
        'other',
        '--rpc-timeout',
        '1.5s',
        '--quic-connection-level-flow-control-limit',
        '20971520',
        '--quic-stream-level-flow-control-limit',
        '4194304',
        '--client-version',
        '2026.1.0',
      ],
      {},
    ),
  );
  assert.deepEqual(s.tunnel.features, ['support_datagram_v3_2', 'future', 'other']);
  assert.equal(s.tunnel.rpcTimeoutMs, 1500);
  assert.equal(s.tunnel.quicFlowControl?.maxConnectionWindow, 20_971_520);
  assert.equal(s.tunnel.quicFlowControl?.maxStreamWindow, 4_194_304);
  assert.equal(s.clientVersion, '2026.1.0');
  const defaults = await resolveRunSettings(parseRunFlags(['--token', 't'], {}));
  assert.deepEqual(
    [
      defaults.tunnel.features,
      defaults.tunnel.rpcTimeoutMs,
      defaults.tunnel.quicFlowControl?.maxConnectionWindow,
      defaults.tunnel.quicFlowControl?.maxStreamWindow,
      defaults.clientVersion,
    ],
    [undefined, undefined, undefined, undefined, undefined],
  );
  for (const bad of [
    ['--rpc-timeout', '5'],
    ['--rpc-timeout', '0s'],
    ['--quic-stream-level-flow-control-limit', '-1'],
  ]) {
    await assert.rejects(
      resolveRunSettings(parseRunFlags(['--token', 't', ...bad], {})),
      (err: unknown) => err instanceof UsageError,
      bad.join(' '),
    );
  }
});

test('defaults: edge discovery, protocol auto, metrics localhost:0, grace period 30s, log level info, output unset (console lines)', async () => {
  const s = await resolveRunSettings(parseRunFlags(['--token', 't'], {}));
  assert.equal(s.tunnel.edge, undefined);
  assert.equal(s.tunnel.region, undefined);
  assert.equal(s.tunnel.edgeIpVersion, undefined);
  assert.equal(s.tunnel.postQuantum, false);
  assert.equal(s.tunnel.metrics, 'localhost:0');
  assert.equal(s.protocol, 'auto');
  assert.equal(s.tunnel.gracePeriodMs, 30_000);
  assert.equal(s.logLevel, 'info');
  assert.equal(s.output, undefined);
  assert.equal(s.tunnel.retries, undefined);
});

test('token precedence (§1.2): --token beats TUNNEL_TOKEN beats --token-file; the token is used verbatim', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'token');
  await writeFile(file, '\n \t FILE-TOKEN \r\n\n');
  assert.deepEqual(
    await resolveToken(parseRunFlags(['--token', ' CLI ', '--token-file', file], { TUNNEL_TOKEN: 'ENV' })),
    { token: ' CLI ', source: 'flag' },
  );
  assert.deepEqual(await resolveToken(parseRunFlags(['--token-file', file], { TUNNEL_TOKEN: ' ENV' })), {
    token: ' ENV',
    source: 'env',
  });
  assert.deepEqual(await resolveToken(parseRunFlags(['--token-file', file], {})), {
    token: 'FILE-TOKEN',
    source: 'file',
  });
  assert.deepEqual(await resolveToken(parseRunFlags([], { TUNNEL_TOKEN_FILE: file })), {
    token: 'FILE-TOKEN',
    source: 'file',
  });
  // An empty --token counts as absent, so the file is used.
  assert.deepEqual(await resolveToken(parseRunFlags(['--token', '', '--token-file', file], {})), {
    token: 'FILE-TOKEN',
    source: 'file',
  });
});

test('token file errors and a missing token', async () => {
  await assert.rejects(
    resolveToken(parseRunFlags(['--token-file', '/nonexistent/cftunnel/token'], {})),
    (err: unknown) => {
      assert.ok(err instanceof TokenFileError);
      assert.match(errorText(err), /^Failed to read token file: /);
      return true;
    },
  );
  await assert.rejects(
    resolveRunSettings(parseRunFlags(EDGE, {})),
    (err: unknown) => err instanceof UsageError && /token is required/.test(err.message),
  );
});

test('bad values are usage errors (exit code 2)', async () => {
  const bad: string[][] = [
    ['--protocol', 'udp'],
    ['--grace-period', '30'],
    ['--grace-period', '3m1s'],
    ['--grace-period', '-1s'],
    ['--retries', 'five'],
    ['--retries', '-1'],
    ['--ha-connections', '0'],
    ['--edge-bind-address', 'localhost'],
    ['--loglevel', 'verbose'],
    ['--output', 'yaml'],
    ['--edge-ip-version', '7'],
  ];
  for (const args of bad) {
    await assert.rejects(resolveRunSettings(parseRunFlags(['--token', 't', ...EDGE, ...args], {})), (err: unknown) => {
      assert.ok(err instanceof UsageError, args.join(' '));
      assert.equal(exitCodeFor(err), 2);
      return true;
    });
  }
  await assert.rejects(
    resolveRunSettings(parseRunFlags(['--token', 't'], { TUNNEL_EDGE_IP_VERSION: 'ipv4' })),
    (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.equal(err.message, 'invalid value for edge-ip-version: ipv4');
      return true;
    },
  );
  for (const v of ['4', '6', 'auto'] as const) {
    assert.equal(
      (await resolveRunSettings(parseRunFlags(['--token', 't', '--edge-ip-version', v], {}))).tunnel.edgeIpVersion,
      v,
    );
  }
  assert.equal((await resolveRunSettings(parseRunFlags(['--token', 't', '--pq'], {}))).tunnel.postQuantum, true);
  assert.equal(
    (await resolveRunSettings(parseRunFlags(['--token', 't', '--post-quantum=false'], { TUNNEL_POST_QUANTUM: 'true' })))
      .tunnel.postQuantum,
    false,
  );
  await assert.rejects(resolveRunSettings(parseRunFlags(['--token', 't', '--edge', 'nohost'], {})), /not HOST:PORT/);
  assert.equal(
    (await resolveRunSettings(parseRunFlags(['--token', 't', ...EDGE, '--grace-period', '3m'], {}))).tunnel
      .gracePeriodMs,
    180_000,
  );
  assert.equal(
    (await resolveRunSettings(parseRunFlags(['--token', 't', ...EDGE, '--grace-period', '0'], {}))).tunnel
      .gracePeriodMs,
    0,
  );
});

test('usage mistakes in the syntax itself', () => {
  assert.throws(
    () => parseRunFlags(['--token'], {}),
    (e: unknown) => e instanceof UsageError && /needs a value/.test(e.message),
  );
  assert.throws(() => parseRunFlags(['--token', 'a', '--token', 'b'], {}), /given more than once/);
  assert.throws(() => parseRunFlags(['--no-autoupdate=maybe'], {}), /invalid boolean/);
  assert.throws(
    () => parseRunFlags(['--frobnicate'], {}),
    (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.equal(e.message, 'unknown flag --frobnicate for "cftunnel tunnel run" (see cftunnel tunnel run --help)');
      return true;
    },
  );
});

test('every unsupported cloudflared flag and alias is refused by name with a reason, never ignored', () => {
  for (const spec of UNSUPPORTED_RUN_FLAGS) {
    for (const name of [spec.name, ...(spec.aliases ?? [])]) {
      const dashed = name.length === 1 ? `-${name}` : `--${name}`;
      const args = spec.type === 'boolean' ? [dashed] : [`${dashed}=x`];
      assert.throws(
        () => parseRunFlags(['--token', 't', ...args], {}),
        (e: unknown) => {
          assert.ok(e instanceof UnsupportedFlagError, dashed);
          assert.equal(e.message, `flag ${dashed} is not supported by cftunnel (${spec.reason})`);
          assert.equal(exitCodeFor(e), 2);
          return true;
        },
      );
    }
  }
});

test('an unsupported flag set through its environment variable is refused too', () => {
  assert.throws(
    () => parseRunFlags([], { TUNNEL_MAX_ACTIVE_FLOWS: '10' }),
    (e: unknown) => {
      assert.ok(e instanceof UnsupportedFlagError);
      assert.equal(
        e.message,
        'environment variable TUNNEL_MAX_ACTIVE_FLOWS (flag --max-active-flows) is not supported by cftunnel (private-network flow limits are not implemented)',
      );
      return true;
    },
  );
});

test('a refused boolean flag set to false asks for what cftunnel does anyway: accepted, on the command line and in the environment', () => {
  const p = parseRunFlags(
    ['--token', 't', '--management-diagnostics=false', '--stdin-control=0', '--quic-disable-pmtu-discovery=f'],
    { TUNNEL_MANAGEMENT_DIAGNOSTICS: 'false', STDIN_CONTROL: 'FALSE' },
  );
  assert.equal(flagValue(p, 'token'), 't');
  assert.equal(p.values.has('management-diagnostics'), false);
  assert.deepEqual(p.positionals, []);
  // Turned on, it is refused as before; a value that is no boolean is a usage error.
  for (const [argv, env] of [
    [['--management-diagnostics=true'], {}],
    [[], { TUNNEL_MANAGEMENT_DIAGNOSTICS: 'true' }],
  ] as const) {
    assert.throws(() => parseRunFlags(['--token', 't', ...argv], env), UnsupportedFlagError);
  }
  assert.throws(
    () => parseRunFlags(['--token', 't', '--management-diagnostics=nope'], {}),
    (e: unknown) =>
      e instanceof UsageError && e.message === 'invalid boolean value "nope" for flag --management-diagnostics',
  );
});

test('compatibility flags are accepted and reported as having no effect', async () => {
  const s = await resolveRunSettings(
    parseRunFlags(['--token', 't', ...EDGE, '--no-autoupdate', '--heartbeat-count', '5', 'tunnel-name'], {}),
  );
  assert.deepEqual(s.noEffectFlags.sort(), ['heartbeat-count', 'no-autoupdate']);
  assert.equal(s.tunnelArgument, 'tunnel-name');
});

test("--tag NAME=VALUE with cloudflared's character rules; a bad tag is a usage error with cloudflared's text", async () => {
  const s = await resolveRunSettings(
    parseRunFlags(['--token', 't', '--tag', "x-a!#$%&'*+.^_`|~=v a=l~", '--tag', 'k=1,k=2'], {}),
  );
  assert.deepEqual(s.tunnel.tags, { "x-a!#$%&'*+.^_`|~": 'v a=l~', k: '2' });
  for (const bad of ['novalue', '=v', 'sp ace=v', 'k=', 'k=caf\u00e9', 'k=tab\there']) {
    await assert.rejects(resolveRunSettings(parseRunFlags(['--token', 't', '--tag', bad], {})), (e: unknown) => {
      assert.ok(e instanceof UsageError, bad);
      assert.equal(e.message, `Tag parse failure: Cannot parse tag value ${bad}`);
      return true;
    });
  }
});

test('__configuration_flags: only set, non-empty listed flags; durations in Go format; the metrics default is not echoed', async () => {
  const s = await resolveRunSettings(
    parseRunFlags(
      [
        '--token',
        't',
        '--autoupdate-freq',
        '90m',
        '--no-autoupdate',
        '--url',
        'http://127.0.0.1:1',
        '--loglevel',
        'warn',
      ],
      { TUNNEL_METRICS_UPDATE_FREQ: '5s' },
    ),
  );
  assert.deepEqual(s.tunnel.configurationFlags, {
    'autoupdate-freq': '1h30m0s',
    'no-autoupdate': 'true',
    'metrics-update-freq': '5s',
    loglevel: 'warn',
  });
  assert.equal(s.tunnel.metrics, 'localhost:0');
});
