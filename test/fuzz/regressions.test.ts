/**
 * Inputs the long fuzz run (`npm run fuzz`) found, replayed on every CI run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Duplex } from 'node:stream';
import { RegistrationClient } from '../../src/rpc/tunnel/registration-client.js';
import { FUZZ_REGISTRATION } from './targets.js';

/** An edge that answers with `bytes`, then ends the stream. */
function hostileEdge(bytes: Buffer): Duplex {
  const stream = new Duplex({
    read() {},
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  stream.push(bytes);
  stream.push(null);
  return stream;
}

// Found by `npm run fuzz -- --runs 1000000` (seed 914816148): a Return for the registerConnection question whose
// union says `exception` but whose exception reason pointer is not text. Reading it threw after the question had been
// settled, so the connection failed but registerConnection() never settled: a registration stuck forever.
const EXCEPTION_RETURN_WITH_BAD_REASON = Buffer.from([
  0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 252, 255, 255, 255, 0, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0,
  1, 0, 1, 0,
]);

test('a malformed exception Return rejects the pending registerConnection and fails the RPC connection', async () => {
  const client = new RegistrationClient(hostileEdge(EXCEPTION_RETURN_WITH_BAD_REASON));
  const call = client.registerConnection(FUZZ_REGISTRATION);
  await assert.rejects(call, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'CFT_ERR_RPC_PROTOCOL');
    assert.match(err.message, /malformed RegistrationServer\.registerConnection Return/);
    return true;
  });
  const closed = await client.rpc.closed;
  assert.equal(closed?.code, 'CFT_ERR_RPC_PROTOCOL');
});
