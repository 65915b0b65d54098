import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '../helpers/fixtures.js';
import {
  parseToken,
  readTokenFile,
  parseCredentialsFile,
  readCredentialsFile,
  TokenError,
  TokenFileError,
  parseUuid,
  formatUuid,
  type TokenErrorReason,
} from '../../src/token/index.js';
import { errorText } from '../../src/errors.js';

const inputs = JSON.parse(readFileSync(fixturePath('vectors/inputs.json'), 'utf8')) as {
  token: string;
  account_tag: string;
  tunnel_id: string;
  tunnel_secret_hex: string;
};
const SECRET = Buffer.from(inputs.tunnel_secret_hex, 'hex');
const SECRET_B64 = SECRET.toString('base64');
const ID = '9d1b2a4e-6c3f-4f1e-9a7b-0c2d3e4f5a6b';

const tok = (obj: unknown): string => Buffer.from(JSON.stringify(obj)).toString('base64');
const tokRaw = (text: string): string => Buffer.from(text).toString('base64');

function rejects(token: string, reason: TokenErrorReason): TokenError {
  let caught: unknown;
  assert.throws(
    () => parseToken(token),
    (err) => {
      caught = err;
      return err instanceof TokenError;
    },
  );
  const err = caught as TokenError;
  assert.equal(err.code, 'CFT_ERR_TOKEN_INVALID');
  assert.equal(err.reason, reason);
  assert.match(err.message, /^Provided Tunnel token is not valid\. /);
  return err;
}

test('the vectors token decodes to the recorded account, tunnel and secret', () => {
  const c = parseToken(inputs.token);
  assert.equal(c.accountTag, inputs.account_tag);
  assert.equal(c.tunnelId, inputs.tunnel_id);
  assert.deepEqual(c.tunnelIdBytes, Buffer.from('9d1b2a4e6c3f4f1e9a7b0c2d3e4f5a6b', 'hex'));
  assert.deepEqual(c.tunnelSecret.bytes(), SECRET);
  assert.ok(c.tunnelSecret.equals(SECRET));
  assert.equal(c.endpoint, undefined);
});

test('every uuid.Parse form of t gives the canonical id', () => {
  const forms = [
    ID,
    ID.toUpperCase(),
    ID.replace(/-/g, ''),
    `{${ID}}`,
    `urn:uuid:${ID}`,
    `URN:UUID:${ID.toUpperCase()}`,
  ];
  for (const t of forms) {
    assert.equal(parseToken(tok({ a: 'acc', t, s: SECRET_B64 })).tunnelId, ID, t);
  }
});

test('member names are case-insensitive, unknown members ignored, e kept', () => {
  const c = parseToken(tok({ A: 'acc', T: ID, S: SECRET_B64, E: 'fed', extra: 5 }));
  assert.equal(c.accountTag, 'acc');
  assert.equal(c.endpoint, 'fed');
  assert.deepEqual(c.tunnelSecret.bytes(), SECRET);
});

test('malformed token wrappers are rejected with their reason', () => {
  rejects('not base64 at all!', 'not-base64');
  rejects(inputs.token.replace(/=+$/, ''), 'not-base64'); // missing padding
  const urlSafe = Buffer.from(JSON.stringify({ a: '>>>?', t: ID, s: SECRET_B64 })).toString('base64url');
  assert.match(urlSafe, /[-_]/);
  rejects(urlSafe, 'not-base64');
  rejects(tokRaw('{"a": "x", '), 'not-json');
  rejects(tokRaw('[1,2]'), 'not-object');
  rejects(tokRaw('"str"'), 'not-object');
  rejects(tokRaw('null'), 'not-object');
  rejects(tok({ a: 1, t: ID, s: SECRET_B64 }), 'bad-field-type');
});

test('bad UUIDs in each form are rejected', () => {
  const bad = [
    'not-a-uuid',
    ID.slice(0, 35),
    ID.replace(/-/g, '_'),
    ID.replace('9d', 'zz'),
    ID.replace(/-/g, '').replace('9d', 'zz'),
    `{${ID}]`,
    `(${ID})`,
    `urn:uid:x${ID}`,
    `urn:uuid:${ID.replace('9d', 'zz')}`,
    `${ID}0`,
  ];
  for (const t of bad) rejects(tok({ a: 'acc', t, s: SECRET_B64 }), 'bad-uuid');
});

