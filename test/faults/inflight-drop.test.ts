/**
 * A tunnel connection dies while visitor requests are in flight on it (issue 9). Whether the edge drops it or the
 * connector's side of the path dies, every visitor must get an outcome (an error status, or a reset / truncated
 * response), the connector must tear down its origin requests, and new requests must succeed once the connector
 * has reconnected. Every wait after the fault runs against a hang guard that names what never happened.
 *
 * Visitors use keep-alive connections, like browsers: an edge that ends a cut-off response as if it were complete
 * leaves a Content-Length visitor waiting for the rest, and hands a chunked visitor a short body as a whole one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { LocalEdge } from '../../src/local-edge/index.js';
import { Tunnel } from '../../src/tunnel.js';
import type { RequestSummary } from '../../src/observability/request-observer.js';
import { makeToken, startOrigin, startTunnelEnv, type TunnelEnv } from '../helpers/tunnel-env.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { startUdpRelay, type UdpRelay } from '../helpers/udp-relay.js';
import { visit } from '../helpers/visitor.js';
import { nextEvents } from './events.js';
import { withTestHooks } from '../../src/internal/test-hooks.js';

const HELD = ['hold', 'sized', 'chunked', 'upload', 'ws'] as const;
type Held = (typeof HELD)[number];

function signals(): Map<Held, { promise: Promise<void>; resolve: () => void }> {
  return new Map(
    HELD.map((name) => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      return [name, { promise, resolve }];
    }),
  );
}

/**
 * An origin that answers `/ok` and holds everything else: `/hold` never answers, `/sized` and `/chunked` send their
 * headers and a first chunk, `/upload` reads the first chunk of the body, `/ws` echoes one WebSocket message.
 * `reached()` resolves once all of them are in their held state, `tornDown(name)` once the connector closed that one.
 */
async function startHoldingOrigin() {
  const wss = new WebSocketServer({ noServer: true });
  const reached = signals();
  const tornDown = signals();
  const track = (name: Held, closable: { once(event: 'close', fn: () => void): unknown }): (() => void) => {
    closable.once('close', () => tornDown.get(name)!.resolve());
    return reached.get(name)!.resolve;
  };
  const origin = await startOrigin((req, res) => {
    switch (req.url) {
      case '/ok':
        return void res.end('ok');
      case '/hold':
        return void track('hold', res)();
      case '/sized':
        // Declares more than it sends: a visitor cut off mid-body must see the connection end, not wait for the rest.
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000000' });
        res.write('first');
        return void track('sized', res)();
      case '/chunked':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first');
        return void track('chunked', res)();
      case '/upload': {
        const reach = track('upload', res);
        return void req.once('data', () => reach());
      }
      default:
        res.writeHead(404).end();
    }
  });
  origin.server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      const reach = track('ws', socket);
      ws.on('message', (data) => {
        ws.send(`echo:${data.toString()}`);
        reach();
      });
    }),
  );
  return {
    url: origin.url,
    reached: () => Promise.all([...reached.values()].map((s) => s.promise)),
    tornDown: (name: Held) => tornDown.get(name)!.promise,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await origin.close();
    },
  };
}

/** What a visitor saw in the end. */
type Outcome = { status: number } | { reset: string } | { truncated: true } | { wsClose: number };

/**
 * A plain HTTP/1.1 visitor on a keep-alive connection, like a browser's (an edge that ends a response early without
 * closing the connection leaves it waiting for the rest); `upload` sends a first chunk of a body that never ends.
 */
function visitor(baseUrl: string, path: string, options: { upload?: boolean } = {}) {
  const agent = new http.Agent({ keepAlive: true });
  const url = new URL(path, baseUrl);
  const req = http.request({
    host: url.hostname,
    port: url.port,
    path,
    method: options.upload ? 'POST' : 'GET',
    headers: { host: 'app.test', ...(options.upload ? { 'transfer-encoding': 'chunked' } : {}) },
    agent,
  });
  let gotFirstChunk!: () => void;
  const firstChunk = new Promise<void>((resolve) => (gotFirstChunk = resolve));
  const outcome = new Promise<Outcome>((resolve) => {
    req.once('error', (err) => resolve({ reset: err.message }));
    req.once('response', (res) => {
      res.on('error', () => undefined);
      res.once('data', () => gotFirstChunk());
      // A response cut short must not look complete (a chunked body without its last chunk, or fewer bytes than
      // Content-Length followed by the connection closing).
      res.once('close', () => resolve(res.complete ? { status: res.statusCode ?? 0 } : { truncated: true }));
      res.resume();
    });
  });
  if (options.upload) req.write('part one of a body that never ends');
  else req.end();
  return { req, agent, firstChunk, outcome };
}

