/**
 * Rule `path` patterns are Go RE2 (docs/protocol.md §10.1, §10.3): Go's syntax is accepted with Go's meaning, what RE2
 * refuses is refused with Go's `regexp.Compile` text, and matching never backtracks (issue 14 item 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorText, wireText } from '../../src/errors.js';
import { compileRe2, Re2SyntaxError } from '../../src/ingress/regex.js';
import { IngressRules } from '../../src/ingress/rules.js';

// [pattern, path, Go's regexp.MatchString result]
const GO_MATCHES: Array<[string, string, boolean]> = [
  ['\\pL+$', '/é', true],
  ['^/\\p{Greek}', '/α', true],
  ['^/\\PL', '/é', false],
  ['^/\\Qa.b\\E$', '/a.b', true],
  ['^/\\Qa.b\\E$', '/axb', false],
  ['^/(?i:admin)$', '/ADMIN', true],
  ['^/(?U)a+', '/aa', true],
  ['^/[[:^alpha:]]', '/1', true],
  ['^/[[:^alpha:]]', '/a', false],
  ['^/\\x{41}$', '/A', true],
  ['(?i)^/straße$', '/STRASSE', false],
  ['(?i)^/é$', '/É', true],
  ['^/.$', '/\u{1F600}', true],
  ['^/(?s).$', '/\n', true],
  ['^/.$', '/\n', false],
  ['^/a$', '/a\n', false],
  ['(?m)^b$', '/a\nb', true],
  ['\\Aab\\z', 'ab', true],
  ['^/(?P<v>v1)/', '/v1/x', true],
];

for (const [pattern, path, want] of GO_MATCHES) {
  test(`RE2 path ${JSON.stringify(pattern)} against ${JSON.stringify(path)} matches as Go's regexp does (${want})`, () => {
    assert.equal(compileRe2(pattern).test(path), want);
  });
}

// Go's `regexp.Compile` refusals, with its wording.
const GO_REFUSALS: Array<[string, string]> = [
  ['(a', 'error parsing regexp: missing closing ): `(a`'],
  ['(a)\\1', 'error parsing regexp: invalid escape sequence: `\\1`'],
  ['^/(?=x)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
  ['a**', 'error parsing regexp: invalid nested repetition operator: `**`'],
  ['a{1001}', 'error parsing regexp: invalid repeat count: `{1001}`'],
  ['\\p{Nope}', 'error parsing regexp: invalid character class range: `\\p{Nope}`'],
  ['\\C', 'error parsing regexp: invalid escape sequence: `\\C`'],
];

for (const [pattern, message] of GO_REFUSALS) {
  test(`RE2 refuses ${JSON.stringify(pattern)} with Go's text, as Rule #N has an invalid regex`, () => {
    assert.throws(
      () => compileRe2(pattern),
      (err: unknown) => err instanceof Re2SyntaxError && err.code === 'CFT_ERR_RE2_SYNTAX' && err.message === message,
    );
    assert.throws(
      () =>
        IngressRules.fromConfig([
          { hostname: 'a.test', path: pattern, service: 'http://127.0.0.1:1' },
          { service: 'http_status:404' },
        ]),
      // The whole text as the CLI prints it and as the edge is told (a refused configuration, docs/protocol.md §9.3).
      (err: unknown) =>
        errorText(err) === `Rule #1 has an invalid regex: ${message}` && wireText(err) === errorText(err),
    );
  });
}

test('a nested quantifier against a 5,000-character path is answered (no backtracking)', () => {
  const rules = IngressRules.fromConfig([
    { hostname: 'slow.test', path: '^/(\\w+/?)*$', service: 'http://127.0.0.1:1' },
    { service: 'http_status:404' },
  ]);
  const hostile = `/${'a'.repeat(5000)}!`;
  assert.equal(rules.match('slow.test', hostile).index, 1);
  assert.equal(rules.match('slow.test', `/${'a/'.repeat(2500)}`).index, 0);
});
