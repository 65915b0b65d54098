import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CftunnelError } from '../../src/errors.js';

test('errors carry a stable code, a retryable flag and a cause', () => {
  const cause = new Error('inner');
  const err = new CftunnelError('CFT_ERR_TEST', 'outer', { retryable: true, cause });
  assert.equal(err.code, 'CFT_ERR_TEST');
  assert.equal(err.retryable, true);
  assert.equal(err.cause, cause);
  assert.ok(err instanceof Error);
});
