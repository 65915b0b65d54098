/**
 * The README's library examples (mirrored in examples/) run against the local edge: each starts, serves a request
 * through the tunnel, and closes on SIGTERM. They import 'cftunnel' as users do (resolved to the built package).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { LocalEdge } from '../../src/local-edge/index.js';
import { makeToken, startOrigin } from '../helpers/tunnel-env.js';
import { visit } from '../helpers/visitor.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let edge: LocalEdge;
let token: string;
let dir: string;
let origin: Awaited<ReturnType<typeof startOrigin>>;

before(async () => {
  token = makeToken().token;
  edge = await LocalEdge.start({ tunnels: [token] });
  dir = await mkdtemp(join(tmpdir(), 'cftunnel-examples-'));
  await writeFile(join(dir, 'ca.pem'), edge.caPem);
  origin = await startOrigin((_req, res) => res.end('from the url origin'));
});
after(async () => {
  await edge.close();
  await origin.close();
  await rm(dir, { recursive: true, force: true });
});

async function runExample(file: string, check: () => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join('examples', file)], {
    cwd: root,
    env: {
      ...process.env,
      TUNNEL_TOKEN: token,
      TUNNEL_EDGE: `127.0.0.1:${edge.address.port},127.0.0.1:${edge.address.port}`,
      TUNNEL_CACERT: join(dir, 'ca.pem'),
      ORIGIN_URL: origin.url,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const seen: string[] = [];
  const waitFor = (prefix: string) =>
    new Promise<void>((resolve, reject) => {
      const onLine = (line: string): void => {
        seen.push(line);
        if (line.startsWith(prefix)) {
          lines.off('line', onLine);
          resolve();
        }
      };
      lines.on('line', onLine);
      child.once('exit', (code) =>
        reject(new Error(`${file} exited with ${code} before "${prefix}": ${seen.join(' | ')}`)),
      );
    });
  try {
    await waitFor('ready');
    await check();
    const closed = waitFor('closed');
    child.kill('SIGTERM');
    await closed;
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

test('examples/url.ts publishes a URL origin', async () => {
  await runExample('url.ts', async () => {
    assert.equal((await visit(edge.visitorUrl)).body.toString(), 'from the url origin');
  });
});

test('examples/express.ts serves Express in-process, WebSocket included', async () => {
  await runExample('express.ts', async () => {
    assert.equal((await visit(edge.visitorUrl)).body.toString(), 'Hello from Express, through the tunnel');
    const ws = new WebSocket(`${edge.visitorUrl.replace('http', 'ws')}/`);
    await once(ws, 'open');
    const reply = once(ws, 'message');
    ws.send('x');
    assert.equal(String((await reply)[0]), 'echo:x');
    ws.close();
  });
});

test('examples/fastify.ts serves Fastify in-process', async () => {
  await runExample('fastify.ts', async () => {
    assert.deepEqual(JSON.parse((await visit(edge.visitorUrl)).body.toString()), { hello: 'from Fastify' });
  });
});

test('examples/hono.ts routes a hostname to Hono and the rest to a URL', async () => {
  await runExample('hono.ts', async () => {
    assert.equal((await visit(edge.visitorUrl, { host: 'api.example.com' })).body.toString(), 'Hello from Hono');
    assert.equal((await visit(edge.visitorUrl, { host: 'www.example.com' })).body.toString(), 'from the url origin');
  });
});
