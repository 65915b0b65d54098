/**
 * Flags of `cftunnel tunnel run` (docs/protocol.md §16): the ones cftunnel implements, the ones it accepts because they
 * have no effect on a token-run connector, and the rest, which it refuses with a reason.
 */
import type { FlagSpec, UnsupportedFlagSpec } from './flags.js';
import { ORIGIN_FLAG_SPECS } from './origin-flags.js';

const NEVER_UPDATES = 'Accepted for compatibility: cftunnel never updates itself.';
const NAMED_TUNNEL_NO_EFFECT = 'Accepted for compatibility: no effect on named tunnels.';

/** cloudflared flags that change nothing for a token-run connector (§16), accepted so command lines keep working. */
const NO_EFFECT_FLAG_SPECS: readonly FlagSpec[] = [
  { name: 'no-autoupdate', env: ['NO_AUTOUPDATE'], type: 'boolean', description: NEVER_UPDATES },
  { name: 'autoupdate-freq', type: 'string', placeholder: 'DURATION', description: NEVER_UPDATES },
  {
    name: 'no-prechecks',
    env: ['TUNNEL_NO_PRECHECKS'],
    type: 'boolean',
    description: 'Accepted for compatibility: cftunnel runs no connectivity pre-checks.',
  },
  {
    name: 'metrics-update-freq',
    env: ['TUNNEL_METRICS_UPDATE_FREQ'],
    type: 'string',
    placeholder: 'DURATION',
    description: 'Accepted for compatibility: no effect in cloudflared either.',
  },
  {
    name: 'compression-quality',
    env: ['TUNNEL_COMPRESSION_LEVEL'],
    type: 'string',
    placeholder: 'N',
    description: NAMED_TUNNEL_NO_EFFECT,
  },
  {
    name: 'use-reconnect-token',
    env: ['TUNNEL_USE_RECONNECT_TOKEN'],
    type: 'boolean',
    description: NAMED_TUNNEL_NO_EFFECT,
  },
  { name: 'heartbeat-interval', type: 'string', placeholder: 'DURATION', description: NAMED_TUNNEL_NO_EFFECT },
  { name: 'heartbeat-count', type: 'string', placeholder: 'N', description: NAMED_TUNNEL_NO_EFFECT },
  { name: 'is-autoupdated', type: 'boolean', description: 'Accepted for compatibility: no effect.' },
];