/** Starts the in-flight visitors and waits until each is in its held state at the origin. */
async function startInFlight(edgeUrl: string, origin: Awaited<ReturnType<typeof startHoldingOrigin>>) {
  const pending = visitor(edgeUrl, '/hold');
  const sized = visitor(edgeUrl, '/sized');
  const chunked = visitor(edgeUrl, '/chunked');
  const uploading = visitor(edgeUrl, '/upload', { upload: true });
  const ws = new WebSocket(`${edgeUrl.replace('http', 'ws')}/ws`, { headers: { host: 'ws.test' } });
  ws.on('error', () => undefined);
  const wsClosed = once(ws, 'close').then(([code]) => ({ wsClose: code as number }));
  await once(ws, 'open');
  ws.send('hello');
  const [echo] = (await once(ws, 'message')) as [Buffer];
  assert.equal(echo.toString(), 'echo:hello');
  await origin.reached();
  // The streaming visitors already hold their response headers and the first body chunk.
  await Promise.all([sized.firstChunk, chunked.firstChunk]);
  const http1 = [pending, sized, chunked, uploading];
  return {
    outcomes: {
      pending: pending.outcome,
      sized: sized.outcome,
      chunked: chunked.outcome,
      uploading: uploading.outcome,
      ws: wsClosed,
    },
    destroy() {
      for (const v of http1) {
        v.req.destroy();
        v.agent.destroy();
      }
      ws.terminate();
    },
  };
}

function assertFailed(outcome: Outcome, what: string): void {
  if ('status' in outcome) assert.ok(outcome.status >= 500, `${what}: answered ${outcome.status}`);
}

/**
 * Hang guard, not a speed assertion: far beyond the slowest path here (the QUIC idle timeout of 5 s, §5.1, then a
 * reconnection) and shorter than the test's timeout, so a missing outcome fails with its name and the test's
 * `finally` still cleans up.
 */
const HANG_GUARD_MS = 20_000;
const T = { timeout: 30_000 };

