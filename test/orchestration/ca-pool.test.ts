/**
 * `originRequest.caPool` names a file on the connector's host from a remote configuration (issue 14 item 4): it is read
 * asynchronously, only as a regular file of bounded size; anything else refuses the configuration with
 * cloudflared's `Error loading cert pool: unable to read the file …` and the last good configuration stays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorText } from '../../src/errors.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaPoolError, MAX_CA_POOL_BYTES, readCaPool } from '../../src/ingress/ca-pool.js';
import { IngressConfigError } from '../../src/ingress/errors.js';
import { configFromUrl, loadConfigFile } from '../../src/orchestration/local-config.js';
import { INITIAL_CONFIG_VERSION, Orchestrator } from '../../src/orchestration/orchestrator.js';
import { Tunnel } from '../../src/index.js';
import { makeToken } from '../helpers/tunnel-env.js';
import { generateEdgeCertificates } from '../../src/local-edge/certs.js';

const dir = mkdtempSync(join(tmpdir(), 'cftunnel-ca-pool-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function configWith(caPool: string): string {
  return JSON.stringify({
    ingress: [
      { hostname: 'tls.test', service: 'https://127.0.0.1:1', originRequest: { caPool } },
      { service: 'http_status:404' },
    ],
  });
}

async function refusal(caPool: string): Promise<string | null> {
  const o = new Orchestrator(configFromUrl(undefined));
  const before = o.config;
  const res = await o.updateConfiguration(1, configWith(caPool));
  assert.equal(res.latestAppliedVersion, INITIAL_CONFIG_VERSION);
  assert.equal(o.config, before, 'the last good configuration stays');
  return res.err;
}

test('a caPool larger than the limit refuses the configuration, naming the file', async () => {
  const big = join(dir, 'big.pem');
  writeFileSync(big, '');
  truncateSync(big, MAX_CA_POOL_BYTES + 1);
  assert.equal(
    await refusal(big),
    `Error loading cert pool: unable to read the file ${big} for --origin-ca-pool: larger than ${MAX_CA_POOL_BYTES} bytes`,
  );
  await assert.rejects(
    readCaPool(big),
    (err: unknown) => err instanceof CaPoolError && err.code === 'CFT_ERR_CA_POOL' && err.path === big,
  );
});

test('a FIFO with no writer is refused at once (never opened for a blocking read)', async () => {
  const fifo = join(dir, 'ca.fifo');
  execFileSync('mkfifo', [fifo]);
  assert.equal(
    await refusal(fifo),
    `Error loading cert pool: unable to read the file ${fifo} for --origin-ca-pool: not a regular file`,
  );
});

test('/dev/zero and a directory are not regular files', async () => {
  assert.equal(
    await refusal('/dev/zero'),
    'Error loading cert pool: unable to read the file /dev/zero for --origin-ca-pool: not a regular file',
  );
  assert.equal(
    await refusal(dir),
    `Error loading cert pool: unable to read the file ${dir} for --origin-ca-pool: not a regular file`,
  );
});

test("a missing file keeps cloudflared's text (Go os error)", async () => {
  assert.equal(
    await refusal('/nonexistent/ca.pem'),
    'Error loading cert pool: unable to read the file /nonexistent/ca.pem for --origin-ca-pool: open /nonexistent/ca.pem: no such file or directory',
  );
});

test('a regular CA file applies; non-HTTP services never read theirs', async () => {
  const ca = join(dir, 'ca.pem');
  const { caPem } = await generateEdgeCertificates();
  writeFileSync(ca, caPem);
  const o = new Orchestrator(configFromUrl(undefined));
  assert.deepEqual(await o.updateConfiguration(1, configWith(ca)), { latestAppliedVersion: 1, err: null });
  assert.equal((await readCaPool(ca)).toString(), caPem);
  const tcp = JSON.stringify({
    ingress: [
      { hostname: 'ssh.test', service: 'tcp://127.0.0.1:22', originRequest: { caPool: '/dev/zero' } },
      { service: 'http_status:404' },
    ],
  });
  assert.deepEqual(await o.updateConfiguration(2, tcp), { latestAppliedVersion: 2, err: null });
});

test('a local configuration (config file, library ingress) with an unusable caPool fails, typed', async () => {
  const file = join(dir, 'config.yml');
  writeFileSync(
    file,
    `ingress:\n  - hostname: a.test\n    service: https://127.0.0.1:1\n    originRequest:\n      caPool: /dev/zero\n  - service: http_status:404\n`,
  );
  await assert.rejects(
    loadConfigFile(file),
    (err: unknown) => err instanceof IngressConfigError && err.cause instanceof CaPoolError,
  );
  const tunnel = new Tunnel({
    token: makeToken().token,
    edge: ['127.0.0.1:1'],
    protocol: 'http2',
    ingress: [
      { hostname: 'a.test', service: 'https://127.0.0.1:1', originRequest: { caPool: '/dev/zero' } },
      { service: 'http_status:404' },
    ],
  });
  await assert.rejects(
    tunnel.ready(),
    (err: unknown) => err instanceof IngressConfigError && /not a regular file/.test(errorText(err)),
  );
  await tunnel.close({ graceMs: 0 });
});
