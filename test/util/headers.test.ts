import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalHeaderKey, headerIndex, headerValue, headerValues } from '../../src/util/headers.js';
import { goJsonMember, isPlainObject } from '../../src/util/go-json.js';

describe('header names', () => {
  it("canonicalise like Go's textproto, leaving invalid names alone", () => {
    assert.equal(canonicalHeaderKey('content-type'), 'Content-Type');
    assert.equal(canonicalHeaderKey('cf-WARP-tag-id'), 'Cf-Warp-Tag-Id');
    assert.equal(canonicalHeaderKey('bad name'), 'bad name');
  });

  it('are looked up ignoring case, keeping order and duplicates', () => {
    const headers = [
      ['Set-Cookie', 'a=1'],
      ['content-length', '5'],
      ['SET-COOKIE', 'b=2'],
    ] as const;
    assert.equal(headerIndex(headers, 'content-length'), 1);
    assert.equal(headerIndex(headers, 'host'), -1);
    assert.equal(headerValue(headers, 'set-cookie'), 'a=1');
    assert.equal(headerValue(headers, 'host'), undefined);
    assert.deepEqual(headerValues(headers, 'set-cookie'), ['a=1', 'b=2']);
    // A longer or shorter name with the same prefix is another header.
    assert.deepEqual(headerValues(headers, 'set-cookie2'), []);
  });
});

describe("Go's encoding/json member lookup", () => {
  it('takes the exact key first, then one equal ignoring case, never an inherited one', () => {
    assert.equal(goJsonMember({ Hostname: 'a', hostname: 'b' }, 'hostname'), 'b');
    assert.equal(goJsonMember({ HOSTNAME: 'a' }, 'hostname'), 'a');
    assert.equal(goJsonMember({}, 'constructor'), undefined);
    assert.ok(isPlainObject({}));
    assert.ok(!isPlainObject([]) && !isPlainObject(null) && !isPlainObject('x'));
  });
});
