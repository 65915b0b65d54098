/**
 * Validation of {@link TunnelOptions} at the library boundary. JavaScript callers (and TypeScript callers reading
 * `process.env`) can pass anything; a wrong value must fail at once with an error naming the field, not as a
 * `TypeError` deep inside startup or as a startup that retries forever.
 */
import { isIP } from 'node:net';
import { CftunnelError } from './errors.js';
import { splitHostPort } from './util/host-port.js';
import { TunnelSecret } from './token/secret.js';
import { createConnectorIdentity, selectFeatures, type ConnectorIdentity } from './connection/identity.js';
import { HTTP2_PING_INTERVAL_MS } from './connection/http2-connection.js';
import { DEFAULT_RPC_TIMEOUT_MS } from './connection/types.js';
import { DEFAULT_EDGE_IP_VERSION } from './edge-discovery/ip-version.js';
import type { DnsOverTlsOptions } from './edge-discovery/dot.js';
import type { EdgeIpVersion } from './edge-discovery/ip-version.js';
import type { EdgeResolver } from './edge-discovery/resolver.js';
import { testHooksOf } from './internal/test-hooks.js';
import { silentLogger } from './observability/silent-logger.js';
import { DEFAULT_MAX_RETRIES } from './supervisor/backoff.js';
import {
  DEFAULT_GRACE_PERIOD_MS,
  DEFAULT_HA_CONNECTIONS,
  HA_CONNECTION_SPACING_MS,
  type SupervisorSettings,
} from './supervisor/supervisor.js';
import { parseToken } from './token/index.js';
import { HANDSHAKE_TIMEOUT_MS } from './transport/quic/config.js';
import { CaCertError, parseCaBundle } from './transport/tls/trust.js';
import type { OriginRequestOptions } from './ingress/origin-request-options.js';
import type { TunnelConfig } from './orchestration/remote-config.js';
import type { Origin } from './proxy/in-process/origin.js';
import type { ProtocolOption } from './supervisor/protocol.js';
import type { TunnelCredentials } from './token/index.js';
import type { QuicFlowControl } from './transport/quic/config.js';
import type { TunnelLogger } from './util/logger.js';

/** An option value is invalid; the message names the field (e.g. `options.haConnections`). */
export class TunnelOptionsError extends CftunnelError {
  /** The offending field, e.g. `haConnections` or `edge[1]`. */
  readonly field: string;

  constructor(field: string, message: string) {
    super('CFT_ERR_OPTIONS', `options.${field} ${message}`, { retryable: false });
    this.field = field;
  }
}

/** What a value is, for messages; never the value itself (it may be a secret). */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

type Check = (value: unknown, field: string) => void;

function fail(field: string, message: string): never {
  throw new TunnelOptionsError(field, message);
}

const string: Check = (v, f) => {
  if (typeof v !== 'string') fail(f, `must be a string, got ${kindOf(v)}`);
};
const nonEmptyString: Check = (v, f) => {
  string(v, f);
  if (v === '') fail(f, 'must not be empty');
};
const boolean: Check = (v, f) => {
  if (typeof v !== 'boolean') fail(f, `must be a boolean, got ${kindOf(v)}`);
};
const plainObject: Check = (v, f) => {
  if (!isPlainObject(v)) fail(f, `must be a plain object, got ${kindOf(v)}`);
};

function oneOf(values: readonly string[]): Check {
  return (v, f) => {
    if (typeof v !== 'string' || !values.includes(v))
      fail(f, `must be one of ${values.map((x) => `'${x}'`).join(', ')}`);
  };
}

function integer(min: number): Check {
  return (v, f) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
      fail(f, `must be an integer >= ${min}, got ${typeof v === 'number' ? v : kindOf(v)}`);
  };
}

