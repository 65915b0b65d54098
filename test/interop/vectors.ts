/**
 * What the golden vectors (recorded from cloudflared 2023.7.3) say the interop run must reproduce: the tunnel, the
 * three remote configurations and cloudflared's answer to each push, per transport.
 */
import { readFileSync } from 'node:fs';
import { fixturePath } from '../helpers/fixtures.js';
import type { EdgeProtocol } from '../../src/local-edge/index.js';

interface Inputs {
  token: string;
  account_tag: string;
  tunnel_id: string;
  connector: { version: string; arch: string };
  configs: Record<string, { ingress: Array<{ hostname?: string; service: string }> }>;
}

/** The vectors' inputs.json. */
export const inputs = JSON.parse(readFileSync(fixturePath('vectors/inputs.json'), 'utf8')) as Inputs;

/** Features cloudflared 2023.7.3 sent in registerConnection (MANIFEST.md "Fixed inputs"; order varies). */
export const RECORDED_FEATURES = [
  'allow_remote_config',
  'management_logs',
  'serialized_headers',
  'support_datagram_v2',
  'support_quic_eof',
];

/**
 * The exact feature list (sorted) each release checked by the interop suite sends with no `--features` and the
 * remote feature record unreachable (docs/protocol.md §14.3). 2025.5.0 sends the same five strings as 2023.7.3
 * (its `features/features.go` default set; datagram v3 only when selected, which nothing selects here).
 */
export const FEATURES_BY_VERSION: Readonly<Record<string, readonly string[]>> = {
  '2023.7.3': RECORDED_FEATURES,
  '2025.5.0': RECORDED_FEATURES,
};

/** Config 1 (hello_world + 404), 2 (origins, warp-routing on) and 3 (invalid: no catch-all), as recorded. */
export const vectorConfigs = {
  1: inputs.configs['1']!,
  2: inputs.configs['2']!,
  3: inputs.configs['3 (invalid, rejected)']!,
} as const;

/** The origins of config 2 as recorded, to be replaced by this run's loopback origins. */
export const RECORDED_ORIGINS = {
  echo: 'http://127.0.0.1:8002',
  down: 'http://127.0.0.1:9',
  site: 'http://127.0.0.1:8000',
} as const;

/** Config 2 with its origins moved to this run's ports (same rules, same order, same warp-routing). */
export function configV2For(origins: { echo: string; down: string; site: string }): unknown {
  const byRecorded = new Map<string, string>([
    [RECORDED_ORIGINS.echo, origins.echo],
    [RECORDED_ORIGINS.down, origins.down],
    [RECORDED_ORIGINS.site, origins.site],
  ]);
  const v2 = vectorConfigs[2];
  return {
    ...v2,
    ingress: v2.ingress.map((rule) => ({ ...rule, service: byRecorded.get(rule.service) ?? rule.service })),
  };
}

/** cloudflared's answer to a push, in the shape of the local edge's `ConfigPushResult`. */
export interface ConfigAnswer {
  latestAppliedVersion: number;
  err: string | null;
}

const SCENARIO = { 1: 'config-v1', 2: 'config-v2', 3: 'config-invalid' } as const;

/**
 * The recorded answer to push `version`. QUIC: the UpdateConfigurationResults as decoded in the vector's text
 * (the return of the connector's rpc stream, message 1). HTTP/2: the JSON response body, whose `err` the local edge
 * reports as JSON text (Go marshals an error value as `{}`).
 */
export function recordedAnswer(protocol: EdgeProtocol, version: 1 | 2 | 3): ConfigAnswer {
  const dir = `vectors/${protocol}/${SCENARIO[version]}`;
  if (protocol === 'http2') {
    const body = JSON.parse(readFileSync(fixturePath(`${dir}/update-configuration-c2e.body.bin`), 'utf8')) as {
      lastAppliedVersion: number;
      err: unknown;
    };
    return { latestAppliedVersion: body.lastAppliedVersion, err: body.err === null ? null : JSON.stringify(body.err) };
  }
  const text = readFileSync(fixturePath(`${dir}/rpc-c2e.1.txt`), 'utf8');
  const decoded = text.slice(text.indexOf('re-rooted'));
  const applied = /latestAppliedVersion = (\d+)/.exec(decoded);
  if (applied === null) throw new Error(`no latestAppliedVersion in ${dir}/rpc-c2e.1.txt`);
  const err = /err = ("(?:[^"\\]|\\.)*")/.exec(decoded);
  return { latestAppliedVersion: Number(applied[1]), err: err === null ? null : (JSON.parse(err[1]!) as string) };
}
