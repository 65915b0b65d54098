import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateEdgeCertificates } from '../../src/local-edge/certs.js';
import { parsePemCertificates } from '../../src/util/pem.js';

test('a PEM bundle is split into certificates, and the first that does not parse is named', async () => {
  const { caPem, certPem } = await generateEdgeCertificates();
  const both = parsePemCertificates(caPem + certPem);
  assert.ok(both.ok);
  assert.equal(both.blocks.length, 2);
  assert.deepEqual(parsePemCertificates('no certificate here'), { ok: true, blocks: [] });
  const broken = parsePemCertificates(`${caPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`);
  assert.equal(broken.ok, false);
  assert.equal(!broken.ok && broken.index, 1);
});