function milliseconds(min: number): Check {
  return (v, f) => {
    // Node timers take at most 2^31-1 ms; a larger value would silently become 1 ms.
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > 2 ** 31 - 1) {
      fail(
        f,
        `must be a number of milliseconds in ${min}..${2 ** 31 - 1}, got ${typeof v === 'number' ? v : kindOf(v)}`,
      );
    }
  };
}

function arrayOf(check: Check): Check {
  return (v, f) => {
    if (!Array.isArray(v)) fail(f, `must be an array, got ${kindOf(v)}`);
    v.forEach((x: unknown, i) => check(x, `${f}[${i}]`));
  };
}

function recordOf(check: Check): Check {
  return (v, f) => {
    plainObject(v, f);
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) check(x, `${f}.${k}`);
  };
}

/** An in-process origin: an `http.Server`, a `(req, res)` listener or an object with `fetch(request)`. */
const inProcessOrigin: Check = (v, f) => {
  if (typeof v === 'function') return;
  if (typeof v === 'object' && v !== null && typeof (v as { fetch?: unknown }).fetch === 'function') return;
  if (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { emit?: unknown }).emit === 'function' &&
    typeof (v as { listen?: unknown }).listen === 'function'
  )
    return;
  fail(f, `must be an http.Server, a (req, res) listener or an object with fetch(), got ${kindOf(v)}`);
};

const origin: Check = (v, f) => {
  if (typeof v === 'string') return nonEmptyString(v, f);
  inProcessOrigin(v, f);
};

const token: Check = (v, f) => {
  if (v === undefined || v === null || v === '')
    fail(f, 'is required: a tunnel token (e.g. process.env.TUNNEL_TOKEN) or parsed credentials');
  if (typeof v === 'string') return;
  const c = v as Record<string, unknown>;
  if (
    typeof v !== 'object' ||
    typeof c.accountTag !== 'string' ||
    typeof c.tunnelId !== 'string' ||
    !(c.tunnelIdBytes instanceof Uint8Array) ||
    !(c.tunnelSecret instanceof TunnelSecret)
  ) {
    fail(f, `must be a token string or TunnelCredentials (from parseToken / parseCredentialsFile), got ${kindOf(v)}`);
  }
};

/**
 * `--edge`: strings, at least one of them `host:port`. Like cloudflared (docs/protocol.md §2.5), other entries are
 * logged and skipped at startup, so only a list with no usable entry is refused here.
 */
const edge: Check = (v, f) => {
  if (!Array.isArray(v)) fail(f, `must be an array of "host:port" strings, got ${kindOf(v)}`);
  if (v.length === 0) fail(f, 'must list at least one address');
  v.forEach((entry: unknown, i) => string(entry, `${f}[${i}]`));
  const usable = (entry: string): boolean => {
    const hp = splitHostPort(entry);
    return hp !== undefined && hp.host !== '' && hp.port !== 0;
  };
  if (!(v as string[]).some(usable)) {
    fail(`${f}[0]`, `must be "host:port" with a port in 1..65535 (no entry is), got ${JSON.stringify(v[0])}`);
  }
};

const ingress: Check = (v, f) => {
  if (!Array.isArray(v)) fail(f, `must be an array of rules, got ${kindOf(v)}`);
  v.forEach((rule: unknown, i) => {
    const field = `${f}[${i}]`;
    plainObject(rule, field);
    const r = rule as Record<string, unknown>;
    if (r.hostname !== undefined) string(r.hostname, `${field}.hostname`);
    if (r.path !== undefined) string(r.path, `${field}.path`);
    if (r.service === undefined) fail(`${field}.service`, 'is required');
    origin(r.service, `${field}.service`);
    if (r.originRequest !== undefined) plainObject(r.originRequest, `${field}.originRequest`);
  });
};

const config: Check = (v, f) => {
  const c = v as Record<string, unknown>;
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof c.raw !== 'string' ||
    typeof c.ingress !== 'object' ||
    c.ingress === null
  ) {
    fail(f, `must be a configuration from loadConfigFile() / parseConfigFile() / configFromUrl(), got ${kindOf(v)}`);
  }
};

