/** docs/errors.md lists exactly the error codes the source defines (no stale or missing entries). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('the error catalogue matches the codes in src/', () => {
  const inSource = new Set<string>();
  for (const file of sourceFiles(join(root, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/'(CFT_ERR_[A-Z0-9_]+)'/g)) inSource.add(m[1]!);
  }
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  const inDoc = new Set([...doc.matchAll(/^\| `(CFT_ERR_[A-Z0-9_]+)`/gm)].map((m) => m[1]!));
  assert.ok(inSource.size > 40);
  assert.deepEqual([...inDoc].sort(), [...inSource].sort());
});
