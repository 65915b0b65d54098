/**
 * Reads a V8 `.cpuprofile` (from `--cpu-prof`) and says where the time went: self time per function and per owner
 * (our `src/<area>`, a package under node_modules, Node's internals, GC, idle).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time of one function or owner. */
export interface ProfileEntry {
  name: string;
  ms: number;
  /** Share of the non-idle time, percent. */
  percent: number;
}

/** Where a profile's time went. */
export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  byOwner: ProfileEntry[];
  byFunction: ProfileEntry[];
}

/** Who a frame's code belongs to: `src/transport/quic`, `undici`, `node:internal/http2`, `(garbage collector)`… */
export function ownerOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const src = /\/src\/([^/]+)(?:\/([^/]+)\/)?/.exec(url);
  if (src !== null && !url.includes('node_modules'))
    return src[2] === undefined || src[2].includes('.') ? `src/${src[1]}` : `src/${src[1]}/${src[2]}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1]!;
  if (url.startsWith('node:')) {
    const internal = /^node:(internal\/[^/]+|[^/]+)/.exec(url);
    return `node:${internal?.[1]?.replace(/^internal\//, 'internal/') ?? url}`;
  }
  if (url.includes('/bench/')) return 'bench';
  return url;
}

function entries(map: Map<string, number>, busyMs: number, top: number): ProfileEntry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, ms, percent: (100 * ms) / busyMs }));
}

/** Summarises the profile at `path`, keeping the `top` largest entries of each list. */
export function summariseProfile(path: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const ms = us / 1000;
    totalMs += ms;
    if (functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    const owner = ownerOf(url, functionName);
    owners.set(owner, (owners.get(owner) ?? 0) + ms);
    const fn = `${functionName || '(anonymous)'} ${url === '' ? '' : `${url.replace(/^file:\/\/.*?\/(src|bench|node_modules)\//, '$1/')}:${lineNumber + 1}`}`;
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
  }
  const busyMs = totalMs - idleMs;
  return { totalMs, idleMs, byOwner: entries(owners, busyMs, top), byFunction: entries(functions, busyMs, top) };
}

/** The summary as text. */
export function formatProfileSummary(s: ProfileSummary): string {
  const lines = [
    `profile: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${((s.totalMs - s.idleMs) / 1000).toFixed(1)} s busy`,
    '',
    'self time by owner (% of busy):',
  ];
  for (const e of s.byOwner)
    lines.push(`  ${e.percent.toFixed(1).padStart(5)} %  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`);
  lines.push('', 'self time by function (% of busy):');
  for (const e of s.byFunction)
    lines.push(`  ${e.percent.toFixed(1).padStart(5)} %  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`);
  return lines.join('\n');
}
