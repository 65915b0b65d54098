/** The README's layout table names every folder of src/, and only folders that exist. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function srcFolders(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      out.push(relative(ROOT, path).split(sep).join('/'));
      walk(path);
    }
  };
  walk(join(ROOT, 'src'));
  return out.sort();
}

/** `src/…` folders named in the first column of the table under `## Layout`. */
function tableFolders(readme: string): string[] {
  const start = readme.indexOf('\n## Layout\n');
  assert.ok(start >= 0, 'README has a "## Layout" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const out: string[] = [];
  for (const line of section.split('\n')) {
    const firstCell = /^\|([^|]*)\|/.exec(line)?.[1] ?? '';
    for (const m of firstCell.matchAll(/`(src\/[^`]*?)\/?`/g)) out.push(m[1]!);
  }
  return out.sort();
}

test("the README's layout table lists exactly the folders of src/", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.deepEqual(tableFolders(readme), srcFolders());
});