const caCert: Check = (v, f) => {
  if (typeof v !== 'string' && !(v instanceof Uint8Array)) fail(f, `must be a PEM string or Buffer, got ${kindOf(v)}`);
};

const edgeBindAddress: Check = (v, f) => {
  string(v, f);
  if (isIP(v as string) === 0) fail(f, `must be an IPv4 or IPv6 address, got ${JSON.stringify(v)}`);
};

const metrics: Check = (v, f) => {
  string(v, f);
  if (splitHostPort(v as string) === undefined)
    fail(f, `must be "host:port" (e.g. "localhost:0"), got ${JSON.stringify(v)}`);
};

const dnsOverTls: Check = (v, f) => {
  if (v === false) return;
  plainObject(v, f);
};

const logger: Check = (v, f) => {
  const l = v as Record<string, unknown>;
  if (
    typeof v !== 'object' ||
    v === null ||
    ['debug', 'info', 'warn', 'error'].some((m) => typeof l[m] !== 'function')
  ) {
    fail(f, 'must be a pino logger (debug, info, warn and error methods)');
  }
};

const signal: Check = (v, f) => {
  if (!(v instanceof AbortSignal)) fail(f, `must be an AbortSignal, got ${kindOf(v)}`);
};

/** Optional fields and their checks; `undefined` always means "use the default". */
const OPTIONAL: { readonly [K in keyof TunnelOptions]?: Check } = {
  origin,
  url: nonEmptyString,
  ingress,
  originRequest: plainObject,
  services: recordOf(inProcessOrigin),
  config,
  tags: recordOf(string),
  configurationFlags: recordOf(string),
  edge,
  region: string,
  edgeIpVersion: oneOf(['4', '6', 'auto']),
  dnsOverTls,
  caCert,
  protocol: oneOf(['auto', 'quic', 'http2', 'h2mux']),
  protocolSelector: oneOf(['default', 'remote']),
  postQuantum: boolean,
  haConnections: integer(1),
  edgeBindAddress,
  retries: integer(0),
  gracePeriodMs: milliseconds(0),
  metrics,
  logger,
  signal,
  retryUnauthorizedAtStartup: boolean,
  features: arrayOf(string),
  quicFlowControl: plainObject,
  rpcTimeoutMs: milliseconds(0),
  quickTunnelHostname: string,
};

/**
 * Options that were public once and left (they are internal hooks now, `internal/test-hooks.ts`), with what to do
 * instead: JavaScript callers get no type error, and a silently ignored option would change behaviour unannounced.
 */
const REMOVED: Readonly<Record<string, string>> = {
  haSpacingMs: 'HA connections start 1 s apart, as cloudflared does (docs/protocol.md §12.1)',
  dnsResolver: 'edge discovery uses the system resolver; pass `edge` addresses to skip it',
  identity: 'each Tunnel generates its connector identity',
};

/**
 * Checks every field of `options`. Fields this module does not know are left alone (they are typed by TypeScript),
 * except options that were removed, which are refused with what replaces them.
 *
 * @throws {TunnelOptionsError} for the first invalid field.
 */
export function validateTunnelOptions(options: unknown): asserts options is TunnelOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TunnelOptionsError('token', `is required: startTunnel() takes an options object, got ${kindOf(options)}`);
  }
  const o = options as Record<string, unknown>;
  token(o.token, 'token');
  for (const [field, instead] of Object.entries(REMOVED)) {
    if (o[field] !== undefined) fail(field, `is no longer an option: ${instead}`);
  }
  for (const [field, check] of Object.entries(OPTIONAL) as Array<[string, Check]>) {
    if (o[field] !== undefined) check(o[field], field);
  }
}

