/**
 * Runs the CLI from source in a child process (`node --import tsx test/helpers/run-cli.ts …`) and follows its output line
 * by line, so tests wait on what it prints rather than on time.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

// A timed-out test does not run its `after` hooks; make sure no child outlives the test process anyway.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** A running CLI child. */
export interface CliChild {
  readonly process: ChildProcess;
  readonly stdoutLines: string[];
  readonly stderrLines: string[];
  /** Resolves with the first stdout (or stderr) line, past or future, that matches. Rejects if the child exits first. */
  waitForLine(pattern: RegExp | ((line: string) => boolean), stream?: 'stdout' | 'stderr'): Promise<string>;
  /** Resolves with the exit code (or the signal name) once the child exited and its output was read. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every line printed so far on both streams. */
  allOutput(): string;
  /** SIGKILL if still running (test cleanup). */
  kill(): void;
}

/** Spawns `cftunnel <args>` from source. `env` replaces TUNNEL_* variables of this process (none leak in). */
export function spawnCli(args: string[], env: Record<string, string> = {}): CliChild {
  const cleanEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('TUNNEL_')) cleanEnv[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', ...args], {
    cwd: root,
    env: { ...cleanEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const events = new EventEmitter();
  const stdoutLines: string[] = [];
  const stderrLines: string[] = [];
  const closed: Array<Promise<unknown>> = [];
  for (const [stream, lines, name] of [
    [child.stdout!, stdoutLines, 'stdout'],
    [child.stderr!, stderrLines, 'stderr'],
  ] as const) {
    const rl = createInterface({ input: stream });
    rl.on('line', (line) => {
      lines.push(line);
      events.emit('line', name, line);
    });
    closed.push(once(rl, 'close'));
  }
  const exited = (async () => {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    await Promise.all(closed);
    events.emit('exit');
    return { code, signal };
  })();
  const waitForLine = (
    pattern: RegExp | ((line: string) => boolean),
    stream: 'stdout' | 'stderr' = 'stdout',
  ): Promise<string> => {
    const test = typeof pattern === 'function' ? pattern : (l: string) => pattern.test(l);
    const existing = (stream === 'stdout' ? stdoutLines : stderrLines).find(test);
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const onLine = (name: string, line: string): void => {
        if (name !== stream || !test(line)) return;
        events.off('line', onLine);
        events.off('exit', onExit);
        resolve(line);
      };
      const onExit = (): void => {
        events.off('line', onLine);
        reject(
          new Error(`child exited before printing a line matching ${String(pattern)} on ${stream}:\n${allOutput()}`),
        );
      };
      events.on('line', onLine);
      events.once('exit', onExit);
    });
  };
  const allOutput = (): string => [...stdoutLines, ...stderrLines].join('\n');
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return { process: child, stdoutLines, stderrLines, waitForLine, exited, allOutput, kill };
}

/** Runs `cftunnel <args>` to completion. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = spawnCli(args, env);
  const { code } = await c.exited;
  return { code, stdout: c.stdoutLines.join('\n'), stderr: c.stderrLines.join('\n') };
}

/** Sends `signal` and asserts a graceful exit (code 0, no signal), showing the child's output if not. */
export async function stopGracefully(child: CliChild, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  child.process.kill(signal);
  assert.deepEqual(await child.exited, { code: 0, signal: null }, child.allOutput());
}

/** The `listening` event of `cftunnel edge`. */
export interface Listening {
  edge: string;
  http: string;
  ca: string;
}

/** Starts `cftunnel edge` on random loopback ports (killed after the test) and waits for its `listening` event. */
export async function startEdge(
  token: string,
  certsDir: string,
  t: { after(fn: () => unknown): void },
  extra: string[] = [],
): Promise<{ child: CliChild; info: Listening }> {
  const child = spawnCli([
    'edge',
    '--listen',
    '127.0.0.1:0',
    '--http',
    '127.0.0.1:0',
    '--token',
    token,
    '--certs',
    certsDir,
    ...extra,
  ]);
  t.after(() => child.kill());
  const info = JSON.parse(await child.waitForLine(/"event":"listening"/)) as Listening;
  return { child, info };
}

/** The JSON events named `name` that `cftunnel edge` printed so far. */
export function eventsOf(child: CliChild, name: string): Array<Record<string, unknown>> {
  return child.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === name);
}

/** Nothing may carry the token or the secret (hex, standard base64, URL-safe base64). */
export function assertNoSecret(text: string, token: string, secret: Buffer): void {
  for (const needle of [token, secret.toString('hex'), secret.toString('base64'), secret.toString('base64url')]) {
    assert.equal(text.includes(needle), false, 'a secret appeared in the CLI output');
  }
}