test('bad secrets and missing fields are rejected', () => {
  rejects(tok({ a: 'acc', t: ID, s: SECRET.toString('base64url') }), 'bad-secret');
  rejects(tok({ a: 'acc', t: ID, s: SECRET_B64.replace(/=+$/, '') }), 'bad-secret');
  rejects(tok({ a: 'acc', t: ID, s: '***' }), 'bad-secret');
  rejects(tok({ t: ID, s: SECRET_B64 }), 'missing-field');
  rejects(tok({ a: 'acc', s: SECRET_B64 }), 'missing-field');
  rejects(tok({ a: 'acc', t: ID }), 'missing-field');
  rejects(tok({ a: 'acc', t: ID, s: null }), 'missing-field');
});

test('the secret and token never appear in errors, inspection or JSON', () => {
  const c = parseToken(inputs.token);
  const forms = [SECRET_B64, SECRET_B64.replace(/=+$/, ''), SECRET.toString('base64url'), SECRET.toString('hex')];
  const shown = [inspect(c, { depth: 10, showHidden: true }), JSON.stringify(c), String(c.tunnelSecret)];
  for (const text of shown) {
    for (const f of forms) assert.ok(!text.includes(f), `secret leaked in ${text}`);
    assert.ok(!text.includes(inputs.token));
  }
  assert.match(inspect(c), /\[redacted\]/);
  // Errors built from tokens holding the secret in odd places.
  const leaky = [
    tokRaw(`{"a":"acc","t":"${ID}","s":"${SECRET_B64}",`), // not-json
    tok({ a: 'acc', t: SECRET_B64, s: SECRET_B64 }), // bad-uuid
    tok({ a: 'acc', t: ID, s: SECRET_B64.slice(0, -1) }), // bad-secret
    tok({ a: 5, t: ID, s: SECRET_B64 }),
  ];
  for (const token of leaky) {
    let err: unknown;
    try {
      parseToken(token);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof TokenError);
    let text = `${String(err)}\n${inspect(err, { depth: 10, showHidden: true })}\n${JSON.stringify(err)}`;
    for (let e: unknown = err; e instanceof Error; e = e.cause) text += `\n${e.message}`;
    for (const f of forms) assert.ok(!text.includes(f), `secret leaked in ${text}`);
    assert.ok(!text.includes(token));
  }
});

test('credentials file: Go field names case-insensitive, TunnelID override', () => {
  const json = JSON.stringify({ accounttag: 'acc', TUNNELSECRET: SECRET_B64, TunnelID: ID, Endpoint: '' });
  const c = parseCredentialsFile(json);
  assert.equal(c.accountTag, 'acc');
  assert.equal(c.tunnelId, ID);
  assert.equal(c.endpoint, undefined);
  assert.deepEqual(c.tunnelSecret.bytes(), SECRET);
  const other = '11111111-2222-4333-8444-555555555555';
  assert.equal(parseCredentialsFile(json, { tunnelId: other }).tunnelId, other);
  // Files that predate the TunnelID field work when the id comes from the CLI.
  const old = JSON.stringify({ AccountTag: 'acc', TunnelSecret: SECRET_B64 });
  assert.equal(parseCredentialsFile(old, { tunnelId: other }).tunnelId, other);
  assert.throws(
    () => parseCredentialsFile(old),
    (e) => e instanceof TokenError && e.reason === 'missing-field',
  );
  assert.throws(
    () => parseCredentialsFile('nope'),
    (e) => e instanceof TokenError && e.reason === 'not-json',
  );
});

test('token and credentials files: trimmed token, typed read errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cft-token-'));
  try {
    const tokenPath = join(dir, 'token.txt');
    await writeFile(tokenPath, `\n  ${inputs.token}\t\n`);
    assert.equal(await readTokenFile(tokenPath), inputs.token);
    const credPath = join(dir, `${ID}.json`);
    await writeFile(credPath, JSON.stringify({ AccountTag: 'acc', TunnelSecret: SECRET_B64, TunnelID: ID }));
    assert.equal((await readCredentialsFile(credPath)).tunnelId, ID);
    await assert.rejects(readTokenFile(join(dir, 'missing')), (e) => {
      assert.ok(e instanceof TokenFileError);
      assert.equal(e.code, 'CFT_ERR_TOKEN_FILE');
      assert.match(errorText(e), /^Failed to read token file: .*ENOENT/);
      return true;
    });
    await assert.rejects(readCredentialsFile(join(dir, 'missing.json')), TokenFileError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('uuid helpers round-trip and reject bad lengths', () => {
  const bytes = parseUuid(ID);
  assert.ok(bytes);
  assert.equal(formatUuid(bytes), ID);
  assert.equal(parseUuid(''), null);
  assert.throws(() => formatUuid(Buffer.alloc(15)), RangeError);
});
