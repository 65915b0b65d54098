/**
 * The public types catch mistakes at compile time: test/library/types/public-api.ts holds a typed use of every
 * cloudflared `originRequest` option (docs/protocol.md §10.5), the loggers that fit, and `@ts-expect-error` lines for
 * typos (`noTlsVerify`) that must not compile — an unused directive is itself an error, so loosening a type fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { typeCheck } from '../helpers/compile.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('typed originRequest and logger: typos fail to compile, every option and pino/console/custom loggers compile', () => {
  const tsconfig = JSON.parse(readFileSync(`${root}tsconfig.json`, 'utf8')) as {
    compilerOptions: Record<string, unknown>;
  };
  const file = fileURLToPath(new URL('./types/public-api.ts', import.meta.url));
  assert.deepEqual(typeCheck([file], tsconfig.compilerOptions, root), []);
  const source = readFileSync(file, 'utf8');
  assert.ok((source.match(/@ts-expect-error/g) ?? []).length >= 9, 'the expected-error lines are still there');
});
