/**
 * deploy/: the systemd unit passes `systemd-analyze verify` (where the tool exists), and the Dockerfile runs the
 * install and run commands the documentation gives (docs/install.md, and README's Install section when it has one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const version = (JSON.parse(read('package.json')) as { version: string }).version;

/** Commands in the ```sh blocks of a Markdown text, one per line, comments and continuation-free. */
function shellCommands(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of m[1]!.split('\n')) {
      const cmd = line.replace(/\s+#.*$/, '').trim();
      if (cmd !== '' && !cmd.startsWith('#')) out.push(cmd);
    }
  }
  return out;
}

/** The Dockerfile's RUN commands (split at `&&`) and its CMD (exec form, joined). */
function dockerCommands(dockerfile: string): { run: string[]; cmd: string } {
  const run: string[] = [];
  let cmd = '';
  for (const line of dockerfile.split('\n')) {
    if (line.startsWith('RUN '))
      run.push(
        ...line
          .slice(4)
          .split('&&')
          .map((c) => c.trim()),
      );
    if (line.startsWith('CMD ')) cmd = (JSON.parse(line.slice(4)) as string[]).join(' ');
  }
  return { run, cmd };
}

/** Each Dockerfile command is one of the documented commands (the run command may follow `VAR=value` settings). */
function assertDockerfileFollows(doc: string, where: string): void {
  const documented = shellCommands(doc);
  const { run, cmd } = dockerCommands(read('deploy/Dockerfile'));
  assert.ok(run.length >= 3 && cmd !== '', 'the Dockerfile installs and runs');
  for (const c of run)
    assert.ok(documented.includes(c), `Dockerfile's RUN ${c} is not a command of ${where}: ${documented.join(' | ')}`);
  assert.ok(
    documented.some((d) => d.replace(/^(?:[A-Z_]+=\S+\s+)*/, '') === cmd),
    `Dockerfile's CMD ${cmd} is not the run command of ${where}`,
  );
}

test("the Dockerfile runs docs/install.md's install and run commands, for the tarball of this version", () => {
  assertDockerfileFollows(read('docs/install.md'), 'docs/install.md');
  const dockerfile = read('deploy/Dockerfile');
  for (const m of dockerfile.matchAll(/cftunnel-(\d+\.\d+\.\d+[^\s/]*)\.tgz/g))
    assert.equal(m[1], version, "tarball name = npm pack's");
});

test("the Dockerfile runs README's install and run commands", (t) => {
  const readme = read('README.md');
  const install = /^## Install[\s\S]*?(?=^## )/m.exec(readme);
  if (install === null) {
    t.skip('README.md has no Install section yet');
    return;
  }
  assertDockerfileFollows(install[0], 'README.md');
});

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
test(
  'deploy/cftunnel.service passes systemd-analyze verify with no warning',
  { skip: analyze.error ? `systemd-analyze not available: ${analyze.error.message}` : false },
  (t) => {
    const unit = read('deploy/cftunnel.service');
    const exec = /^ExecStart=(\S+) (.*)$/m.exec(unit);
    assert.ok(exec, 'the unit has an ExecStart');
    // The unit runs the documented command.
    assert.ok(
      shellCommands(read('docs/install.md')).some((d) => d.endsWith(`cftunnel ${exec[2]}`)),
      `ExecStart ${exec[2]}`,
    );
    // verify checks that ExecStart's program exists; here it is this checkout's bin/cftunnel.js, not an installed one.
    const dir = mkdtempSync(join(tmpdir(), 'cftunnel-unit-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'cftunnel.service');
    writeFileSync(path, unit.replace(`ExecStart=${exec[1]} `, `ExecStart=${join(root, 'bin', 'cftunnel.js')} `));
    const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warnings (an unknown or misspelt directive is only a warning)');
  },
);