/** One local ingress rule (cloudflared's `ingress:` entry, docs/protocol.md §10). */
export interface IngressRuleOptions {
  /** Public hostname the rule matches (`app.example.com`, `*.example.com`); absent or `*` for the catch-all. */
  hostname?: string;
  /** Go RE2 regular expression matched anywhere in the URL path. */
  path?: string;
  /** Service URL or string (`http://localhost:8080`, `http_status:404`, `hello_world`, …) or an in-process app. */
  service: Origin;
  /** This rule's options; unset fields inherit the top-level `originRequest` (§10.4). */
  originRequest?: OriginRequestOptions;
}

/** Options of {@link Tunnel}. */
export interface TunnelOptions {
  /** Tunnel token (`cloudflared tunnel run --token`) or parsed credentials. */
  token: string | TunnelCredentials;
  /**
   * Origin for every request until a remote configuration arrives: a service URL (`--url`, e.g.
   * `http://localhost:8080`), or an app served in-process with no port — an `http.Server`, a `(req, res)` listener
   * (Express), or an object with `fetch(request)` (Hono). See also `ingress` and `services`.
   */
  origin?: Origin;
  /** Same as `origin` with a URL (cloudflared's `--url`). */
  url?: string;
  /**
   * Local ingress rules (cloudflared's `ingress:` list), validated with cloudflared's rules and messages; services
   * may be URLs/service strings or in-process origins. The last rule must be a catch-all.
   */
  ingress?: IngressRuleOptions[];
  /**
   * Top-level `originRequest` defaults every `ingress` rule inherits field by field (§10.4, §10.5); without `ingress`,
   * the options of the `url`/`origin` rule (like `--url` with the origin flags).
   */
  originRequest?: OriginRequestOptions;
  /**
   * In-process origins for service strings of the *remote* configuration: a dashboard rule pointing at
   * `http://localhost:3000` is served by `services['http://localhost:3000']` instead of being dialled.
   */
  services?: Record<string, Exclude<Origin, string>>;
  /** A prebuilt local configuration (e.g. `loadConfigFile(path).config`); overrides `origin`/`url`/`ingress`. */
  config?: TunnelConfig;
  /** `--tag NAME=VALUE` pairs, sent to origins as `Cf-Warp-Tag-<Name>` (§10.6). */
  tags?: Record<string, string>;
  /** Flag values echoed in `__configuration_flags` of `updateLocalConfiguration` (§9.4). */
  configurationFlags?: Record<string, string>;
  /**
   * Static edge addresses `host:port` (`--edge`); one HA connection per address, like cloudflared. Without it the
   * edge is discovered through DNS (SRV `_v2-origintunneld._tcp.argotunnel.com`, DNS-over-TLS fallback).
   */
  edge?: string[];
  /** Discovery region (`--region`, e.g. `us`); the token's endpoint is used when absent. */
  region?: string;
  /** `--edge-ip-version`: `4`, `6` or `auto` (default). */
  edgeIpVersion?: EdgeIpVersion;
  /** DNS-over-TLS fallback settings, or `false` to disable it. */
  dnsOverTls?: DnsOverTlsOptions | false;
  /** PEM bundle that replaces the edge trust anchors (`--cacert`). */
  caCert?: string | Buffer;
  /** `auto` (QUIC, falling back to HTTP/2), `quic` or `http2`. */
  protocol?: ProtocolOption;
  /**
   * How `auto` picks the first protocol (docs/protocol.md §3.3): `default` (QUIC first — cloudflared's choice when a
   * token was given with `--token`/`TUNNEL_TOKEN`) or `remote` (the `protocol-v2.argotunnel.com` TXT percentages
   * and the account's FNV-1a bucket — cloudflared's choice otherwise, e.g. with `--token-file`).
   */
  protocolSelector?: 'default' | 'remote';
  /**
   * Strict post-quantum key agreement (`--post-quantum`): only X25519MLKEM768 is offered. The QUIC binding cannot
   * choose key-exchange groups, so strict mode runs on HTTP/2; it fails when this Node's OpenSSL lacks the group.
   */
  postQuantum?: boolean;
  /** Number of HA connections (default 4). */
  haConnections?: number;
  /** Local address to dial the edge from (`--edge-bind-address`). */
  edgeBindAddress?: string;
  /** `--retries`: backoff exponent cap and fallback trigger (default 5). */
  retries?: number;
  /** Grace period for `close()` (default 30 s). */
  gracePeriodMs?: number;
  /**
   * Address of the metrics/readiness server (`--metrics`, e.g. `localhost:0` for cloudflared's 20241-20245 search).
   * No server when absent; the metrics themselves are always kept (`tunnel.metrics`).
   */
  metrics?: string;
  /**
   * Hostname of a quick tunnel, reported by the metrics server at `/quicktunnel` (docs/protocol.md §20.4). Set by
   * `startQuickTunnel`; leave unset for other tunnels.
   */
  quickTunnelHostname?: string;
  /** A pino logger, or any object with pino's level methods (`debug`, `info`, `warn`, `error`); default silent. */
  logger?: TunnelLogger;
  /** Aborts startup / closes the tunnel. */
  signal?: AbortSignal;
  /**
   * Extra feature strings for `ClientInfo.features` (`--features`, docs/protocol.md §14.3): merged with the defaults
   * as cloudflared does; `support_datagram_v3_2` selects datagram v3.
   */
  features?: readonly string[];
  /**
   * QUIC receive-window caps in bytes (`--quic-connection-level-flow-control-limit` / `--quic-stream-level-…`,
   * docs/protocol.md §5.1): defaults 30 MiB per connection (the QUIC library caps it at 24 MiB) and 6 MiB per stream.
   */
  quicFlowControl?: QuicFlowControl;
  /** Bound on each RPC with the edge and on serving an edge-opened RPC stream (`--rpc-timeout`, default 5000 ms). */
  rpcTimeoutMs?: number;
  /**
   * cloudflared's behaviour for a token the edge refuses as `Unauthorized` before the first registration: retry
   * forever (the CLI does). Default false: `ready()` / `startTunnel` reject with `UnauthorizedTokenError`
   * (`CFT_ERR_UNAUTHORIZED`) carrying the edge's reason.
   */
  retryUnauthorizedAtStartup?: boolean;
}