/** Awaits promises against one shared deadline; a miss names what never settled. */
function deadline(): <V>(p: Promise<V>, what: string) => Promise<V> {
  const end = Date.now() + HANG_GUARD_MS;
  return (p, what) => {
    let timer: NodeJS.Timeout | undefined;
    const miss = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing happened (hang)`)), Math.max(0, end - Date.now()));
    });
    return Promise.race([p, miss]).finally(() => clearTimeout(timer));
  };
}

/** An env plus a way to kill the tunnel connection carrying the visitors, and to let the connector back. */
interface FaultSetup {
  env: TunnelEnv;
  kill(): Promise<void>;
  heal(): void;
}

/**
 * An env whose connector reaches the edge through a path the test breaks on the connector's side: a TCP proxy
 * (HTTP/2) or a UDP relay (QUIC).
 */
async function startEnvBehindPath(
  protocol: 'quic' | 'http2',
  url: string,
  fault: (path: { proxy?: TcpProxy; relay?: UdpRelay; tunnel: Tunnel }) => Omit<FaultSetup, 'env'>,
): Promise<FaultSetup> {
  const { token } = makeToken();
  const edge = await LocalEdge.start({
    tunnels: [token],
    transports: { quic: protocol === 'quic', http2: protocol === 'http2' },
  });
  const target = { host: '127.0.0.1', port: edge.address.port };
  const proxy = protocol === 'http2' ? await startTcpProxy(target) : undefined;
  const relay = protocol === 'quic' ? await startUdpRelay({ target }) : undefined;
  const port = proxy?.port ?? relay!.address().port;
  const tunnel = new Tunnel(
    withTestHooks(
      { token, url, edge: [`127.0.0.1:${port}`], caCert: edge.caPem, protocol, haConnections: 1 },
      // The connector notices a silent HTTP/2 path after two PING intervals.
      { http2PingIntervalMs: 500 },
    ),
  );
  const close = async (): Promise<void> => {
    await tunnel.close({ graceMs: 0 });
    await Promise.all([proxy?.close(), relay?.close()]);
    await edge.close();
  };
  try {
    await tunnel.ready();
  } catch (err) {
    await close();
    throw err;
  }
  return { env: { edge, tunnel, token, close }, ...fault({ proxy, relay, tunnel }) };
}

const FAULTS: Array<{ protocol: 'quic' | 'http2'; name: string; start(url: string): Promise<FaultSetup> }> = [
  ...(['http2', 'quic'] as const).map((protocol) => ({
    protocol,
    name: 'the edge drops the connection',
    start: async (url: string): Promise<FaultSetup> => {
      const env = await startTunnelEnv({ protocol, url, haConnections: 1 });
      return { env, kill: async () => env.edge.dropConnection(0), heal: () => undefined };
    },
  })),
  {
    protocol: 'http2',
    name: 'the path resets the connection (RST both ways)',
    start: (url) =>
      startEnvBehindPath('http2', url, ({ proxy }) => ({ kill: async () => proxy!.resetAll(), heal: () => undefined })),
  },
  {
    protocol: 'http2',
    name: 'the connector abandons a silent path (its FIN reaches the edge)',
    start: (url) =>
      startEnvBehindPath('http2', url, ({ proxy, tunnel }) => ({
        async kill() {
          const gone = nextEvents(tunnel, 'disconnected', 1);
          proxy!.stall();
          await gone;
          // The connector closed its socket; the edge learns of it (a FIN, no RST) once the path carries it.
          proxy!.resume();
        },
        heal: () => undefined,
      })),
  },
  {
    protocol: 'quic',
    name: 'the path goes silent (a vanished connector, to the edge)',
    start: (url) =>
      startEnvBehindPath('quic', url, ({ relay }) => ({
        kill: async () => relay!.setRates({ dropRate: 1 }),
        heal: () => relay!.setRates({ dropRate: 0 }),
      })),
  },
];

for (const { protocol, name, start } of FAULTS) {
  test(`${protocol}: ${name} under in-flight visitors; each gets an outcome, later requests succeed`, T, async () => {
    const origin = await startHoldingOrigin();
    const { env, kill, heal } = await start(origin.url);
    let inFlight: Awaited<ReturnType<typeof startInFlight>> | undefined;
    try {
      // Responses cut off mid-body are reported as failed requests, not as successes (listening before they start:
      // the tunnel builds request summaries only while someone listens).
      const cutOff = nextEvents<[RequestSummary]>(env.tunnel, 'request', 2, (r) => /\/(sized|chunked)$/.test(r.url));
      inFlight = await startInFlight(env.edge.visitorUrl, origin);
      const reconnected = nextEvents(env.tunnel, 'connected', 1);
      const within = deadline();
      await within(kill(), 'the fault');
      const outcome = inFlight.outcomes;
      assertFailed(
        await within(outcome.pending, 'request waiting for its response headers'),
        'request waiting for its response headers',
      );
      assert.deepEqual(await within(outcome.sized, 'response with Content-Length in progress'), { truncated: true });
      assert.deepEqual(await within(outcome.chunked, 'chunked response in progress'), { truncated: true });
      for (const [summary] of await within(cutOff, 'request events of the cut-off responses')) {
        assert.equal(summary.status, 200, summary.url);
        assert.ok(summary.error instanceof Error, `${summary.url} reported without an error`);
      }
      assertFailed(await within(outcome.uploading, 'request uploading its body'), 'request uploading its body');
      // Abnormal closure: no close frame, as the tunnel stream died.
      assert.deepEqual(await within(outcome.ws, 'WebSocket session'), { wsClose: 1006 });
      // The connector tore down every origin request of the dead connection (no stream left behind).
      for (const held of HELD) await within(origin.tornDown(held), `origin request ${held} torn down by the connector`);
      heal();
      await within(reconnected, 'reconnection');
      assert.equal((await visit(env.edge.visitorUrl, { path: '/ok' })).status, 200);
    } finally {
      inFlight?.destroy();
      await env.close();
      await origin.close();
    }
  });
}
