/**
 * How the CLI fails: usage errors exit 2 with one line before anything starts (`--url` scheme, `--metrics`), a
 * `--cacert` problem names the file, and an edge whose certificate is not trusted is redialled (as cloudflared
 * does) with one log line saying why every attempt fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEdgeCertificates } from '../../src/local-edge/certs.js';
import { makeToken } from '../helpers/tunnel-env.js';
import { assertNoSecret, runCli, spawnCli, startEdge, stopGracefully } from './child.js';

test(
  'usage errors exit 2 with one line and no log; a --cacert without a certificate names its file',
  { timeout: 150_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-fail-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const notPem = join(dir, 'not-a-bundle.pem');
    await writeFile(notPem, 'hello\n');
    const { token } = makeToken();
    const base = ['tunnel', 'run', '--token', token, '--edge', '127.0.0.1:9'];
    const [ftp, metrics, badProxyTimeout, cacert] = await Promise.all([
      runCli([...base, '--url', 'ftp://x']),
      runCli([...base, '--metrics', 'notanaddr']),
      runCli([...base, '--url', 'localhost:1', '--proxy-connect-timeout', 'soon']),
      runCli([...base, '--cacert', notPem]),
    ]);
    assert.deepEqual(ftp, {
      code: 2,
      stdout: '',
      stderr:
        'cftunnel: error: Error validating origin URL: Currently Cloudflare Tunnel does not support ftp protocol.',
    });
    assert.deepEqual(metrics, {
      code: 2,
      stdout: '',
      stderr: 'cftunnel: error: invalid value "notanaddr" for --metrics: expected HOST:PORT (e.g. 127.0.0.1:20241)',
    });
    assert.equal(badProxyTimeout.code, 2);
    assert.match(badProxyTimeout.stderr, /^cftunnel: error: invalid value "soon" for flag --proxy-connect-timeout: /);
    assert.equal(cacert.code, 1);
    assert.equal(cacert.stderr.split('\n').length, 1, cacert.stderr);
    assert.ok(cacert.stderr.startsWith(`cftunnel: error: Failed to read --cacert file ${notPem}: `), cacert.stderr);
    assert.match(cacert.stderr, /no PEM certificate/);
  },
);

test(
  'an edge signed by a CA not in --cacert: redialled, with one line saying why each attempt fails',
  { timeout: 150_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cftunnel-cli-tls-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const { token, secret } = makeToken();
    const { info } = await startEdge(token, join(dir, 'certs'), t);
    const otherCa = join(dir, 'other-ca.pem');
    await writeFile(otherCa, (await generateEdgeCertificates({ caCommonName: 'some other CA' })).caPem);
    const connector = spawnCli([
      'run',
      '--token',
      token,
      '--edge',
      info.edge,
      '--cacert',
      otherCa,
      '--url',
      'localhost:1',
    ]);
    t.after(() => connector.kill());
    const hint = await connector.waitForLine(/ ERR The edge at /, 'stderr');
    assert.ok(
      hint.includes(
        `The edge at ${info.edge} presents a certificate signed by an authority that is not trusted (trusted: --cacert ${otherCa}); cftunnel keeps redialling`,
      ),
      hint,
    );
    // Two more failed attempts later, the explanation is still logged once, and the run is still going.
    const retries = (): number =>
      connector.stderrLines.filter((l) => l.includes('Retrying connection in up to')).length;
    await connector.waitForLine(() => retries() >= 3, 'stderr');
    assert.equal(connector.stderrLines.filter((l) => l.includes(' ERR The edge at ')).length, 1);
    for (const line of connector.stderrLines.filter((l) => l.includes('Connection terminated'))) {
      // The error text says what failed once: no cause text repeated after itself.
      const error = /error="([^"]*)"/.exec(line)?.[1] ?? '';
      const parts = error.split(': ');
      assert.equal(new Set(parts).size, parts.length, line);
    }
    await stopGracefully(connector, 'SIGINT');
    assertNoSecret(connector.allOutput(), token, secret);
  },
);
