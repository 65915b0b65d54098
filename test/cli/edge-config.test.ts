import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgeConfigFileError, parseHostPort, readEdgeConfig } from '../../src/cli/edge-command.js';
import { UsageError } from '../../src/cli/errors.js';
import { makeToken } from '../helpers/tunnel-env.js';
import { spawnCli } from './child.js';

test('--config accepts {"version","config"} or a bare document (version 1), and rejects the rest', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-cfg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const write = async (name: string, text: string): Promise<string> => {
    await writeFile(join(dir, name), text);
    return join(dir, name);
  };
  const ingress = { ingress: [{ service: 'http_status:404' }] };
  assert.deepEqual(await readEdgeConfig(await write('v.json', JSON.stringify({ version: 7, config: ingress }))), {
    version: 7,
    config: ingress,
  });
  assert.deepEqual(await readEdgeConfig(await write('bare.json', JSON.stringify(ingress))), {
    version: 1,
    config: ingress,
  });
  for (const [name, text] of [
    ['bad.json', '{nope'],
    ['arr.json', '[]'],
    ['frac.json', '{"version":1.5,"config":{}}'],
  ]) {
    await assert.rejects(readEdgeConfig(await write(name!, text!)), EdgeConfigFileError, name);
  }
  await assert.rejects(readEdgeConfig(join(dir, 'missing.json')), EdgeConfigFileError);
});

test('HOST:PORT parsing for edge listeners', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:7844', '--listen'), { host: '127.0.0.1', port: 7844 });
  assert.deepEqual(parseHostPort('[::1]:0', '--listen'), { host: '::1', port: 0 });
  for (const bad of ['127.0.0.1', ':80', '::1:80', 'host:99999', 'host:'])
    assert.throws(() => parseHostPort(bad, '--listen'), UsageError, bad);
});

test(
  "the edge pushes its --config after registration, prints the connector's answer, and routes by it",
  { timeout: 150_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-cfg-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const configFile = join(dir, 'remote.json');
    await writeFile(configFile, JSON.stringify({ version: 3, config: { ingress: [{ service: 'http_status:418' }] } }));
    const { token } = makeToken();
    const edge = spawnCli([
      'edge',
      '--listen',
      '127.0.0.1:0',
      '--token',
      token,
      '--certs',
      join(dir, 'certs'),
      '--config',
      configFile,
      '--quic=false',
    ]);
    t.after(() => edge.kill());
    const info = JSON.parse(await edge.waitForLine(/"event":"listening"/)) as {
      edge: string;
      http: string;
      ca: string;
      transports: unknown;
    };
    assert.deepEqual(info.transports, { quic: false, http2: true });
    const connector = spawnCli([
      'run',
      '--token',
      token,
      '--edge',
      info.edge,
      '--cacert',
      info.ca,
      '--ha-connections',
      '1',
      '--protocol',
      'http2',
    ]);
    t.after(() => connector.kill());
    const pushed = JSON.parse(await edge.waitForLine(/"event":"config_pushed"/)) as Record<string, unknown>;
    assert.equal(pushed.latestAppliedVersion, 3);
    assert.equal(pushed.err, null);
    assert.equal(pushed.protocol, 'http2');
    assert.equal((await fetch(`${info.http}/`)).status, 418);
    connector.process.kill('SIGINT');
    assert.equal((await connector.exited).code, 0, connector.allOutput());
    edge.process.kill('SIGTERM');
    assert.equal((await edge.exited).code, 0);
  },
);
