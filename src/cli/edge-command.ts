/**
 * `cftunnel edge`: the local edge as a process, for trying a connector offline. Prints one JSON object per line on
 * stdout for each event, so scripts and tests can follow it.
 */
import { chmod, readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CftunnelError } from '../errors.js';
import { LocalEdge } from '../local-edge/index.js';
import { quicAvailability } from '../transport/quic/index.js';
import { generateDemoToken } from './demo-token.js';
import { UsageError } from './errors.js';
import { flagBool, flagValue, formatFlagHelp, parseFlags, type FlagSpec, type ParsedFlags } from './flags.js';
import type { CliIo } from './io.js';
import { forcedExitMessage, waitForShutdownSignal } from './signals.js';
import { splitHostPort } from '../util/host-port.js';

/** The `--token` value that asks for a generated throwaway token. */
export const NEW_TOKEN = 'new';
/** File name of a generated token, in the certificates directory. */
export const GENERATED_TOKEN_FILE = 'tunnel-token';

/** Flags of `cftunnel edge`. */
export const EDGE_FLAGS: readonly FlagSpec[] = [
  {
    name: 'listen',
    type: 'string',
    placeholder: 'HOST:PORT',
    defaultText: '127.0.0.1:7844',
    description: 'Connector-facing address (QUIC on UDP and HTTP/2 on TCP, same port).',
  },
  {
    name: 'http',
    type: 'string',
    placeholder: 'HOST:PORT',
    defaultText: '127.0.0.1:0',
    description: 'Visitor HTTP listener.',
  },
  {
    name: 'tcp',
    type: 'string',
    repeatable: true,
    placeholder: 'HOST:PORT=DEST',
    description: 'Raw TCP visitor listener whose connections become tcp requests to DEST (HOST:PORT).',
  },
  {
    name: 'token',
    env: ['TUNNEL_TOKEN'],
    type: 'string',
    repeatable: true,
    placeholder: 'TOKEN',
    description: `Tunnel allowed to register (at least one, unless --quick-tunnels). "${NEW_TOKEN}" makes a throwaway one, written to a file readable only by you, and prints the connector command that reads it.`,
  },
  {
    name: 'quick-tunnels',
    type: 'string',
    placeholder: 'HOST:PORT',
    description:
      'Also serve a quick-tunnel service here (POST /tunnel creates a tunnel routed by its generated hostname); give its URL as --quick-service.',
  },
  {
    name: 'config',
    type: 'string',
    placeholder: 'FILE',
    description:
      'Remote configuration pushed after each registration: JSON {"version":N,"config":{…}} or a bare config (version 1).',
  },
  {
    name: 'certs',
    type: 'string',
    placeholder: 'DIR',
    description: 'Directory for ca.pem/edge.pem/edge.key (created if missing). Default: a temporary directory.',
  },
  {
    name: 'quic',
    type: 'boolean',
    defaultText: 'true where QUIC is available',
    description: 'Serve QUIC (--quic=false to disable).',
  },
  { name: 'http2', type: 'boolean', defaultText: 'true', description: 'Serve HTTP/2 (--http2=false to disable).' },
  {
    name: 'remotely-managed',
    type: 'boolean',
    defaultText: 'true',
    description:
      'What registration tells the connector; --remotely-managed=false makes it send its local configuration (local_config event).',
  },
];

/** The `--config` file is unreadable or not JSON. */
export class EdgeConfigFileError extends CftunnelError {
  constructor(path: string, detail: string, cause?: unknown) {
    super('CFT_ERR_EDGE_CONFIG_FILE', `--config ${path}: ${detail}`, { retryable: false, cause });
  }
}

