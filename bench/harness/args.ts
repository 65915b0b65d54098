/** Command line of `npm run bench -- <scenario> [options]`. */
import { parseArgs } from 'node:util';
import type { ChildMode } from './children.js';
import { BenchError } from './errors.js';
import { DEFAULT_HA_CONNECTIONS, type Protocol } from './stack.js';

/** Parsed command line. */
export interface BenchArgs {
  scenarios: string[];
  protocols: Protocol[];
  durationSeconds: number | undefined;
  sizeBytes: number | undefined;
  count: number | undefined;
  runs: number;
  haConnections: number;
  profile: boolean;
  mode: ChildMode;
  json: string | undefined;
}

/** Usage text. */
export function usage(scenarios: Array<{ name: string; description: string }>): string {
  return [
    'usage: npm run bench -- <scenario|all> [--protocol quic|http2|both] [--duration s] [--profile]',
    '                        [--size MB] [--count n] [--runs n] [--ha n] [--tsx] [--json file]',
    '',
    'scenarios:',
    ...scenarios.map((s) => `  ${s.name.padEnd(10)} ${s.description}`),
    '',
    '  --protocol  transport between connector and edge (default both)',
    '  --duration  seconds per measured window (scenario default otherwise)',
    '  --size      MB (10^6 bytes) per bulk transfer (default 1000)',
    '  --count     requests for bodies (default 10000), sockets for websocket (default 1000)',
    '  --runs      repeat the scenario and print medians (default 1)',
    '  --ha        HA connections of the connector (default 4)',
    '  --profile   start the connector with --cpu-prof into bench/profiles and print the profile path',
    '  --tsx       run the child processes under tsx instead of transpiled JavaScript (adds ~40 MB RSS each)',
    '  --json      also write every figure to this file',
  ].join('\n');
}

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new BenchError(`--${name} must be a positive number, got ${JSON.stringify(text)}`);
  return n;
}

/** Parses `argv` (without node and script). */
export function parseBenchArgs(argv: string[], known: string[]): BenchArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      protocol: { type: 'string', default: 'both' },
      duration: { type: 'string' },
      size: { type: 'string' },
      count: { type: 'string' },
      runs: { type: 'string' },
      ha: { type: 'string' },
      profile: { type: 'boolean', default: false },
      tsx: { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new BenchError('no scenario given');
  const scenarios = positionals.flatMap((p) => (p === 'all' ? known : [p]));
  for (const s of scenarios) if (!known.includes(s)) throw new BenchError(`unknown scenario ${JSON.stringify(s)}`);
  const protocol = values.protocol;
  if (protocol !== 'quic' && protocol !== 'http2' && protocol !== 'both')
    throw new BenchError('--protocol must be quic, http2 or both');
  const size = positive('size', values.size);
  return {
    scenarios,
    protocols: protocol === 'both' ? ['quic', 'http2'] : [protocol],
    durationSeconds: positive('duration', values.duration),
    sizeBytes: size === undefined ? undefined : Math.round(size * 1e6),
    count: positive('count', values.count),
    runs: positive('runs', values.runs) ?? 1,
    haConnections: positive('ha', values.ha) ?? DEFAULT_HA_CONNECTIONS,
    profile: values.profile,
    mode: values.tsx ? 'tsx' : 'compiled',
    json: values.json,
  };
}
