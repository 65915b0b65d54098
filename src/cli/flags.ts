/**
 * A small command-line parser with cloudflared's conventions (urfave/cli over Go's `flag`): `-x`/`--name`,
 * `--name value` or `--name=value`, booleans as `--name` or `--name=false`, environment variables as fallbacks,
 * and an explicit list of cloudflared flags cftunnel refuses (never silently ignored).
 */
import { UnsupportedFlagError, UsageError } from './errors.js';

/** How a flag's value is read. */
export type FlagType = 'string' | 'boolean';

/** A flag a command accepts. */
export interface FlagSpec {
  /** Long name without dashes, e.g. `token`. */
  readonly name: string;
  /** Other names (`p` for `-p`, `cred-file`, …). */
  readonly aliases?: readonly string[];
  /** Environment variables read when the flag is absent from the command line, first set one wins. */
  readonly env?: readonly string[];
  readonly type: FlagType;
  /** May be given several times; values accumulate. */
  readonly repeatable?: boolean;
  /** Each value is also split on commas (`--edge a:1,b:2`, `TUNNEL_EDGE=a:1,b:2`). */
  readonly commaList?: boolean;
  /** Value name shown in help, e.g. `TOKEN`. */
  readonly placeholder?: string;
  /** Help text. */
  readonly description: string;
  /** Default shown in help. */
  readonly defaultText?: string;
}

/** A flag cloudflared has and cftunnel refuses, with the reason given to the user. */
export interface UnsupportedFlagSpec {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly env?: readonly string[];
  /** Whether the flag takes a value (so `--flag value` is reported once, not as a stray positional). */
  readonly type: FlagType;
  readonly reason: string;
}

/** Where a flag's value came from: command line, environment variable, or a key of the `--config` file. */
export type FlagSource = 'flag' | 'env' | 'config';

/** The result of {@link parseFlags}. */
export interface ParsedFlags {
  /** Values by long flag name, in order given. Boolean flags hold `'true'`/`'false'`. */
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly sources: ReadonlyMap<string, FlagSource>;
  /** Which environment variable supplied a value, by flag name. */
  readonly envNames: ReadonlyMap<string, string>;
  readonly positionals: readonly string[];
  /** `-h`/`--help` was given. */
  readonly help: boolean;
}

