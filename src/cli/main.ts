/**
 * The `cftunnel` command: `tunnel run` / `run` (a cloudflared-compatible connector), `edge` (the local edge),
 * `demo`, `help` and `--version`. Sets `process.exitCode`: 0 success, 1 startup/runtime failure, 2 usage error.
 */
import { parseRunFlags, runTunnel, tunnelRunHelp } from './tunnel-run-command.js';
import { isQuickTunnelRequest, parseTunnelCommandFlags, runQuickTunnel } from './quick-tunnel-command.js';
import { errorText } from '../errors.js';
import { exitCodeFor, UsageError } from './errors.js';
import { installFatalHandlers } from './fatal.js';
import { processIo, type CliIo } from './io.js';
import { cliVersion, COMPATIBLE_CLOUDFLARED_VERSION } from './version.js';

/** `cftunnel tunnel` subcommands of cloudflared that cftunnel does not have (it only runs tunnels). */
const CLOUDFLARED_TUNNEL_SUBCOMMANDS = new Set([
  'create',
  'route',
  'vnet',
  'list',
  'ready',
  'info',
  'ingress',
  'delete',
  'cleanup',
  'token',
  'login',
  'diag',
]);

/** Top-level help. */
export function mainHelp(): string {
  return `NAME:
   cftunnel - Cloudflare Tunnel connector for Node.js (does on the wire what \`cloudflared tunnel run --token\` does)

USAGE:
   cftunnel tunnel --url URL             a quick tunnel: a public trycloudflare.com URL for URL, no account
   cftunnel tunnel [flags] run [flags]   connect a tunnel (cloudflared's flags and environment variables)
   cftunnel run [flags]                  same as \`tunnel run\`
   cftunnel edge [flags]                 run a local edge stand-in on loopback (JSON events on stdout)
   cftunnel demo [flags]                 origin + local edge + connector in one process; prints a URL to curl
   cftunnel help [COMMAND]               show help (also: COMMAND --help)
   cftunnel --version                    print the version

EXIT CODES:
   0 success (including graceful shutdown on SIGINT/SIGTERM), 1 startup or runtime failure, 2 usage error
`;
}

/** The `--version` line. */
export function versionLine(): string {
  return `cftunnel version ${cliVersion()} (wire-compatible with cloudflared ${COMPATIBLE_CLOUDFLARED_VERSION}; node ${process.version})\n`;
}

// `edge` and `demo` carry the local edge (a whole server side): loaded only when asked for, so a connector never
// holds that code in memory (issue #19).
const HELP_BY_COMMAND: Readonly<Record<string, () => string | Promise<string>>> = {
  tunnel: tunnelRunHelp,
  run: tunnelRunHelp,
  edge: async () => (await import('./edge-command.js')).edgeHelp(),
  demo: async () => (await import('./demo-command.js')).demoHelp(),
};

async function runTunnelCommand(args: readonly string[], io: CliIo): Promise<void> {
  const parsed = parseTunnelCommandFlags(args, io.env);
  const [sub, ...rest] = parsed.positionals;
  if (sub === undefined) {
    // §20.1: `tunnel --url URL` with no subcommand is a quick tunnel.
    if (isQuickTunnelRequest(parsed)) return runQuickTunnel(parsed, io);
    if (parsed.help) {
      io.stdout.write(tunnelRunHelp());
      return;
    }
    throw new UsageError(
      'cftunnel tunnel needs a subcommand: run (see cftunnel tunnel run --help), or --url URL for a quick tunnel',
    );
  }
  if (sub !== 'run') {
    const why = CLOUDFLARED_TUNNEL_SUBCOMMANDS.has(sub)
      ? 'cftunnel only runs tunnels; use cloudflared to manage them'
      : 'unknown subcommand';
    throw new UsageError(`cftunnel tunnel ${sub} is not supported (${why})`);
  }
  await runTunnel({ ...parsed, positionals: rest }, io);
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case undefined:
      io.stdout.write(mainHelp());
      return;
    case '--version':
    case '-v':
    case 'version':
      io.stdout.write(versionLine());
      return;
    case 'help':
    case '--help':
    case '-h': {
      const topic = args[0];
      const help = topic === undefined ? undefined : HELP_BY_COMMAND[topic];
      if (topic !== undefined && help === undefined) throw new UsageError(`no help for unknown command ${topic}`);
      io.stdout.write(help ? await help() : mainHelp());
      return;
    }
    case 'tunnel':
      return runTunnelCommand(args, io);
    case 'run': {
      const parsed = parseRunFlags(args, io.env);
      return runTunnel(parsed, io);
    }
    case 'edge': {
      const { runEdge, parseEdgeFlags } = await import('./edge-command.js');
      return runEdge(parseEdgeFlags(args, io.env), io);
    }
    case 'demo': {
      const { runDemo, parseDemoFlags } = await import('./demo-command.js');
      return runDemo(parseDemoFlags(args), io);
    }
    default:
      if (command.startsWith('-')) {
        throw new UsageError(`flags go after the command: cftunnel tunnel run ${command} … (see cftunnel help)`);
      }
      throw new UsageError(`unknown command ${command} (see cftunnel help)`);
  }
}

/**
 * Runs the CLI with `argv` (without `node` and the script). Never throws and never calls `process.exit` (except a
 * second shutdown signal, and the fatal handlers of {@link runCli}): errors become one line on stderr and
 * `process.exitCode` 1 (failure) or 2 (usage).
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<void> {
  try {
    await dispatch(argv, io);
  } catch (err) {
    io.stderr.write(`cftunnel: error: ${errorText(err)}\n`);
    process.exitCode = exitCodeFor(err);
  }
}

/**
 * The process entry point: installs the last-resort fatal handlers (an uncaught exception or unhandled rejection is
 * logged in the run's log format and exits with status 1, see fatal.ts), then runs {@link main}.
 */
export async function runCli(argv: string[]): Promise<void> {
  installFatalHandlers();
  await main(argv);
}
