/**
 * The built declarations (dist/src/*.d.ts, what the package ships) compile in a consumer project with the strictest
 * settings people use — `strict`, `exactOptionalPropertyTypes`, `skipLibCheck: false` — both as an ES module
 * (`module: nodenext`) and from CommonJS TypeScript (`module: node16`, through `await import()`, as docs/install.md
 * says). Needs `npm run build` first (as `npm test` does).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { typeCheck } from '../helpers/compile.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

const STRICTEST = {
  target: 'ES2022',
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
  types: ['node'],
  typeRoots: [join(root, 'node_modules', '@types')],
};

const ESM_APP = `
import http from 'node:http';
import { startTunnel, Tunnel, CftunnelError, hasErrorCode, loadConfigFile, type TunnelOptions, type RequestSummary } from 'cftunnel';
import { LocalEdge } from 'cftunnel/edge';

const edge = await LocalEdge.start({ tunnels: ['t'] });
const options: TunnelOptions = {
  token: process.env.TUNNEL_TOKEN ?? '',
  edge: [edge.address.host + ':' + edge.address.port],
  caCert: edge.caPem,
  ingress: [
    { hostname: 'app.example.com', service: http.createServer(), originRequest: { noTLSVerify: true, connectTimeout: 5 } },
    { service: 'http_status:404' },
  ],
  logger: console,
};
const tunnel: Tunnel = await startTunnel(options);
tunnel.on('request', (r: RequestSummary) => console.log(r.status, r.durationMs));
tunnel.on('configuration', (c) => console.log(c.hostnames.join(',')));
const { hostnames } = await tunnel.configured();
console.log(hostnames, tunnel.metrics, loadConfigFile, CftunnelError, hasErrorCode(new Error(), 'x'));
await tunnel.close({ graceMs: 1000 });
`;

const CJS_APP = `
import type { TunnelOptions } from 'cftunnel' with { 'resolution-mode': 'import' };

async function main(): Promise<void> {
  const { startTunnel } = await import('cftunnel');
  const options: TunnelOptions = { token: process.env.TUNNEL_TOKEN ?? '', url: 'http://localhost:8080' };
  const tunnel = await startTunnel(options);
  await tunnel.close();
}
void main();
`;

function consumerProject(type: 'module' | 'commonjs', app: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cftunnel-consumer-${type}-`));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'cftunnel'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type }));
  writeFileSync(join(dir, 'app.ts'), app);
  return dir;
}

test('the shipped declarations compile in an ESM consumer with exactOptionalPropertyTypes and skipLibCheck: false', (t) => {
  assert.ok(existsSync(join(root, 'dist/src/index.d.ts')), 'run npm run build first');
  const dir = consumerProject('module', ESM_APP);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(
    typeCheck([join(dir, 'app.ts')], { ...STRICTEST, module: 'nodenext', moduleResolution: 'nodenext' }, dir),
    [],
  );
});

test('CommonJS TypeScript (module: node16) uses the package through await import() and type-only imports', (t) => {
  const dir = consumerProject('commonjs', CJS_APP);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(
    typeCheck([join(dir, 'app.ts')], { ...STRICTEST, module: 'node16', moduleResolution: 'node16' }, dir),
    [],
  );
  // A static import from CommonJS is what does not work (the package is ESM only): say so rather than guess.
  const staticImport = consumerProject('commonjs', `import { startTunnel } from 'cftunnel';\nvoid startTunnel;\n`);
  t.after(() => rmSync(staticImport, { recursive: true, force: true }));
  const errors = typeCheck(
    [join(staticImport, 'app.ts')],
    { ...STRICTEST, module: 'node16', moduleResolution: 'node16' },
    staticImport,
  );
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /TS1479/);
});