/** What {@link parseFlags} needs besides the arguments. */
export interface ParseFlagsOptions {
  /** Command path for messages, e.g. `cftunnel tunnel run`. */
  readonly command: string;
  readonly flags: readonly FlagSpec[];
  readonly unsupported?: readonly UnsupportedFlagSpec[];
  /** Environment consulted for `env` fallbacks; omit to ignore the environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go `strconv.ParseBool`, which urfave/cli uses for boolean flags and their environment variables. */
export function parseGoBool(text: string, what: string): boolean {
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  throw new UsageError(`invalid boolean value ${JSON.stringify(text)} for ${what}`);
}

/** `-x` for one-letter names, `--name` otherwise. */
export function dashed(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

function indexByName<T extends { name: string; aliases?: readonly string[] }>(specs: readonly T[]): Map<string, T> {
  const map = new Map<string, T>();
  for (const s of specs) for (const n of [s.name, ...(s.aliases ?? [])]) map.set(n, s);
  return map;
}

/** The error for a refused flag reached through `via` (`flag --x`, `environment variable X (flag --x)`, …). */
export function unsupportedMessage(spec: UnsupportedFlagSpec, via: string): UnsupportedFlagError {
  return new UnsupportedFlagError(`${via} is not supported by cftunnel (${spec.reason})`);
}

/**
 * Whether a refused flag given `value` is really refused. A refused boolean flag set to false asks cftunnel not to use
 * a feature it does not have (`--management-diagnostics=false`, `TUNNEL_MANAGEMENT_DIAGNOSTICS=false`): that is what
 * cftunnel does anyway, so the command line keeps working. `value` is undefined for a bare `--flag`.
 *
 * @throws {UsageError} a boolean flag's value that Go's `strconv.ParseBool` refuses.
 */
export function refusedValue(spec: UnsupportedFlagSpec, value: string | boolean | undefined, what: string): boolean {
  if (spec.type !== 'boolean' || value === undefined) return true;
  return typeof value === 'boolean' ? value : parseGoBool(value, what);
}

/**
 * Parses `argv` against `options.flags`. Flags and positionals may be mixed; `--` ends flag parsing.
 *
 * @throws {UsageError} unknown flag, missing value, repeated single-value flag, bad boolean.
 * @throws {UnsupportedFlagError} a cloudflared flag (or its environment variable) cftunnel does not implement.
 */
export function parseFlags(argv: readonly string[], options: ParseFlagsOptions): ParsedFlags {
  const known = indexByName(options.flags);
  const refused = indexByName(options.unsupported ?? []);
  const values = new Map<string, string[]>();
  const sources = new Map<string, FlagSource>();
  const envNames = new Map<string, string>();
  const positionals: string[] = [];
  let help = false;

  const add = (spec: FlagSpec, value: string, given: string): void => {
    const list = values.get(spec.name) ?? [];
    if (list.length > 0 && !spec.repeatable) throw new UsageError(`flag ${given} given more than once`);
    list.push(
      ...(spec.commaList
        ? value
            .split(',')
            .map((v) => v.trim())
            .filter((v) => v !== '')
        : [value]),
    );
    values.set(spec.name, list);
    sources.set(spec.name, 'flag');
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    const inline = eq === -1 ? undefined : body.slice(eq + 1);
    const given = dashed(name);
    if (name === 'help' || name === 'h') {
      help = true;
      continue;
    }
    const spec = known.get(name);
    if (spec === undefined) {
      const bad = refused.get(name);
      if (bad === undefined)
        throw new UsageError(`unknown flag ${given} for "${options.command}" (see ${options.command} --help)`);
      if (refusedValue(bad, inline, `flag ${given}`)) throw unsupportedMessage(bad, `flag ${given}`);
      continue;
    }
    if (spec.type === 'boolean') {
      add(spec, String(inline === undefined ? true : parseGoBool(inline, `flag ${given}`)), given);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag ${given} needs a value`);
      value = argv[++i]!;
    }
    add(spec, value, given);
  }

  const env = options.env;
  if (env !== undefined) {
    for (const spec of options.unsupported ?? []) {
      for (const variable of spec.env ?? []) {
        const raw = env[variable];
        if (raw && refusedValue(spec, raw, `environment variable ${variable}`))
          throw unsupportedMessage(spec, `environment variable ${variable} (flag ${dashed(spec.name)})`);
      }
    }
    for (const spec of options.flags) {
      if (values.has(spec.name)) continue;
      const variable = spec.env?.find((v) => env[v] !== undefined && env[v] !== '');
      if (variable === undefined) continue;
      const raw = env[variable]!;
      const value = spec.type === 'boolean' ? String(parseGoBool(raw, `environment variable ${variable}`)) : raw;
      values.set(
        spec.name,
        spec.commaList
          ? value
              .split(',')
              .map((v) => v.trim())
              .filter((v) => v !== '')
          : [value],
      );
      sources.set(spec.name, 'env');
      envNames.set(spec.name, variable);
    }
  }
  return { values, sources, envNames, positionals, help };
}

/** The last value of a flag, if any. */
export function flagValue(parsed: ParsedFlags, name: string): string | undefined {
  const list = parsed.values.get(name);
  return list === undefined ? undefined : list[list.length - 1];
}

/** A boolean flag's value, or `fallback` when absent. */
export function flagBool(parsed: ParsedFlags, name: string, fallback: boolean): boolean {
  const v = flagValue(parsed, name);
  return v === undefined ? fallback : v === 'true';
}

/** A non-negative integer flag (`--retries`, `--ha-connections`), or undefined when absent. */
export function flagInt(parsed: ParsedFlags, name: string, min: number): number | undefined {
  const v = flagValue(parsed, name);
  if (v === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(v.trim()) || Number(v) < min || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`invalid value ${JSON.stringify(v)} for flag --${name}: expected an integer >= ${min}`);
  }
  return Number(v);
}

/** Renders the flag section of a help text. */
export function formatFlagHelp(flags: readonly FlagSpec[]): string {
  const rows = flags.map((f) => {
    const names = [f.name, ...(f.aliases ?? [])].map(dashed).join(', ');
    const left = f.type === 'boolean' ? names : `${names} ${f.placeholder ?? 'VALUE'}`;
    const extras = [
      f.defaultText === undefined ? '' : `(default: ${f.defaultText})`,
      f.env?.length ? `[$${f.env.join(', $')}]` : '',
      f.repeatable ? '(repeatable)' : '',
    ].filter((x) => x !== '');
    return { left, right: [f.description, ...extras].join(' ') };
  });
  const width = Math.max(...rows.map((r) => r.left.length)) + 2;
  return rows.map((r) => `   ${r.left.padEnd(width)}${r.right}`).join('\n');
}

/** Renders the list of refused cloudflared flags for a help text. */
export function formatUnsupportedHelp(specs: readonly UnsupportedFlagSpec[]): string {
  return specs.map((s) => `   ${[s.name, ...(s.aliases ?? [])].map(dashed).join(', ')}: ${s.reason}`).join('\n');
}
