/**
 * Configuration hot swap under load (docs/protocol.md §9.3): 200 requests in flight on v1's origin while v2 is pushed;
 * none fails, each completes on the origin it was routed to, new requests use v2, and v1's origin pool is closed once
 * its requests finished. Also: a YAML config file routes exactly like the equivalent remote configuration.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { localConfigurationJson, parseConfigFile } from '../../src/orchestration/local-config.js';
import { startTunnelEnv, type TunnelEnv } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';

const IN_FLIGHT = 200;

interface NamedOrigin {
  url: string;
  server: http.Server;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

async function namedOrigin(name: string, hold?: (res: http.ServerResponse) => void): Promise<NamedOrigin> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const answer = (): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ origin: name, host: req.headers.host, url: req.url }));
    };
    req.resume();
    if (hold) hold(Object.assign(res, { answer }) as http.ServerResponse);
    else answer();
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    sockets,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function origin(body: Buffer): string {
  return (JSON.parse(body.toString()) as { origin: string }).origin;
}

for (const protocol of ['quic', 'http2'] as const) {
  describe(`${protocol}: configuration swaps`, () => {
    let env: TunnelEnv;
    let held: Array<http.ServerResponse & { answer(): void }> = [];
    let allHeld: () => void = () => undefined;
    let a: NamedOrigin;
    let b: NamedOrigin;

    before(async () => {
      a = await namedOrigin('A', (res) => {
        held.push(res as http.ServerResponse & { answer(): void });
        if (held.length === IN_FLIGHT) allHeld();
      });
      b = await namedOrigin('B');
      env = await startTunnelEnv({ protocol, haConnections: 2 });
    });

    after(async () => {
      await env.close();
      await a.close();
      await b.close();
    });

    test(
      `${IN_FLIGHT} requests in flight on v1 while v2 is pushed: all complete on v1's origin`,
      { timeout: 60_000 },
      async () => {
        const v1 = { ingress: [{ hostname: 'swap.test', service: a.url }, { service: 'http_status:404' }] };
        const v2 = { ingress: [{ hostname: 'swap.test', service: b.url }, { service: 'http_status:404' }] };
        assert.deepEqual(
          (await env.edge.pushConfig(1, v1)).map((r) => r.latestAppliedVersion),
          [1, 1],
        );

        const reachedOrigin = new Promise<void>((resolve) => (allHeld = resolve));
        const requests = Array.from({ length: IN_FLIGHT }, (_, i) =>
          visit(env.edge.visitorUrl, { host: 'swap.test', path: `/r${i}` }),
        );
        await reachedOrigin;
        assert.equal(held.length, IN_FLIGHT);

        assert.deepEqual(
          (await env.edge.pushConfig(2, v2)).map((r) => [r.latestAppliedVersion, r.err || null]),
          [
            [2, null],
            [2, null],
          ],
        );
        const after = await visit(env.edge.visitorUrl, { host: 'swap.test', path: '/new' });
        assert.equal(origin(after.body), 'B', 'requests after the swap use v2');
        assert.ok(a.sockets.size > 0, "v1's origin connections are still open while its requests are in flight");

        const aClosed = Promise.all([...a.sockets].map((s) => once(s, 'close')));
        for (const res of held) res.answer();
        const results = await Promise.all(requests);
        assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
        assert.deepEqual(
          new Set(results.map((r) => origin(r.body))),
          new Set(['A']),
          'every in-flight request finished on v1',
        );
        // The retired service closes its pool once the last of its requests completed.
        await aClosed;
        assert.equal(a.sockets.size, 0);
        held = [];
      },
    );

    test('a YAML config file routes exactly like the equivalent remote configuration', async () => {
      const json = {
        ingress: [
          { hostname: 'app.test', service: a.url, originRequest: { httpHostHeader: 'internal.app' } },
          { hostname: '*.static.test', path: '^/assets/', service: b.url },
          { hostname: 'teapot.test', service: 'http_status:418' },
          { service: 'http_status:404' },
        ],
      };
      const yaml = `
ingress:
  - hostname: app.test
    service: ${a.url}
    originRequest:
      httpHostHeader: internal.app
  - hostname: "*.static.test"
    path: ^/assets/
    service: ${b.url}
  - hostname: teapot.test
    service: http_status:418
  - service: http_status:404
`;
      // A's requests are answered immediately from here on.
      a.server.removeAllListeners('request');
      a.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ origin: 'A', host: req.headers.host, url: req.url }));
      });
      const table: Array<[string, string]> = [
        ['app.test', '/x?q=1'],
        ['a.static.test', '/assets/app.js'],
        ['a.static.test', '/other'],
        ['teapot.test', '/'],
        ['unknown.test', '/'],
      ];
      const run = async (): Promise<unknown[]> =>
        Promise.all(
          table.map(async ([host, path]) => {
            const res = await visit(env.edge.visitorUrl, { host, path });
            return [res.status, res.body.toString()];
          }),
        );
      assert.deepEqual(
        (await env.edge.pushConfig(3, json)).map((r) => r.latestAppliedVersion),
        [3, 3],
      );
      const fromJson = await run();
      const file = parseConfigFile(yaml, 'config.yml');
      assert.deepEqual(
        (await env.edge.pushConfig(4, localConfigurationJson(file.config).toString())).map(
          (r) => r.latestAppliedVersion,
        ),
        [4, 4],
      );
      const fromYaml = await run();
      assert.deepEqual(fromYaml, fromJson);
      assert.deepEqual(
        fromJson.map((r) => (r as [number, string])[0]),
        [200, 200, 404, 418, 404],
      );
      assert.match((fromJson[0] as [number, string])[1], /"host":"internal\.app"/);
    });
  });
}
