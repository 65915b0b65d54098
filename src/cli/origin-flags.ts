/**
 * cloudflared's single-origin flags (docs/protocol.md §10.4, §16): `--url` / `--hello-world` / `--bastion` /
 * `--unix-socket` choose the one catch-all rule, and the `--proxy-*`, `--http-host-header`, `--no-tls-verify`, … flags
 * become that rule's `originRequest`, which is also the configuration's top-level `originRequest` (cloudflared
 * `ingress/config.go` originRequestFromSingleRule, `ingress/ingress.go` parseCLIIngress / parseSingleOriginService).
 * Only flags that are set override a built-in default; a remote configuration replaces all of it.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import type { OriginRequestOverrides } from '../ingress/origin-request.js';
import { UsageError } from './errors.js';
import { flagBool, flagValue, type FlagSpec, type ParsedFlags } from './flags.js';
import { DurationSyntaxError, parseGoDuration } from '../util/go-duration.js';
import { joinHostPort, splitGoHostPort } from '../util/host-port.js';

/** Help suffix of the flags that only shape the single rule (cloudflared's cmd.go legacyTunnelFlag says the same). */
const URL_RULE_ONLY = '(--url rule only)';

/** Flags that pick the single origin service, in cloudflared's order of precedence. */
const SERVICE_FLAG_SPECS: readonly FlagSpec[] = [
  {
    name: 'hello-world',
    env: ['TUNNEL_HELLO_WORLD'],
    type: 'boolean',
    description: 'Serve the built-in hello-world origin (takes precedence over --url).',
  },
  {
    name: 'bastion',
    env: ['TUNNEL_BASTION'],
    type: 'boolean',
    description: 'Run as a jump host: each request names its TCP destination (Cf-Access-Jump-Destination).',
  },
  {
    name: 'unix-socket',
    env: ['TUNNEL_UNIX_SOCKET'],
    type: 'string',
    placeholder: 'PATH',
    description: 'Plain HTTP origin on a Unix socket, instead of --url.',
  },
];

/** How each `originRequest` flag's text is read. */
type OriginFlagKind = 'duration' | 'bool' | 'int' | 'port' | 'string';