/** The local configuration's inputs: what the Tunnel builds its first configuration and in-process origins from. */
export type LocalConfigOptions = Readonly<
  Pick<TunnelOptions, 'origin' | 'url' | 'ingress' | 'originRequest' | 'services' | 'config' | 'configurationFlags'>
>;

/** How the edge is found (docs/protocol.md §2) and how `auto` picks the first protocol (§3.3). */
export interface DiscoverySettings {
  /** `--edge`: static addresses instead of discovery. */
  readonly edge?: readonly string[];
  /** Discovery region: `region`, else the token's endpoint, else the global one. */
  readonly region?: string;
  readonly edgeIpVersion: EdgeIpVersion;
  /** DNS for discovery (an internal hook); the system resolver when absent. */
  readonly resolver?: EdgeResolver;
  readonly dnsOverTls?: DnsOverTlsOptions | false;
  readonly protocolSelector: 'default' | 'remote';
}

/**
 * {@link TunnelOptions} resolved once: validated, the token parsed, defaults applied, the internal hooks
 * (`internal/test-hooks.ts`) folded in, frozen. The Tunnel reads it, and hands its `supervisor` group to the
 * supervisor, which hands the `connection` and `dial` groups on to connections and dials: nothing below copies an
 * option into a type of its own. Never holds the token text (only the parsed credentials, whose secret hides itself).
 */
