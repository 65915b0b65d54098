/** The CLI as a process: exit codes and one-line messages for usage errors and startup failures; help and version. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoHelp, DEMO_FLAGS } from '../../src/cli/demo-command.js';
import { edgeHelp, EDGE_FLAGS } from '../../src/cli/edge-command.js';
import { tunnelRunHelp } from '../../src/cli/tunnel-run-command.js';
import { RUN_FLAGS, UNSUPPORTED_RUN_FLAGS } from '../../src/cli/run-flags.js';
import { makeToken } from '../helpers/tunnel-env.js';
import { runCli } from './child.js';
import { runMain, type MainResult as Result } from '../helpers/run-main.js';

const EDGE = ['--edge', '127.0.0.1:7844'];

const LABEL_REFUSED = 'flag --label is not supported by cftunnel (the management service is not implemented)';

test(
  'as a process: a refused flag and a bad --edge-ip-version exit 2, a bad token exits 1, each with one line on stderr',
  { timeout: 150_000 },
  async () => {
    const [refused, badIpVersion, badToken] = await Promise.all([
      runCli(['tunnel', 'run', '--token', makeToken().token, ...EDGE, '--label', 'host-1']),
      runCli(['tunnel', 'run', '--token', makeToken().token, '--edge-ip-version', '7']),
      runCli(['run', ...EDGE], { TUNNEL_TOKEN: 'not-a-token' }),
    ]);
    assert.deepEqual(refused, { code: 2, stdout: '', stderr: `cftunnel: error: ${LABEL_REFUSED}` });
    assert.deepEqual(badIpVersion, {
      code: 2,
      stdout: '',
      stderr: 'cftunnel: error: invalid value for edge-ip-version: 7',
    });
    assert.deepEqual(badToken, {
      code: 1,
      stdout: '',
      stderr: 'cftunnel: error: Provided Tunnel token is not valid. It is not padded standard base64.',
    });
  },
);

test('exit codes and messages of main()', async () => {
  const { token } = makeToken();
  const results: Result[] = [];
  // One at a time: each run owns process.exitCode while it runs.
  for (const [argv, env] of [
    [['tunnel', 'run', '--token', token, ...EDGE, '--label', 'host-1']],
    [['run', '--token', token, ...EDGE], { TUNNEL_ICMPV4_SRC: '127.0.0.1' }],
    [['run', '--token', token, ...EDGE, '--frobnicate']],
    [['run', ...EDGE]],
    [['run', '--token', 'not-a-token', ...EDGE]],
    [['run', ...EDGE, '--cacert', '/nonexistent/cftunnel-ca.pem'], { TUNNEL_TOKEN: token }],
    [['--version']],
    [['help']],
    [['tunnel', '--help']],
    [['tunnel', 'create', 'x']],
  ] as Array<[string[], Record<string, string>?]>)
    results.push(await runMain(argv, env));
  const [unsupported, unsupportedEnv, unknown, noToken, badToken, missingCa, version, help, tunnelHelp, subcommand] =
    results as [Result, Result, Result, Result, Result, Result, Result, Result, Result, Result];
  assert.deepEqual(unsupported, { code: 2, stdout: '', stderr: `cftunnel: error: ${LABEL_REFUSED}` });
  assert.equal(unsupportedEnv.code, 2);
  assert.equal(
    unsupportedEnv.stderr,
    'cftunnel: error: environment variable TUNNEL_ICMPV4_SRC (flag --icmpv4-src) is not supported by cftunnel (ICMP proxying is not implemented)',
  );
  assert.equal(unknown.code, 2);
  assert.equal(
    unknown.stderr,
    'cftunnel: error: unknown flag --frobnicate for "cftunnel tunnel run" (see cftunnel tunnel run --help)',
  );
  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /^cftunnel: error: a tunnel token is required/);
  assert.equal(badToken.code, 1);
  assert.equal(
    badToken.stderr,
    'cftunnel: error: Provided Tunnel token is not valid. It is not padded standard base64.',
  );
  assert.equal(missingCa.code, 1);
  assert.match(
    missingCa.stderr,
    /^cftunnel: error: Failed to read --cacert file \/nonexistent\/cftunnel-ca\.pem: ENOENT/,
  );
  assert.equal(missingCa.stderr.split('\n').length, 1);
  assert.equal(version.code, 0);
  assert.match(
    version.stdout,
    /^cftunnel version \d+\.\d+\.\d+ \(wire-compatible with cloudflared 2026\.8\.2; node v\d+/,
  );
  assert.equal(help.code, 0);
  for (const cmd of ['tunnel [flags] run', 'cftunnel run', 'cftunnel edge', 'cftunnel demo', '--version'])
    assert.ok(help.stdout.includes(cmd), cmd);
  assert.equal(tunnelHelp.code, 0);
  assert.ok(tunnelHelp.stdout.includes('--token-file FILE'));
  assert.equal(subcommand.code, 2);
  assert.equal(
    subcommand.stderr,
    'cftunnel: error: cftunnel tunnel create is not supported (cftunnel only runs tunnels; use cloudflared to manage them)',
  );
});

test('--help of every command documents each of its flags', () => {
  const run = tunnelRunHelp();
  for (const f of RUN_FLAGS) assert.ok(run.includes(`--${f.name}`) && run.includes(f.description), f.name);
  for (const f of UNSUPPORTED_RUN_FLAGS) assert.ok(run.includes(`--${f.name}`) && run.includes(f.reason), f.name);
  const edge = edgeHelp();
  for (const f of EDGE_FLAGS) assert.ok(edge.includes(`--${f.name}`) && edge.includes(f.description), f.name);
  const demo = demoHelp();
  for (const f of DEMO_FLAGS) assert.ok(demo.includes(`--${f.name}`) && demo.includes(f.description), f.name);
});