/** `originRequest` flags: flag name → [JSON key, kind] (cloudflared `ingress/config.go`). */
const ORIGIN_REQUEST_FLAGS: ReadonlyArray<{ spec: FlagSpec; key: keyof OriginRequestOverrides; kind: OriginFlagKind }> =
  [
    {
      key: 'connectTimeout',
      kind: 'duration',
      spec: {
        name: 'proxy-connect-timeout',
        type: 'string',
        placeholder: 'DURATION',
        defaultText: '30s',
        description: `Timeout for connecting to the origin. ${URL_RULE_ONLY}`,
      },
    },
    {
      key: 'tlsTimeout',
      kind: 'duration',
      spec: {
        name: 'proxy-tls-timeout',
        type: 'string',
        placeholder: 'DURATION',
        defaultText: '10s',
        description: `Timeout for the TLS handshake with the origin. ${URL_RULE_ONLY}`,
      },
    },
    {
      key: 'tcpKeepAlive',
      kind: 'duration',
      spec: {
        name: 'proxy-tcp-keepalive',
        type: 'string',
        placeholder: 'DURATION',
        defaultText: '30s',
        description: `TCP keep-alive period of origin connections. ${URL_RULE_ONLY}`,
      },
    },
    {
      key: 'noHappyEyeballs',
      kind: 'bool',
      spec: {
        name: 'proxy-no-happy-eyeballs',
        type: 'boolean',
        description: `Do not race IPv4 and IPv6 when dialling the origin. ${URL_RULE_ONLY}`,
      },
    },
    {
      key: 'keepAliveConnections',
      kind: 'int',
      spec: {
        name: 'proxy-keepalive-connections',
        type: 'string',
        placeholder: 'N',
        defaultText: '100',
        description: `Idle origin connections kept for reuse. ${URL_RULE_ONLY}`,
      },
    },
    {
      key: 'keepAliveTimeout',
      kind: 'duration',
      spec: {
        name: 'proxy-keepalive-timeout',
        type: 'string',
        placeholder: 'DURATION',
        defaultText: '1m30s',
        description: `How long an idle origin connection is kept. ${URL_RULE_ONLY}`,
      },
    },
    {
      key: 'httpHostHeader',
      kind: 'string',
      spec: {
        name: 'http-host-header',
        env: ['TUNNEL_HTTP_HOST_HEADER'],
        type: 'string',
        placeholder: 'HOST',
        description: `Host header sent to the origin (the visitor's host goes in X-Forwarded-Host). ${URL_RULE_ONLY}`,
      },
    },
    {
      key: 'originServerName',
      kind: 'string',
      spec: {
        name: 'origin-server-name',
        env: ['TUNNEL_ORIGIN_SERVER_NAME'],
        type: 'string',
        placeholder: 'NAME',
        description: `Name expected on the origin certificate (and sent as SNI). ${URL_RULE_ONLY}`,
      },
    },
    {
      key: 'caPool',
      kind: 'string',
      spec: {
        name: 'origin-ca-pool',
        env: ['TUNNEL_ORIGIN_CA_POOL'],
        type: 'string',
        placeholder: 'FILE',
        description: `Extra PEM bundle trusted for the origin certificate. ${URL_RULE_ONLY}`,
      },
    },
    {
      key: 'noTLSVerify',
      kind: 'bool',
      spec: {
        name: 'no-tls-verify',
        env: ['NO_TLS_VERIFY'],
        type: 'boolean',
        description: `Accept any origin certificate (the connection to the edge is still verified). ${URL_RULE_ONLY}`,
      },
    },
    {
      key: 'disableChunkedEncoding',
      kind: 'bool',
      spec: {
        name: 'no-chunked-encoding',
        env: ['TUNNEL_NO_CHUNKED_ENCODING'],
        type: 'boolean',
        description: `Send request bodies to the origin without chunked encoding (WSGI servers). ${URL_RULE_ONLY}`,
      },
    },
    {
      key: 'http2Origin',
      kind: 'bool',
      spec: {
        name: 'http2-origin',
        env: ['TUNNEL_ORIGIN_ENABLE_HTTP2'],
        type: 'boolean',
        description: `Offer HTTP/2 to HTTPS origins. ${URL_RULE_ONLY}`,
      },
    },
    {
      key: 'proxyAddress',
      kind: 'string',
      spec: {
        name: 'proxy-address',
        env: ['TUNNEL_PROXY_ADDRESS'],
        type: 'string',
        placeholder: 'IP',
        defaultText: '127.0.0.1',
        description: 'Legacy: recorded in originRequest.proxyAddress, unused (as in cloudflared).',
      },
    },
    {
      key: 'proxyPort',
      kind: 'port',
      spec: {
        name: 'proxy-port',
        env: ['TUNNEL_PROXY_PORT'],
        type: 'string',
        placeholder: 'PORT',
        defaultText: '0',
        description: 'Legacy: recorded in originRequest.proxyPort, unused (as in cloudflared).',
      },
    },
  ];

/** Every single-origin flag of `tunnel run`. */
export const ORIGIN_FLAG_SPECS: readonly FlagSpec[] = [
  ...SERVICE_FLAG_SPECS,
  ...ORIGIN_REQUEST_FLAGS.map((f) => f.spec),
];

/** URL schemes `--url` accepts (cloudflared `validation/validation.go` supportedProtocols). */
const SUPPORTED_URL_SCHEMES: readonly string[] = ['http', 'https', 'rdp', 'ssh', 'smb', 'tcp'];

/** The single rule the flags describe. */
export interface SingleOriginRule {
  /** Service string of the catch-all rule; undefined when no service flag is set (the 503 default rule). */
  readonly service: string | undefined;
  /** The set flags as `originRequest` fields (durations in seconds). */
  readonly originRequest: OriginRequestOverrides;
}

function ipOrigin(scheme: string, host: string, port: string): string {
  if (port !== '') return `${scheme}://${joinHostPort(host, port)}`;
  return host.includes(':') ? `${scheme}://[${host}]` : `${scheme}://${host}`;
}

function urlError(detail: string): UsageError {
  return new UsageError(`Error validating origin URL: ${detail}`);
}

