/**
 * Rule `path` patterns are Go RE2 syntax (docs/protocol.md §10.1, §10.3). They are compiled and matched by `re2js`, a
 * port of RE2 (Go's `regexp` syntax: `(?i)`, `(?P<name>`, `\pL`, `[[:alpha:]]`, `\A`, `\z`, `\Q…\E`; no
 * backreferences, no lookaround) whose matching time is linear in the input. A backtracking engine is not an option:
 * the path is chosen by any visitor, and a nested quantifier such as `^/(\w+/?)*$` against `/aaaa…!` would hold the
 * event loop for seconds per request, taking the tunnel offline for everyone.
 *
 * Matching is unanchored, like Go's `MatchString`.
 *
 * `re2js` is loaded with the first pattern: most tunnels (`--url`, rules without `path`) never compile one, and it
 * costs ~3 MB of resident memory (issue #19).
 */
import { createRequire } from 'node:module';
import { CftunnelError } from '../errors.js';

type Re2js = typeof import('re2js');

let re2js: Re2js | undefined;

/** The `re2js` module, loaded synchronously on first use (its CommonJS build). */
function loadRe2js(): Re2js {
  re2js ??= createRequire(import.meta.url)('re2js') as Re2js;
  return re2js;
}

/** The pattern is not valid RE2; the message is Go's `regexp.Compile` text (`error parsing regexp: …`). */
export class Re2SyntaxError extends CftunnelError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_RE2_SYNTAX', message, { retryable: false, ...options });
  }
}

/** A compiled RE2 path pattern. Matching takes time linear in the path, whatever the pattern. */
export interface PathPattern {
  /** The pattern as configured. */
  readonly source: string;
  /** Whether the pattern matches anywhere in `path` (Go `Regexp.MatchString`). */
  test(path: string): boolean;
}

/** Compiles an RE2 path pattern. @throws {Re2SyntaxError} */
export function compileRe2(source: string): PathPattern {
  const { RE2JS, RE2JSException } = loadRe2js();
  let re: InstanceType<typeof RE2JS>;
  try {
    re = RE2JS.compile(source);
  } catch (cause) {
    if (cause instanceof RE2JSException) throw new Re2SyntaxError(cause.message, { cause });
    throw cause;
  }
  return { source, test: (path) => re.test(path) };
}
