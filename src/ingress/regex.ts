/**
 * Rule `path` patterns are Go RE2 syntax (docs/protocol.md §10.1, §10.3); cftunnel evaluates them with JS RegExp.
 * The syntax both accept means the same for paths, so only the differences are handled here:
 *  - rejected like RE2 would: backreferences (`\1`, `\k<n>`) and lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`);
 *  - translated: a leading flag group `(?i)`/`(?s)`/`(?m)` → JS flags, `(?P<name>` → `(?<name>`, `\A` → `^`,
 *    `\z` → `$`, and the ASCII classes `[[:alpha:]]`-style inside brackets.
 * Matching is unanchored, like Go's MatchString.
 */

import { CftunnelError } from '../errors.js';

/** The pattern is not valid RE2 (or uses a construct cftunnel cannot translate). */
export class Re2SyntaxError extends CftunnelError {
  constructor(message: string) {
    super('CFT_ERR_RE2_SYNTAX', message, { retryable: false });
  }
}

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F', digit: '0-9',
  graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ', upper: 'A-Z',
  word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};

/** Compiles an RE2 path pattern to an equivalent JS RegExp. @throws {Re2SyntaxError} */
export function compileRe2(source: string): RegExp {
  let pattern = source;
  let flags = '';
  const lead = /^\(\?([ims]+)\)/.exec(pattern);
  if (lead !== null) {
    flags = [...new Set(lead[1]!)].join('');
    pattern = pattern.slice(lead[0].length);
  }
  if (/\(\?<?[=!]/.test(pattern)) throw new Re2SyntaxError('invalid or unsupported Perl syntax: lookaround');
  if (/(^|[^\\])(\\\\)*\\([1-9]|k<)/.test(pattern)) throw new Re2SyntaxError('invalid escape sequence: backreference');
  pattern = pattern
    .replace(/\(\?P</g, '(?<')
    .replace(/\[:(\^?)([a-z]+):\]/g, (all, neg: string, name: string) => {
      const cls = POSIX_CLASSES[name];
      if (cls === undefined) throw new Re2SyntaxError(`invalid character class range: ${all}`);
      if (neg !== '') throw new Re2SyntaxError(`negated POSIX class not supported: ${all}`);
      return cls;
    })
    .replace(/(^|[^\\])((?:\\\\)*)\\A/g, '$1$2^')
    .replace(/(^|[^\\])((?:\\\\)*)\\z/g, '$1$2$');
  try {
    return new RegExp(pattern, flags);
  } catch (err) {
    throw new Re2SyntaxError((err as Error).message);
  }
}