/**
 * `--url` as cloudflared reads it (`validation.ValidateUrl`): without a scheme `http://` is prepended
 * (`localhost:8080` → `http://localhost:8080`); with one, only http, https, rdp, ssh, smb and tcp are accepted. A path
 * is dropped either way (cloudflared's origin requests always carry the visitor's path).
 *
 * @throws {UsageError} cloudflared's text, e.g. `Currently Cloudflare Tunnel does not support ftp protocol.`
 */
export function validateOriginUrl(text: string): string {
  if (text === '') throw urlError('URL should not be empty');
  if (isIP(text) !== 0) return ipOrigin('http', text, '');
  if (text.startsWith('[') && text.endsWith(']')) return ipOrigin('http', text.slice(1, -1), '');
  const hostPort = splitGoHostPort(text);
  if (hostPort !== undefined && isIP(hostPort.host) !== 0) return ipOrigin('http', hostPort.host, hostPort.port);
  const withScheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]+)/.exec(text);
  if (withScheme !== null) {
    const scheme = withScheme[1]!.toLowerCase();
    if (!SUPPORTED_URL_SCHEMES.includes(scheme))
      throw urlError(`Currently Cloudflare Tunnel does not support ${scheme} protocol.`);
    let url: URL;
    try {
      url = new URL(`http://${withScheme[2]}`);
    } catch {
      throw urlError(`URL ${text} has invalid format`);
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0) return ipOrigin(scheme, host, url.port);
    return url.port === '' ? `${scheme}://${host}` : `${scheme}://${host}:${url.port}`;
  }
  const host = hostPort?.host ?? text;
  const ascii = domainToASCII(host);
  if (ascii === '') throw urlError(`URL ${text} has invalid format`);
  if (hostPort === undefined) return `http://${ascii}`;
  // cloudflared keeps whatever follows the port here (`localhost:8080/api`), but its HTTP service only takes scheme
  // and host from the URL (the path is always the visitor's), so the path has no effect: drop it, as our ingress
  // parser refuses service paths.
  const port = /^\d*/.exec(hostPort.port)![0];
  if (port === '') throw urlError(`URL ${text} has invalid format`);
  return `http://${joinHostPort(ascii, port)}`;
}

function originFlagValue(name: string, kind: OriginFlagKind, text: string): number | boolean | string {
  const bad = (detail: string): UsageError =>
    new UsageError(`invalid value ${JSON.stringify(text)} for flag --${name}: ${detail}`);
  switch (kind) {
    case 'duration':
      try {
        return parseGoDuration(text) / 1000;
      } catch (err) {
        if (err instanceof DurationSyntaxError) throw bad('expected a duration such as 30s or 1m30s');
        throw err;
      }
    case 'bool':
      return text === 'true';
    case 'int':
    case 'port': {
      const n = Number(text.trim());
      if (!/^[+-]?\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw bad('expected an integer');
      if (kind === 'port' && (n < 0 || n > 65535)) throw bad('expected a port number 0-65535');
      return n;
    }
    case 'string':
      return text;
  }
}

/**
 * The single rule of the flags: the service (cloudflared's precedence: --hello-world, --bastion, --url,
 * --unix-socket) and the `originRequest` fields of the origin flags that are set.
 *
 * @throws {UsageError} a bad value or an unsupported `--url` scheme.
 */
export function singleOriginRule(parsed: ParsedFlags): SingleOriginRule {
  const originRequest: Record<string, unknown> = {};
  for (const { spec, key, kind } of ORIGIN_REQUEST_FLAGS) {
    const text = flagValue(parsed, spec.name);
    if (text !== undefined) originRequest[key] = originFlagValue(spec.name, kind, text);
  }
  const bastion = flagBool(parsed, 'bastion', false);
  if (parsed.values.has('bastion')) originRequest.bastionMode = bastion;
  const url = flagValue(parsed, 'url');
  const unixSocket = flagValue(parsed, 'unix-socket');
  let service: string | undefined;
  if (flagBool(parsed, 'hello-world', false)) service = 'hello_world';
  else if (bastion) service = 'bastion';
  else if (url !== undefined) service = validateOriginUrl(url);
  else if (unixSocket !== undefined) service = `unix:${unixSocket}`;
  return { service, originRequest: originRequest as OriginRequestOverrides };
}