/** Flags implemented by `tunnel run`. Names and environment variables are cloudflared's (§16). */
export const RUN_FLAGS: readonly FlagSpec[] = [
  {
    name: 'token',
    env: ['TUNNEL_TOKEN'],
    type: 'string',
    placeholder: 'TOKEN',
    description: 'Tunnel token (used verbatim; never logged).',
  },
  {
    name: 'token-file',
    env: ['TUNNEL_TOKEN_FILE'],
    type: 'string',
    placeholder: 'FILE',
    description: 'File holding the tunnel token (surrounding whitespace trimmed). Only used when no --token is set.',
  },
  {
    name: 'url',
    env: ['TUNNEL_URL'],
    type: 'string',
    placeholder: 'URL',
    description:
      'Origin for every request until a remote configuration arrives; without a scheme http:// is assumed (localhost:8080).',
  },
  {
    name: 'edge',
    env: ['TUNNEL_EDGE'],
    type: 'string',
    repeatable: true,
    commaList: true,
    placeholder: 'HOST:PORT',
    description:
      'Static edge address; repeat or comma-separate. One connection per address. Without it the edge is discovered through DNS.',
  },
  {
    name: 'region',
    env: ['TUNNEL_REGION'],
    type: 'string',
    placeholder: 'REGION',
    description: "Edge region for discovery, e.g. us (default: the token's, else global).",
  },
  {
    name: 'edge-ip-version',
    env: ['TUNNEL_EDGE_IP_VERSION'],
    type: 'string',
    placeholder: 'VERSION',
    defaultText: 'auto',
    description: 'Edge address family for discovery: 4, 6 or auto (system preference, the other family as fallback).',
  },
  {
    name: 'cacert',
    env: ['TUNNEL_CACERT'],
    type: 'string',
    placeholder: 'FILE',
    description: 'PEM bundle that replaces the edge trust anchors.',
  },
  {
    name: 'protocol',
    aliases: ['p'],
    env: ['TUNNEL_TRANSPORT_PROTOCOL'],
    type: 'string',
    placeholder: 'PROTO',
    defaultText: 'auto',
    description:
      'auto (QUIC; HTTP/2 at once when UDP to the edge looks blocked, back to QUIC once it works), quic (QUIC only, retried), http2 (h2mux is mapped to http2).',
  },
  {
    name: 'post-quantum',
    aliases: ['pq'],
    env: ['TUNNEL_POST_QUANTUM'],
    type: 'boolean',
    description:
      'Strict post-quantum key agreement (X25519MLKEM768 only). Runs on HTTP/2; fails when this Node lacks the group.',
  },
  {
    name: 'ha-connections',
    type: 'string',
    placeholder: 'N',
    defaultText: '4',
    description: 'Number of connections to the edge.',
  },
  {
    name: 'retries',
    env: ['TUNNEL_RETRIES'],
    type: 'string',
    placeholder: 'N',
    defaultText: '5',
    description: 'Backoff exponent cap and protocol fallback trigger (retrying never stops).',
  },
  {
    name: 'grace-period',
    env: ['TUNNEL_GRACE_PERIOD'],
    type: 'string',
    placeholder: 'DURATION',
    defaultText: '30s',
    description:
      'How long in-flight requests may finish after the first SIGINT/SIGTERM (Go syntax: 30s, 1m30s; at most 3m).',
  },
  {
    name: 'edge-bind-address',
    env: ['TUNNEL_EDGE_BIND_ADDRESS'],
    type: 'string',
    placeholder: 'IP',
    description: 'Local IP address to dial the edge from.',
  },
  {
    name: 'loglevel',
    env: ['TUNNEL_LOGLEVEL'],
    type: 'string',
    placeholder: 'LEVEL',
    defaultText: 'info',
    description:
      'debug, info, warn, error or fatal. At debug each proxied request is logged with its URL and all its headers, which can expose sensitive information.',
  },
  {
    name: 'logfile',
    env: ['TUNNEL_LOGFILE'],
    type: 'string',
    placeholder: 'FILE',
    description: 'Also append JSON log lines to this file.',
  },
  {
    name: 'output',
    env: ['TUNNEL_MANAGEMENT_OUTPUT', 'TUNNEL_LOG_OUTPUT'],
    type: 'string',
    placeholder: 'FORMAT',
    defaultText: 'default',
    description: 'Log format on stderr: default (console lines, also on a pipe) or json (one object per line).',
  },
  {
    name: 'metrics',
    env: ['TUNNEL_METRICS'],
    type: 'string',
    placeholder: 'ADDR',
    defaultText: 'localhost:0',
    description:
      'Metrics and readiness server (/metrics, /ready, /healthcheck). The default tries 127.0.0.1:20241-20245, then a random port.',
  },
  {
    name: 'config',
    type: 'string',
    placeholder: 'FILE',
    description:
      "YAML configuration file (cloudflared's keys): its keys are defaults for flags; flags and environment variables win.",
  },
  {
    name: 'tag',
    env: ['TUNNEL_TAG'],
    type: 'string',
    repeatable: true,
    commaList: true,
    placeholder: 'NAME=VALUE',
    description: 'Tag sent to the origin as a Cf-Warp-Tag-NAME request header; repeat or comma-separate.',
  },
  {
    name: 'features',
    aliases: ['F'],
    type: 'string',
    repeatable: true,
    commaList: true,
    placeholder: 'NAME',
    description:
      'Extra feature string sent at registration; repeat or comma-separate. support_datagram_v3_2 selects datagram v3.',
  },
  {
    name: 'rpc-timeout',
    type: 'string',
    placeholder: 'DURATION',
    defaultText: '5s',
    description:
      'Bound on registration and the other RPCs with the edge, and on serving an RPC stream the edge opened.',
  },
  {
    name: 'quic-connection-level-flow-control-limit',
    env: ['TUNNEL_QUIC_CONN_LEVEL_FLOW_CONTROL_LIMIT'],
    type: 'string',
    placeholder: 'BYTES',
    defaultText: '31457280',
    description:
      'Largest QUIC connection receive window (window auto-tuning cap; this QUIC library caps it at 24 MiB).',
  },
  {
    name: 'quic-stream-level-flow-control-limit',
    env: ['TUNNEL_QUIC_STREAM_LEVEL_FLOW_CONTROL_LIMIT'],
    type: 'string',
    placeholder: 'BYTES',
    defaultText: '6291456',
    description: 'Largest QUIC stream receive window (window auto-tuning cap).',
  },
  {
    name: 'client-version',
    env: ['CFTUNNEL_CLIENT_VERSION'],
    type: 'string',
    placeholder: 'VERSION',
    description: 'cloudflared version reported to the edge at registration (default: the release cftunnel follows).',
  },
  {
    name: 'pidfile',
    env: ['TUNNEL_PIDFILE'],
    type: 'string',
    placeholder: 'FILE',
    description: 'Write the process id to this file after the first connection registered.',
  },
  ...ORIGIN_FLAG_SPECS,
  ...NO_EFFECT_FLAG_SPECS,
];

