/**
 * A real cloudflared binary as a child process: its output is recorded line by line (both streams) so the test
 * waits on what it logs, and it is killed if the test process exits first.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { EventLog } from './event-log.js';

const live = new Set<ChildProcess>();
// A timed-out test skips its cleanup; no cloudflared may outlive the test process.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A running cloudflared. */
export interface CloudflaredChild {
  readonly process: ChildProcess;
  /** stdout and stderr lines, interleaved in arrival order. */
  readonly lines: EventLog<string>;
  /** Exit code or signal, once the child exited and its output was read. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running. */
  kill(): void;
}

/**
 * Environment for the child: this process's, minus `TUNNEL_*` (cloudflared reads its flags from them) and with
 * HOME pointed at `home`, so that no `~/.cloudflared/config.yml` of the machine changes the run.
 */
function childEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('TUNNEL_')) env[k] = v;
  return { ...env, HOME: home };
}

/** Whether this process may give a child its own mount namespace (Linux, root, util-linux `unshare`). */
function canUnshareMounts(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('unshare', ['-m', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * cloudflared looks up `_v2-origintunneld._tcp.argotunnel.com` and `cfd-features.argotunnel.com` through the system
 * resolver even with `--edge` (docs/interop.md). Where it can, the child runs in a private mount namespace whose
 * `/etc/resolv.conf` names 127.0.0.1, so that no packet of the run leaves loopback; the lookups then fail, as they
 * do on any machine without DNS, and cloudflared goes on with `--edge`.
 */
function loopbackDnsCommand(binary: string, args: string[], home: string): [string, string[]] {
  if (!canUnshareMounts()) return [binary, args];
  const resolvConf = join(home, 'resolv-loopback.conf');
  writeFileSync(resolvConf, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
  // sh execs cloudflared, so the child's pid is cloudflared's own.
  return [
    'unshare',
    ['-m', '--', 'sh', '-c', 'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolvConf, binary, ...args],
  ];
}

/** Spawns `binary args…` (with its DNS kept on loopback where the machine allows). */
export function spawnCloudflared(binary: string, args: string[], home: string): CloudflaredChild {
  const [command, argv] = loopbackDnsCommand(binary, args, home);
  const child = spawn(command, argv, { env: childEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const lines = new EventLog<string>();
  const closed = [child.stdout!, child.stderr!].map((stream) => {
    const rl = createInterface({ input: stream });
    rl.on('line', (line) => lines.push(line));
    return once(rl, 'close');
  });
  const exited = (async () => {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    await Promise.all(closed);
    return { code, signal };
  })();
  return {
    process: child,
    lines,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** The version `binary --version` reports (`cloudflared version 2023.7.3 (built …)` → `2023.7.3`). */
export async function cloudflaredVersion(binary: string): Promise<string> {
  const { stdout } = await promisify(execFile)(binary, ['--version'], { timeout: 10_000 });
  const match = /version (\S+)/.exec(stdout);
  if (match === null) throw new Error(`unexpected --version output: ${stdout}`);
  return match[1]!;
}
