/**
 * Replays the recorded QUIC config-push RPC streams (docs/protocol.md §7.5, §9): the reference edge's e2c bytes into our
 * CloudflaredServer, and real cloudflared's c2e answers into our edge-side CloudflaredClient.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as rpc from 'capnp-es/capnp/rpc';
import { RpcAbortedError } from '../../src/rpc/errors.js';
import type { UpdateConfigurationResult } from '../../src/rpc/tunnel/codec.js';
import { CloudflaredClient } from '../../src/rpc/tunnel/cloudflared-client.js';
import { serveCloudflared } from '../../src/rpc/tunnel/cloudflared-server.js';
import { describe, parse, splitFrames, vector } from './describe.js';
import { frameQueue, socketPair } from './net-helper.js';

/** Prefix the edge writes on RPC streams (docs/protocol.md §7.5). */
const RPC_SIGNATURE = Buffer.from([0x52, 0xbb, 0x82, 0x5c, 0xdb, 0x65]);
const inputs = JSON.parse(vector('inputs.json').toString('utf8')) as { configs: Record<string, unknown> };

function recordedCall(frame: Buffer): { version: number; config: string } {
  return describe(parse(frame), 'updateConfigParams').content as { version: number; config: string };
}

function recordedResult(frame: Buffer): UpdateConfigurationResult {
  const { latestAppliedVersion, err } = describe(parse(frame), 'updateConfigResults')
    .content as UpdateConfigurationResult;
  return { latestAppliedVersion, err };
}

for (const scenario of ['config-v1', 'config-v2', 'config-invalid']) {
  const dir = `quic/${scenario}`;
  const e2cStream = vector(`${dir}/rpc-e2c.stream.bin`);
  const e2c = splitFrames(e2cStream, RPC_SIGNATURE.length);
  const c2e = splitFrames(vector(`${dir}/rpc-c2e.stream.bin`));

  test(`${dir}: the recorded push into our CloudflaredServer delivers version/config and answers like cloudflared`, async () => {
    assert.ok(e2cStream.subarray(0, 6).equals(RPC_SIGNATURE));
    const s = await socketPair();
    const seen: { version: number; config: Buffer }[] = [];
    const server = serveCloudflared(s.b, {
      updateConfiguration: async (version, config) => (seen.push({ version, config }), recordedResult(c2e[1]!)),
    });
    const edge = frameQueue(s.a);
    try {
      s.a.write(Buffer.concat([e2c[0]!, e2c[1]!]));
      assert.deepEqual(describe(await edge.next(), 'cap'), describe(parse(c2e[0]!), 'cap'));
      assert.deepEqual(
        describe(await edge.next(), 'updateConfigResults'),
        describe(parse(c2e[1]!), 'updateConfigResults'),
      );
      assert.equal(seen.length, 1);
      const { version } = recordedCall(e2c[1]!);
      assert.equal(seen[0]!.version, version);
      // inputs.json keys the configs by version, the invalid one as "3 (invalid, rejected)".
      const key = Object.keys(inputs.configs).find((k) => Number.parseInt(k, 10) === version)!;
      assert.deepEqual(JSON.parse(seen[0]!.config.toString('utf8')), inputs.configs[key]);
      // Finish(0), Finish(1), optional Release, Abort + FIN: the connector ends its side without an Abort of its own.
      const ended = once(s.a, 'end');
      s.a.end(Buffer.concat(e2c.slice(2)));
      assert.ok((await server.closed) instanceof RpcAbortedError);
      await ended;
      assert.equal(edge.pending, 0);
    } finally {
      s.close();
    }
  });

  test(`${dir}: our CloudflaredClient sends the reference edge's messages and decodes cloudflared's answer`, async () => {
    const s = await socketPair();
    const client = new CloudflaredClient(s.a);
    const connector = frameQueue(s.b);
    try {
      const { version, config } = recordedCall(e2c[1]!);
      const pushing = client.updateConfiguration(version, Buffer.from(config, 'utf8'));
      assert.deepEqual(describe(await connector.next()), describe(parse(e2c[0]!)));
      assert.deepEqual(
        describe(await connector.next(), 'updateConfigParams'),
        describe(parse(e2c[1]!), 'updateConfigParams'),
      );
      s.b.write(Buffer.concat(c2e));
      const result = await pushing;
      assert.deepEqual(result, recordedResult(c2e[1]!));
      if (scenario === 'config-invalid') assert.equal(result.latestAppliedVersion, 2);
      else assert.equal(result.err, null);
      assert.deepEqual(describe(await connector.next()), describe(parse(e2c[2]!)));
      assert.deepEqual(describe(await connector.next()), describe(parse(e2c[3]!)));
      const ended = once(s.b, 'end');
      await client.close();
      await ended;
      const rest: Record<string, unknown>[] = [];
      while (connector.pending > 0) rest.push(describe(await connector.next()));
      const noRelease = (l: Record<string, unknown>[]) => l.filter((m) => !('release' in m));
      assert.deepEqual(noRelease(rest), noRelease(e2c.slice(4).map((f) => describe(parse(f)))));
      assert.deepEqual(rest[0], { release: 0, referenceCount: 1 });
      assert.equal(parse(e2c.at(-1)!).which(), rpc.Message.ABORT);
    } finally {
      s.close();
    }
  });
}
