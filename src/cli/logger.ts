/**
 * CLI logging (docs/protocol.md §13.3): pino writing cloudflared-shaped JSON (`level` name, RFC 3339 `time`, `message`),
 * rendered on stderr either as that JSON or as zerolog-style console lines
 * `2026-11-25T16:00:00Z INF Registered tunnel connection connIndex=0 … protocol=quic`.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel, LogOutput } from './run-settings.js';
import { LogFileError } from './errors.js';

/** zerolog's console level abbreviations. */
const LEVEL_ABBREVIATIONS: Readonly<Record<string, string>> = {
  trace: 'TRC',
  debug: 'DBG',
  info: 'INF',
  warn: 'WRN',
  error: 'ERR',
  fatal: 'FTL',
};

/** Keys of a JSON log line that the console format shows in fixed places (or not at all). */
const FIXED_KEYS = new Set(['level', 'time', 'message']);

/** Seconds-precision RFC 3339 in UTC, zerolog's default time format. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function consoleValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=\\]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value);
}

/**
 * Renders one JSON log line as a console line: `<time> <LVL> <message> key=value …`, keys sorted; an `err` object
 * becomes `error="<message>"` like zerolog's error field.
 */
export function formatConsoleLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const fields: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(rec)) {
    if (FIXED_KEYS.has(k)) continue;
    if (k === 'err' && typeof v === 'object' && v !== null)
      fields.push(['error', (v as { message?: unknown }).message ?? v]);
    else fields.push([k, v]);
  }
  fields.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const level = LEVEL_ABBREVIATIONS[String(rec.level)] ?? '???';
  const parts = [
    String(rec.time ?? ''),
    level,
    String(rec.message ?? ''),
    ...fields.map(([k, v]) => `${k}=${consoleValue(v)}`),
  ];
  return `${parts.join(' ')}\n`;
}

/** A pino destination that writes console lines to `out`. */
export function consoleDestination(out: { write(chunk: string): unknown }): DestinationStream {
  return { write: (line: string) => void out.write(formatConsoleLine(line)) };
}

/** Options of {@link createCliLogger}. */
export interface CliLoggerOptions {
  level: LogLevel;
  /**
   * Format on `stderr`: console lines unless `json`, whatever stderr is (TTY, pipe, journald, docker), as cloudflared
   * (`logger/create.go`: only `--output json` switches, a non-TTY only drops colour).
   */
  output: LogOutput | undefined;
  /** Extra file receiving JSON lines (appended). */
  logFile?: string;
  /** Defaults to `process.stderr`. */
  stderr?: { write(chunk: string): unknown; isTTY?: boolean };
}

/**
 * A pino logger shaped like cloudflared's zerolog output. Callers never pass the token or the tunnel secret to it:
 * redaction would be a second line of defence only, so nothing here relies on it.
 */
export function createCliLogger(options: CliLoggerOptions): Logger {
  const stderr = options.stderr ?? process.stderr;
  const useConsole = options.output !== 'json';
  const streams: pino.StreamEntry[] = [
    {
      level: options.level,
      stream: useConsole ? consoleDestination(stderr) : { write: (line: string) => void stderr.write(line) },
    },
  ];
  if (options.logFile !== undefined) {
    let stream: DestinationStream;
    try {
      stream = pino.destination({ dest: options.logFile, sync: true, append: true, mkdir: true });
    } catch (cause) {
      throw new LogFileError(options.logFile, cause);
    }
    streams.push({ level: options.level, stream });
  }
  return pino(
    {
      level: options.level,
      base: undefined,
      messageKey: 'message',
      timestamp: () => `,"time":"${rfc3339(new Date())}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.multistream(streams),
  );
}
