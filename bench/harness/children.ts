/** Driver side of the benchmark children: fork an entry script under `bench/procs/`, configure it, stop it. */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { compileForChildren, compiledProcPath } from './compile.js';
import { BenchError } from './errors.js';
import type { ChildMemory, ChildMessage, DriverMessage } from '../procs/child.js';

/** How long a child may take to start (edge cert generation and QUIC handshakes included). */
const CHILD_START_TIMEOUT_MS = 30_000;
/** How long a child may take to stop before it is killed. */
const CHILD_STOP_TIMEOUT_MS = 10_000;

/** A running child process. */
export interface BenchChild<Info> {
  readonly name: string;
  readonly pid: number;
  readonly info: Info;
  /** The child's `process.memoryUsage()`, with the kernel's anonymous / file-backed split where there is one. */
  memory(): Promise<ChildMemory>;
  /** Asks the child to stop; kills it if it does not exit in time. */
  stop(): Promise<void>;
}

/** How children run: plain JavaScript transpiled once per run (default), or the TypeScript under tsx. */
export type ChildMode = 'compiled' | 'tsx';

/**
 * Forks `bench/procs/<script>.ts` (its compiled copy, or the source under tsx), sends `config`, resolves when it
 * reports ready.
 */
export async function startChild<Config, Info>(
  script: string,
  config: Config,
  options: { name?: string; execArgv?: string[]; mode?: ChildMode } = {},
): Promise<BenchChild<Info>> {
  const name = options.name ?? script;
  const mode = options.mode ?? 'compiled';
  let path: string;
  const execArgv = [...(options.execArgv ?? [])];
  if (mode === 'compiled') {
    await compileForChildren();
    path = compiledProcPath(script);
  } else {
    path = fileURLToPath(new URL(`../procs/${script}.ts`, import.meta.url));
    execArgv.unshift('--import', 'tsx');
  }
  const child: ChildProcess = fork(path, [], {
    execArgv,
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  // Name every line a child writes to stderr: a crash trace is useless without knowing which process it was.
  createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));
  const exited = once(child, 'exit');
  const ready = new Promise<Info>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new BenchError(`${name} did not start within ${CHILD_START_TIMEOUT_MS} ms`)),
      CHILD_START_TIMEOUT_MS,
    );
    child.on('message', (m: ChildMessage<Info>) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m.info);
      } else if (m.type === 'failed') {
        clearTimeout(timer);
        reject(new BenchError(`${name} failed to start: ${m.message}`));
      }
    });
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new BenchError(`${name} exited with code ${String(code)} before it was ready`));
    });
  });
  const send = (m: DriverMessage<Config>): void => {
    if (child.connected) child.send(m);
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    send({ type: 'stop' });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  const memory = (): Promise<ChildMemory> =>
    new Promise((resolve) => {
      const onMessage = (m: ChildMessage<Info>): void => {
        if (m.type !== 'memory') return;
        child.off('message', onMessage);
        resolve(m.usage);
      };
      child.on('message', onMessage);
      send({ type: 'memory' });
    });
  send({ type: 'config', config });
  try {
    const info = await ready;
    return { name, pid: child.pid!, info, memory, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