export interface ResolvedTunnelOptions {
  readonly credentials: TunnelCredentials;
  /** Connector id, reported version and features (`features`, `postQuantum`, the `clientVersion` hook). */
  readonly identity: ConnectorIdentity;
  readonly logger: TunnelLogger;
  readonly local: LocalConfigOptions;
  /** `--tag` pairs as entries, in the order given. */
  readonly tags: ReadonlyArray<readonly [string, string]>;
  readonly discovery: DiscoverySettings;
  readonly protocol: ProtocolOption;
  readonly postQuantum: boolean;
  readonly supervisor: SupervisorSettings;
  readonly gracePeriodMs: number;
  /** Address of the metrics server; none when absent. */
  readonly metricsAddress?: string;
  readonly quickTunnelHostname?: string;
  readonly signal?: AbortSignal;
}

/**
 * Validates `options` and resolves them into {@link ResolvedTunnelOptions}.
 *
 * @throws {TunnelOptionsError} for the first invalid field.
 * @throws {TokenError} for a token that does not parse; `CFT_ERR_CACERT_INVALID` for a `caCert` without a certificate.
 */
export function resolveTunnelOptions(options: TunnelOptions): ResolvedTunnelOptions {
  validateTunnelOptions(options);
  const o = options;
  const hooks = testHooksOf(o);
  const credentials = typeof o.token === 'string' ? parseToken(o.token) : o.token;
  // A bad --cacert never fixes itself: fail now instead of retrying every dial.
  if (o.caCert !== undefined) {
    // A path where the PEM text belongs is the likely mistake (the CLI's --cacert takes a path): say so.
    if (typeof o.caCert === 'string' && !o.caCert.includes('-----BEGIN') && !o.caCert.includes('\n'))
      throw new CaCertError(
        'caCert holds no PEM certificate: it takes the PEM text of the CA bundle, not a file path (pass readFileSync(path))',
      );
    parseCaBundle(o.caCert);
  }
  const postQuantum = o.postQuantum === true;
  return Object.freeze({
    credentials,
    identity: createConnectorIdentity({
      ...(hooks.clientVersion === undefined ? {} : { version: hooks.clientVersion }),
      features: selectFeatures(o.features, postQuantum),
    }),
    logger: o.logger ?? silentLogger,
    local: Object.freeze({
      origin: o.origin,
      url: o.url,
      ingress: o.ingress,
      originRequest: o.originRequest,
      services: o.services,
      config: o.config,
      configurationFlags: o.configurationFlags,
    }),
    tags: Object.freeze(Object.entries(o.tags ?? {})),
    discovery: Object.freeze({
      edge: o.edge === undefined ? undefined : Object.freeze([...o.edge]),
      region: o.region ?? credentials.endpoint,
      edgeIpVersion: o.edgeIpVersion ?? DEFAULT_EDGE_IP_VERSION,
      resolver: hooks.dnsResolver,
      dnsOverTls: o.dnsOverTls,
      protocolSelector: o.protocolSelector ?? 'default',
    }),
    protocol: o.protocol ?? 'auto',
    postQuantum,
    supervisor: Object.freeze({
      haConnections: o.haConnections ?? DEFAULT_HA_CONNECTIONS,
      haSpacingMs: hooks.haSpacingMs ?? HA_CONNECTION_SPACING_MS,
      retries: o.retries ?? DEFAULT_MAX_RETRIES,
      retryUnauthorizedAtStartup: o.retryUnauthorizedAtStartup ?? false,
      connection: Object.freeze({
        rpcTimeoutMs: o.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS,
        http2PingIntervalMs: hooks.http2PingIntervalMs ?? HTTP2_PING_INTERVAL_MS,
      }),
      dial: Object.freeze({
        caCert: o.caCert,
        bindAddress: o.edgeBindAddress,
        quicHandshakeTimeoutMs: hooks.quicHandshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
        quicFlowControl: o.quicFlowControl === undefined ? undefined : Object.freeze({ ...o.quicFlowControl }),
      }),
    }),
    gracePeriodMs: o.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS,
    metricsAddress: o.metrics,
    quickTunnelHostname: o.quickTunnelHostname,
    signal: o.signal,
  });
}
