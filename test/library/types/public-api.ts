/**
 * Compile-time checks of the public types, compiled by test/library/types.test.ts (and by `npm run typecheck`).
 * Each `@ts-expect-error` line must fail to compile: if a type loosens, the directive goes unused and tsc fails.
 * Never executed.
 */
import { pino } from 'pino';
import {
  startTunnel,
  Tunnel,
  type ConfigurationEvent,
  type OriginRequestOptions,
  type TunnelLogger,
  type TunnelOptions,
} from '../../../src/index.js';
import type { OriginRequestConfig } from '../../../src/ingress/origin-request.js';

declare const token: string;

// Every cloudflared option (docs/protocol.md §10.5) is typed: the same keys as the resolved configuration.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameKeys: Same<keyof OriginRequestOptions, keyof OriginRequestConfig> = true;
void sameKeys;

export const everyOption: OriginRequestOptions = {
  connectTimeout: 30,
  tlsTimeout: 10,
  tcpKeepAlive: 30,
  noHappyEyeballs: false,
  keepAliveConnections: 100,
  keepAliveTimeout: 90,
  httpHostHeader: 'internal.example',
  originServerName: 'origin.example',
  matchSNItoHost: false,
  caPool: '/etc/ssl/origin-ca.pem',
  noTLSVerify: true,
  disableChunkedEncoding: false,
  bastionMode: false,
  proxyAddress: '127.0.0.1',
  proxyPort: 0,
  proxyType: '',
  ipRules: [{ prefix: '10.0.0.0/8', ports: [80, 443], allow: true }],
  http2Origin: true,
  access: { required: true, teamName: 'team', audTag: ['aud'], environment: '' },
};

export const typos: TunnelOptions[] = [
  // @ts-expect-error cloudflared spells it noTLSVerify
  { token, url: 'https://localhost:8443', originRequest: { noTlsVerify: true } },
  // @ts-expect-error durations are whole seconds (the JSON form), not Go duration text
  { token, originRequest: { connectTimeout: '30s' } },
  // @ts-expect-error httpHostHeader, not hostHeader
  { token, ingress: [{ service: 'http://localhost:8080', originRequest: { hostHeader: 'x' } }] },
  // @ts-expect-error proxyType is '' or 'socks'
  { token, originRequest: { proxyType: 'sock' } },
  // @ts-expect-error access.teamName, not access.team
  { token, originRequest: { access: { required: true, team: 'x' } } },
  // @ts-expect-error an ipRules entry needs its prefix
  { token, originRequest: { ipRules: [{ allow: true }] } },
  // @ts-expect-error an ingress rule needs a service
  { token, ingress: [{ hostname: 'app.example.com' }] },
];

// Any logger with pino's level methods: pino itself, console, a hand-written object.
const custom: TunnelLogger = { debug() {}, info() {}, warn() {}, error() {} };
export const loggers: TunnelOptions[] = [
  { token, logger: pino() },
  { token, logger: console },
  { token, logger: custom },
];
// @ts-expect-error a logger without warn() does not fit
export const noWarn: TunnelOptions = { token, logger: { debug() {}, info() {}, error() {} } };

export async function configured(): Promise<readonly string[]> {
  const tunnel = await startTunnel({ token, url: 'http://localhost:8080' });
  tunnel.on('configuration', (event: ConfigurationEvent) => void event.hostnames.includes('app.example.com'));
  const first = await tunnel.configured();
  const version: number = first.version;
  void version;
  // @ts-expect-error hostnames are read-only
  first.hostnames.push('x');
  return first.hostnames;
}
export { Tunnel };
