/** Valid inputs for the fuzzers, all from the golden vectors (real cloudflared / reference edge bytes). */
import { readFileSync, readdirSync } from 'node:fs';
import { fixturePath } from '../helpers/fixtures.js';

const DATA_SCENARIOS = [
  'get',
  'get-dup-header',
  'not-found',
  'origin-down-502',
  'post-content-length',
  'put-chunked',
  'set-cookie',
  'status-418',
  'tcp',
  'websocket',
];
const CONFIG_SCENARIOS = ['config-v1', 'config-v2', 'config-invalid'];
/** Length of the RPC stream signature the connector consumes before the RPC connection sees the stream (§7.1). */
const RPC_SIGNATURE_LENGTH = 6;

function vector(path: string): Buffer {
  return readFileSync(fixturePath(`vectors/${path}`));
}

function numbered(dir: string, prefix: string): Buffer[] {
  return readdirSync(fixturePath(`vectors/${dir}`))
    .filter((f) => f.startsWith(prefix) && /\.\d+\.bin$/.test(f))
    .map((f) => vector(`${dir}/${f}`));
}

/** Whole edge→connector QUIC data streams: preamble, ConnectRequest, then body bytes. */
export function dataStreamSeeds(): Buffer[] {
  return DATA_SCENARIOS.map((s) => vector(`quic/${s}/data-e2c.stream.bin`));
}

/** Single ConnectRequest frames (edge→connector). */
export function connectRequestSeeds(): Buffer[] {
  return DATA_SCENARIOS.map((s) => vector(`quic/${s}/data-e2c.0.bin`));
}

/** Single ConnectResponse frames (connector→edge). */
export function connectResponseSeeds(): Buffer[] {
  return DATA_SCENARIOS.map((s) => vector(`quic/${s}/data-c2e.0.bin`));
}

/** Edge→connector RPC stream contents (signature removed) and their single frames, plus the connector's own calls. */
export function rpcServerSeeds(): Buffer[] {
  const out: Buffer[] = [];
  for (const s of CONFIG_SCENARIOS) {
    out.push(
      vector(`quic/${s}/rpc-e2c.stream.bin`).subarray(RPC_SIGNATURE_LENGTH),
      ...numbered(`quic/${s}`, 'rpc-e2c'),
    );
  }
  // The connector's registration calls target an interface CloudflaredServer does not implement.
  out.push(vector('quic/control/control-c2e.stream.bin'));
  return out;
}

/** Edge→connector control-stream bytes: Returns for the connector's bootstrap and registerConnection. */
export function rpcClientSeeds(): Buffer[] {
  return [
    vector('quic/control/control-e2c.stream.bin'),
    ...numbered('quic/control', 'control-e2c'),
    ...numbered('quic-ha4/conn1', 'control-e2c'),
  ];
}

/** `Cf-Cloudflared-Response-Headers` values cloudflared sent over HTTP/2. */
export function serializedHeaderSeeds(): string[] {
  const out: string[] = [];
  for (const s of ['get', 'get-dup-header', 'not-found', 'set-cookie', 'post-content-length']) {
    const doc = JSON.parse(vector(`http2/${s}/http-c2e.headers.json`).toString('utf8')) as {
      header_blocks: Array<{ fields: Array<[string, string]> }>;
    };
    for (const block of doc.header_blocks) {
      for (const [name, value] of block.fields) if (name === 'cf-cloudflared-response-headers') out.push(value);
    }
  }
  return out;
}