/** Help text of `cftunnel edge`. */
export function edgeHelp(): string {
  return `NAME:
   cftunnel edge - Run a local Cloudflare-edge stand-in on loopback (for tests and offline demos)

USAGE:
   cftunnel edge (--token TOKEN | --quick-tunnels 127.0.0.1:0) [--listen 127.0.0.1:7844] [--http 127.0.0.1:8080] [--tcp 127.0.0.1:8081=HOST:PORT] [--config FILE] [--certs DIR]
   cftunnel edge --token new [...]
   TUNNEL_TOKEN=... cftunnel edge [...]

Prints one JSON object per line on stdout: listening, register, unregister, config_pushed, local_config,
registration_refused, transport_closed, quick_tunnel. Connect a connector with:
   cftunnel tunnel run --token-file <file> --edge <edge> --cacert <ca>
or, with --quick-tunnels, a quick tunnel with:
   cftunnel tunnel --url URL --quick-service <quickService> --edge <edge> --cacert <ca>
With --token new, the edge writes a fresh token to <certs>/${GENERATED_TOKEN_FILE} (mode 0600) and prints that command
(also in the listening event as "connector"), so the token is never typed, never in ps, never in shell history.

OPTIONS:
${formatFlagHelp(EDGE_FLAGS)}
`;
}

/** Splits `host:port` (IPv6 in brackets). */
export function parseHostPort(text: string, flag: string): { host: string; port: number } {
  const hp = splitHostPort(text);
  if (hp === undefined || hp.host === '' || /\s/.test(hp.host))
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not HOST:PORT`);
  return hp;
}

/** Reads a `--config` file: `{"version":N,"config":{…}}`, or a bare configuration document taken as version 1. */
export async function readEdgeConfig(path: string): Promise<{ version: number; config: unknown }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EdgeConfigFileError(path, (err as Error).message, err);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new EdgeConfigFileError(path, `not JSON: ${(err as Error).message}`, err);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new EdgeConfigFileError(path, 'not a JSON object');
  const rec = doc as Record<string, unknown>;
  if (typeof rec.version === 'number' && 'config' in rec) {
    if (!Number.isInteger(rec.version)) throw new EdgeConfigFileError(path, '"version" is not an integer');
    return { version: rec.version, config: rec.config };
  }
  return { version: 1, config: doc };
}

function tcpListener(text: string): { host: string; port: number; destination: string } {
  const eq = text.indexOf('=');
  if (eq === -1) throw new UsageError(`--tcp ${JSON.stringify(text)} is not HOST:PORT=DEST`);
  const listen = parseHostPort(text.slice(0, eq), '--tcp');
  parseHostPort(text.slice(eq + 1), '--tcp destination');
  return { ...listen, destination: text.slice(eq + 1) };
}

/** Parses `cftunnel edge` arguments. */
export function parseEdgeFlags(argv: readonly string[], env: CliIo['env'] = {}): ParsedFlags {
  return parseFlags(argv, { command: 'cftunnel edge', flags: EDGE_FLAGS, env });
}

/** The connector command for a generated token: the token stays in its file (not in argv, so not in ps). */
export function connectorCommand(tokenFile: string, edge: string, ca: string): string {
  const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return `cftunnel tunnel run --token-file ${quote(tokenFile)} --edge ${quote(edge)} --cacert ${quote(ca)} --url http://localhost:8080`;
}

