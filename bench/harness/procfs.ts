/**
 * Per-process resource figures from Linux procfs: resident memory (`/proc/<pid>/status` VmRSS, VmHWM) and CPU
 * time (`/proc/<pid>/stat` utime + stime).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** One reading of one process. */
export interface ProcReading {
  /** Resident set size, bytes. */
  rss: number;
  /** Peak resident set size since start, bytes. */
  hwm: number;
  /** User + system CPU time since start, seconds. */
  cpuSeconds: number;
  /**
   * Time the process's threads spent runnable but waiting for a core, seconds (field 2 of each thread's
   * `/proc/<pid>/task/<tid>/schedstat`): on a shared machine, the part of a slow figure other processes caused.
   */
  runQueueSeconds: number;
}

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux this runs on, asked once anyway. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function statusKb(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m === null ? 0 : Number(m[1]) * 1024;
}

function runQueueSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns / 1e9;
}

/** Reads a process's figures; undefined once it has gone. */
export function readProc(pid: number): ProcReading | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may hold spaces); utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return {
      rss: statusKb(status, 'VmRSS'),
      hwm: statusKb(status, 'VmHWM'),
      cpuSeconds: ticks / CLOCK_TICKS,
      runQueueSeconds: runQueueSeconds(pid),
    };
  } catch {
    return undefined;
  }
}

/** RSS samples of one process over a measured window. */
export interface RssSeries {
  first: number;
  last: number;
  max: number;
  /** Every sample, in order (bytes). */
  samples: number[];
}

/** What a {@link ProcSampler} saw of one process over the window. */
export interface ProcWindow {
  /** CPU seconds spent inside the window. */
  cpuSeconds: number;
  /** Seconds its threads waited for a core inside the window (summed over threads). */
  runQueueSeconds: number;
  rss: RssSeries;
  /** VmHWM at the end of the window (peak since the process started). */
  hwm: number;
}

/** Default sampling period: often enough to see a spike in a 10 s run, rare enough to cost nothing. */
export const SAMPLE_INTERVAL_MS = 200;

/** Samples several processes' RSS through a window and diffs their CPU time across it. */
export class ProcSampler {
  private readonly start = new Map<number, ProcReading>();
  private readonly series = new Map<number, RssSeries>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: Record<string, number | undefined>,
    intervalMs = SAMPLE_INTERVAL_MS,
  ) {
    for (const pid of Object.values(pids)) {
      if (pid === undefined) continue;
      const r = readProc(pid);
      if (r === undefined) continue;
      this.start.set(pid, r);
      this.series.set(pid, { first: r.rss, last: r.rss, max: r.rss, samples: [r.rss] });
    }
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): ProcReading[] {
    const out: ProcReading[] = [];
    for (const [pid, s] of this.series) {
      const r = readProc(pid);
      if (r === undefined) continue;
      s.last = r.rss;
      s.max = Math.max(s.max, r.rss);
      s.samples.push(r.rss);
      out.push(r);
    }
    return out;
  }

  /** Ends the window; figures per process name given to the constructor. */
  stop(): Record<string, ProcWindow> {
    clearInterval(this.timer);
    this.sample();
    const out: Record<string, ProcWindow> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      if (pid === undefined) continue;
      const begin = this.start.get(pid);
      const end = readProc(pid);
      const series = this.series.get(pid);
      if (begin === undefined || end === undefined || series === undefined) continue;
      out[name] = {
        cpuSeconds: end.cpuSeconds - begin.cpuSeconds,
        runQueueSeconds: end.runQueueSeconds - begin.runQueueSeconds,
        rss: { ...series, samples: [...series.samples] },
        hwm: end.hwm,
      };
    }
    return out;
  }
}
