/**
 * `cftunnel demo`: origin, local edge and connector in one process, so that `curl` shows a request travelling the
 * whole tunnel protocol without a Cloudflare account.
 */
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { LocalEdge } from '../local-edge/index.js';
import { Tunnel } from '../tunnel.js';
import { startQuickTunnel } from '../quick-tunnel/index.js';
import { generateDemoToken } from './demo-token.js';
import { flagBool, flagInt, flagValue, formatFlagHelp, parseFlags, type FlagSpec, type ParsedFlags } from './flags.js';
import type { CliIo } from './io.js';
import { createCliLogger } from './logger.js';
import { parseProtocol } from './run-settings.js';
import { forcedExitMessage, waitForShutdownSignal } from './signals.js';
import { UsageError } from './errors.js';

/** Connections the demo opens unless told otherwise; fewer than cloudflared's 4 keep the output short. */
const DEMO_HA_CONNECTIONS = 2;

/** Flags of `cftunnel demo`. */
export const DEMO_FLAGS: readonly FlagSpec[] = [
  {
    name: 'protocol',
    aliases: ['p'],
    type: 'string',
    placeholder: 'PROTO',
    defaultText: 'auto',
    description: 'auto, quic or http2.',
  },
  {
    name: 'ha-connections',
    type: 'string',
    placeholder: 'N',
    defaultText: String(DEMO_HA_CONNECTIONS),
    description: 'Connections to the local edge.',
  },
  {
    name: 'loglevel',
    type: 'string',
    placeholder: 'LEVEL',
    defaultText: 'warn',
    description: 'Connector log level on stderr (debug, info, warn, error).',
  },
  {
    name: 'quick',
    type: 'boolean',
    description:
      "Run a quick tunnel: the local edge's quick-tunnel service creates it (one connection, a generated hostname).",
  },
];

/** Help text of `cftunnel demo`. */
export function demoHelp(): string {
  return `NAME:
   cftunnel demo - Origin + local edge + connector in one process; prints a URL to curl

USAGE:
   cftunnel demo [--protocol auto|quic|http2] [--ha-connections N] [--quick]

OPTIONS:
${formatFlagHelp(DEMO_FLAGS)}
`;
}

/** Parses `cftunnel demo` arguments. */
export function parseDemoFlags(argv: readonly string[]): ParsedFlags {
  return parseFlags(argv, { command: 'cftunnel demo', flags: DEMO_FLAGS });
}

function demoPage(req: http.IncomingMessage): string {
  const headers = Object.entries(req.headers).map(([k, v]) => `  ${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
  return `Hello from the cftunnel demo origin!\n\nThis request went visitor -> local edge -> tunnel -> cftunnel connector -> origin.\n\n${req.method} ${req.url}\n${headers.join('\n')}\n`;
}

async function startDemoOrigin(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(demoPage(req));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** Runs the demo until SIGINT/SIGTERM. */
export async function runDemo(parsed: ParsedFlags, io: CliIo): Promise<void> {
  if (parsed.help) {
    io.stdout.write(demoHelp());
    return;
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${parsed.positionals[0]}`);
  const protocol = parseProtocol(flagValue(parsed, 'protocol'));
  const haConnections = flagInt(parsed, 'ha-connections', 1) ?? DEMO_HA_CONNECTIONS;
  const level = flagValue(parsed, 'loglevel') ?? 'warn';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`invalid --loglevel ${level}`);
  const logger = createCliLogger({ level: level as 'warn', output: 'default', stderr: io.stderr });

  const quick = flagBool(parsed, 'quick', false);
  const shutdown = waitForShutdownSignal((signal) => void io.stderr.write(`${forcedExitMessage(signal)}\n`));
  const token = generateDemoToken();
  const origin = await startDemoOrigin();
  const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  let edge: LocalEdge | undefined;
  let tunnel: Tunnel | undefined;
  const closeAll = async (): Promise<void> => {
    shutdown.dispose();
    await tunnel?.close({ graceMs: 0 });
    await edge?.close();
    origin.closeAllConnections();
    await new Promise<void>((resolve) => origin.close(() => resolve()));
  };
  let visit = '';
  try {
    edge = await LocalEdge.start({ tunnels: quick ? [] : [token], quickTunnels: quick });
    const edgeAddress = `${edge.address.host}:${edge.address.port}`;
    visit = `curl ${edge.visitorUrl}/`;
    if (quick) {
      const interrupted = new AbortController();
      void shutdown.signal.then(() => interrupted.abort());
      const protocolOption = protocol === 'auto' ? undefined : protocol;
      const started = await startQuickTunnel({
        origin: originUrl,
        serviceUrl: edge.quickServiceUrl,
        edge: [edgeAddress],
        caCert: edge.caPem,
        protocol: protocolOption,
        logger,
        signal: interrupted.signal,
      });
      tunnel = started.tunnel;
      visit = `curl -H 'Host: ${started.hostname}' ${edge.visitorUrl}/   (quick tunnel ${started.url})`;
      io.stdout.write(
        `  connection 0: protocol=${tunnel.connections[0]?.protocol} (a quick tunnel runs one connection)\n`,
      );
    }
    tunnel ??= new Tunnel({
      token,
      url: originUrl,
      // One HA connection per static edge address (§2.5, like cloudflared): the local edge once per connection.
      edge: Array.from({ length: haConnections }, () => edgeAddress),
      caCert: edge.caPem,
      protocol,
      haConnections,
      logger,
    });
    tunnel.on('connected', (c) =>
      io.stdout.write(
        `  connection ${c.connIndex}: protocol=${c.protocol} location=${c.details.locationName} id=${c.details.uuid}\n`,
      ),
    );
    tunnel.on('disconnected', (c) => io.stdout.write(`  connection ${c.connIndex} closed\n`));
    await Promise.race([tunnel.ready(), shutdown.signal]);
  } catch (err) {
    await closeAll();
    throw err;
  }
  io.stdout.write(
    `cftunnel demo is up: ${visit}\n  origin: ${originUrl}\n  edge: ${edge.address.host}:${edge.address.port}\n  press Ctrl-C to stop\n`,
  );
  const signal = await shutdown.signal;
  io.stdout.write(`Initiating graceful shutdown due to signal ${signal} ...\n`);
  await tunnel.close({ graceMs: 0 });
  await closeAll();
  io.stdout.write('cftunnel demo stopped\n');
  process.exitCode = 0;
}