/** Runs the local edge until SIGINT/SIGTERM. */
export async function runEdge(parsed: ParsedFlags, io: CliIo): Promise<void> {
  if (parsed.help) {
    io.stdout.write(edgeHelp());
    return;
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${parsed.positionals[0]}`);
  const given = [...(parsed.values.get('token') ?? [])];
  const quickListen = flagValue(parsed, 'quick-tunnels');
  const quickTunnels = quickListen === undefined ? undefined : parseHostPort(quickListen, '--quick-tunnels');
  if (given.length === 0 && quickTunnels === undefined)
    throw new UsageError('cftunnel edge needs at least one --token (or TUNNEL_TOKEN, --token new or --quick-tunnels)');
  const generated = given.includes(NEW_TOKEN) ? generateDemoToken() : undefined;
  const tokens = given.map((t) => (t === NEW_TOKEN ? generated! : t));
  const listen = parseHostPort(flagValue(parsed, 'listen') ?? '127.0.0.1:7844', '--listen');
  const http = parseHostPort(flagValue(parsed, 'http') ?? '127.0.0.1:0', '--http');
  const tcp = (parsed.values.get('tcp') ?? []).map(tcpListener);
  const quic = quicAvailability();
  // Without --quic, serve QUIC where the binding loads (HTTP/2 alone elsewhere, e.g. macOS); --quic=true insists.
  const transports = { quic: flagBool(parsed, 'quic', quic.available), http2: flagBool(parsed, 'http2', true) };
  if (!transports.quic && !transports.http2)
    throw new UsageError('--quic=false and --http2=false leave nothing to serve');
  const configPath = flagValue(parsed, 'config');
  const config = configPath === undefined ? undefined : await readEdgeConfig(configPath);
  const tempCerts =
    flagValue(parsed, 'certs') === undefined ? await mkdtemp(join(tmpdir(), 'cftunnel-edge-')) : undefined;
  const certsDir = flagValue(parsed, 'certs') ?? tempCerts!;

  const print = (event: string, fields: object): void =>
    void io.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
  const shutdown = waitForShutdownSignal((signal) => void io.stderr.write(`${forcedExitMessage(signal)}\n`));
  let edge: LocalEdge;
  try {
    edge = await LocalEdge.start({
      host: listen.host,
      port: listen.port,
      httpHost: http.host,
      httpPort: http.port,
      tcp,
      tunnels: tokens,
      certsDir,
      config,
      transports,
      remotelyManaged: flagBool(parsed, 'remotely-managed', true),
      quickTunnels,
    });
  } catch (err) {
    shutdown.dispose();
    if (tempCerts !== undefined) await rm(tempCerts, { recursive: true, force: true });
    throw err;
  }
  if (!quic.available && flagValue(parsed, 'quic') === undefined) print('quic_unavailable', { reason: quic.reason });
  edge.on('register', (info) =>
    print('register', {
      ...info.registration,
      id: info.id,
      protocol: info.protocol,
      remoteAddress: info.remoteAddress,
    }),
  );
  edge.on('unregister', (info) =>
    print('unregister', { id: info.id, connIndex: info.connIndex, protocol: info.protocol, tunnelId: info.tunnelId }),
  );
  edge.on('config_pushed', (result) => print('config_pushed', result));
  edge.on('local_config', (info, text) =>
    print('local_config', { id: info.id, connIndex: info.connIndex, config: text }),
  );
  edge.on('registration_refused', (req, decision) =>
    print('registration_refused', { tunnelId: req.tunnelId, connIndex: req.connIndex, decision }),
  );
  edge.on('transport_closed', (info) => print('transport_closed', info));
  edge.on('quick_tunnel', (created) => print('quick_tunnel', created));
  const host = edge.address.host.includes(':') ? `[${edge.address.host}]` : edge.address.host;
  const edgeAddress = `${host}:${edge.address.port}`;
  const ca = edge.caPath ?? join(certsDir, 'ca.pem');
  let connector: { tokenFile: string; command: string } | undefined;
  if (generated !== undefined) {
    const tokenFile = join(certsDir, GENERATED_TOKEN_FILE);
    await writeFile(tokenFile, `${generated}\n`, { mode: 0o600 });
    await chmod(tokenFile, 0o600);
    connector = { tokenFile, command: connectorCommand(tokenFile, edgeAddress, ca) };
  }
  print('listening', {
    edge: edgeAddress,
    http: edge.visitorUrl,
    ca,
    tcp: edge.tcpPorts.map((port, i) => ({ port, destination: tcp[i]!.destination })),
    transports,
    ...(edge.quickServiceUrl === undefined ? {} : { quickService: edge.quickServiceUrl }),
    ...(connector === undefined ? {} : { tokenFile: connector.tokenFile, connector: connector.command }),
  });
  if (connector !== undefined)
    io.stderr.write(`Run the connector (the token is in ${connector.tokenFile}):\n  ${connector.command}\n`);
  const signal = await shutdown.signal;
  print('shutdown', { signal });
  await edge.close();
  if (tempCerts !== undefined) await rm(tempCerts, { recursive: true, force: true });
  process.exitCode = 0;
}
