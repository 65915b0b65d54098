/**
 * Rule `path` patterns are Go RE2 syntax (docs/protocol.md §10.1, §10.3). They are compiled and matched by `re2js`, a
 * port of RE2 (Go's `regexp` syntax: `(?i)`, `(?P<name>`, `\pL`, `[[:alpha:]]`, `\A`, `\z`, `\Q…\E`; no
 * backreferences, no lookaround) whose matching time is linear in the input. A backtracking engine is not an option:
 * the path is chosen by any visitor, and a nested quantifier such as `^/(\w+/?)*$` against `/aaaa…!` would hold the
 * event loop for seconds per request, taking the tunnel offline for everyone.
 *
 * Matching is unanchored, like Go's `MatchString`.
 */
import { RE2JS, RE2JSException } from 're2js';
import { CftunnelError } from '../errors.js';

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
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (cause) {
    if (cause instanceof RE2JSException) throw new Re2SyntaxError(cause.message, { cause });
    throw cause;
  }
  return { source, test: (path) => re.test(path) };
}
