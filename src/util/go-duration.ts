/**
 * Go `time.ParseDuration` syntax (`30s`, `1m30s`, `1.5h`, `300ms`, `0`), which cloudflared's duration flags accept
 * (docs/protocol.md §12.1 `--grace-period`, §16).
 */
import { CftunnelError } from '../errors.js';

/** A duration string is not valid Go duration syntax. */
export class DurationSyntaxError extends CftunnelError {
  constructor(text: string) {
    super(
      'CFT_ERR_DURATION_SYNTAX',
      `invalid duration ${JSON.stringify(text)} (expected Go syntax such as 30s, 1m30s, 1.5h, 250ms)`,
    );
  }
}

/** Milliseconds per Go duration unit; Go accepts both the micro sign (U+00B5) and the Greek mu (U+03BC) for µs. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const TERM = /([0-9]*)(?:\.([0-9]*))?([a-zµμ]+)/y;

/**
 * Parses a Go duration into milliseconds (fractional for sub-millisecond units).
 *
 * Like Go: an optional sign, then one or more `<decimal><unit>` terms; a bare `0` is allowed; a term needs at least
 * one digit; an empty string or an unknown unit is an error.
 *
 * @throws {DurationSyntaxError}
 */
export function parseGoDuration(text: string): number {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new DurationSyntaxError(text);
  let total = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < rest.length) {
    const start = TERM.lastIndex;
    const m = TERM.exec(rest);
    if (m === null || m.index !== start) throw new DurationSyntaxError(text);
    const [, whole = '', frac, unit = ''] = m;
    if (whole === '' && (frac === undefined || frac === '')) throw new DurationSyntaxError(text);
    const perUnit = UNIT_MS[unit];
    if (perUnit === undefined) throw new DurationSyntaxError(text);
    total += Number(`${whole || '0'}.${frac ?? ''}0`) * perUnit;
  }
  return sign * total;
}

/** Formats milliseconds the way Go prints a `time.Duration` for whole-millisecond values (`1m30s`, `250ms`, `0s`). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1_000) return `${sign}${rest}ms`;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = `${Number((rest / 1_000).toFixed(3))}s`;
  if (h > 0) return `${sign}${h}h${m}m${s}`;
  if (m > 0) return `${sign}${m}m${s}`;
  return `${sign}${s}`;
}