/** Flags accepted only so that cloudflared command lines keep working; each is logged at debug when set. */
export const NO_EFFECT_FLAGS: ReadonlySet<string> = new Set(NO_EFFECT_FLAG_SPECS.map((f) => f.name));

/** cloudflared flags (§16) that cftunnel refuses, each with the reason shown to the user. */
export const UNSUPPORTED_RUN_FLAGS: readonly UnsupportedFlagSpec[] = [
  {
    name: 'credentials-file',
    aliases: ['cred-file'],
    env: ['TUNNEL_CRED_FILE'],
    type: 'string',
    reason: 'only token runs are supported; use --token',
  },
  {
    name: 'credentials-contents',
    env: ['TUNNEL_CRED_CONTENTS'],
    type: 'string',
    reason: 'only token runs are supported; use --token',
  },
  {
    name: 'origincert',
    env: ['TUNNEL_ORIGIN_CERT'],
    type: 'string',
    reason: 'only token runs are supported; use --token',
  },
  { name: 'max-edge-addr-retries', type: 'string', reason: 'fixed at 8 (the connector has no option for it)' },
  { name: 'write-stream-timeout', env: ['TUNNEL_STREAM_WRITE_TIMEOUT'], type: 'string', reason: 'not implemented' },
  {
    name: 'quic-disable-pmtu-discovery',
    env: ['TUNNEL_DISABLE_QUIC_PMTU'],
    type: 'boolean',
    reason: 'the QUIC library has no path-MTU discovery to disable',
  },
  { name: 'dial-edge-timeout', env: ['DIAL_EDGE_TIMEOUT'], type: 'string', reason: 'not implemented' },
  { name: 'label', type: 'string', reason: 'the management service is not implemented' },
  {
    name: 'transport-loglevel',
    aliases: ['proto-loglevel'],
    env: ['TUNNEL_PROTO_LOGLEVEL', 'TUNNEL_TRANSPORT_LOGLEVEL'],
    type: 'string',
    reason: 'there is one log level; use --loglevel',
  },
  {
    name: 'log-directory',
    env: ['TUNNEL_LOGDIRECTORY'],
    type: 'string',
    reason: 'rotating log files are not implemented; use --logfile',
  },
  {
    name: 'trace-output',
    env: ['TUNNEL_TRACE_OUTPUT'],
    type: 'string',
    reason: 'Go runtime traces do not exist in Node.js',
  },
  {
    name: 'management-diagnostics',
    env: ['TUNNEL_MANAGEMENT_DIAGNOSTICS'],
    type: 'boolean',
    reason: 'the management service is not implemented',
  },
  {
    name: 'management-hostname',
    env: ['TUNNEL_MANAGEMENT_HOSTNAME'],
    type: 'string',
    reason: 'the management service is not implemented',
  },
  { name: 'service-op-ip', env: ['TUNNEL_SERVICE_OP_IP'], type: 'string', reason: 'not implemented' },
  {
    name: 'max-active-flows',
    env: ['TUNNEL_MAX_ACTIVE_FLOWS'],
    type: 'string',
    reason: 'private-network flow limits are not implemented',
  },
  {
    name: 'dns-resolver-addrs',
    env: ['TUNNEL_DNS_RESOLVER_ADDRS'],
    type: 'string',
    reason: 'the virtual DNS service is not implemented',
  },
  { name: 'icmpv4-src', env: ['TUNNEL_ICMPV4_SRC'], type: 'string', reason: 'ICMP proxying is not implemented' },
  { name: 'icmpv6-src', env: ['TUNNEL_ICMPV6_SRC'], type: 'string', reason: 'ICMP proxying is not implemented' },
  {
    name: 'stdin-control',
    env: ['STDIN_CONTROL'],
    type: 'boolean',
    reason: 'stdin control commands are not implemented',
  },
  {
    name: 'socks5',
    env: ['TUNNEL_SOCKS'],
    type: 'boolean',
    reason: 'the SOCKS5 proxy service (proxyType socks) is not implemented',
  },
];
