/** Benchmark figures: what each scenario returns, medians over runs, and the printed table with ratios. */

/** One measured figure with the baselines it is compared to. */
export interface Figure {
  scenario: string;
  /** What was measured, e.g. `c=32`, `download`, `idle 60 s`. */
  leg: string;
  /** Transport between connector and edge; `-` for figures without one. */
  protocol: string;
  metric: string;
  unit: string;
  value: number;
  /** Same load without our code on the path (origin direct, raw node:http2/node:tls), by name. */
  baselines: Record<string, number>;
  /** A target from the issue, printed beside the figure (not asserted). */
  target?: { op: '>=' | '<='; value: number };
}

/** Median of numbers (mean of the middle two for an even count). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function key(f: Figure): string {
  return `${f.scenario}\u0000${f.leg}\u0000${f.protocol}\u0000${f.metric}`;
}

/** Figures of several runs of the same scenario merged into medians (`runs` keeps every run's value). */
export function medianFigures(runs: Figure[][]): Array<Figure & { runs: number[] }> {
  const groups = new Map<string, Figure[]>();
  for (const run of runs) for (const f of run) groups.set(key(f), [...(groups.get(key(f)) ?? []), f]);
  return [...groups.values()].map((group) => {
    const baselines: Record<string, number> = {};
    for (const name of Object.keys(group[0]!.baselines))
      baselines[name] = median(group.map((f) => f.baselines[name] ?? NaN));
    // A same-run target (a ratio of that run's baseline) is judged against the median of the runs' targets, as the
    // value is: the first run's target alone would judge the median by one run's baseline.
    const first = group[0]!;
    const target =
      first.target === undefined
        ? undefined
        : { op: first.target.op, value: median(group.map((f) => f.target?.value ?? NaN)) };
    return { ...first, value: median(group.map((f) => f.value)), baselines, target, runs: group.map((f) => f.value) };
  });
}

/** Formats a number with a sensible number of digits for a table. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1000) return Math.round(n).toLocaleString('en-US');
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function targetText(f: Figure): string {
  if (f.target === undefined) return '';
  const met = f.target.op === '>=' ? f.value >= f.target.value : f.value <= f.target.value;
  return `target ${f.target.op} ${fmt(f.target.value)} ${met ? 'met' : 'MISSED'}`;
}

/** Prints figures as a Markdown table (pasteable into RESULTS.md), each with its ratios to its baselines. */
export function printFigures(figures: Array<Figure & { runs?: number[] }>): void {
  const rows = [
    ['scenario', 'leg', 'protocol', 'metric', 'value', 'runs', 'baselines (ratio = value / baseline)', 'target'],
  ];
  for (const f of figures) {
    const base = Object.entries(f.baselines)
      .map(([name, v]) => `${name} ${fmt(v)} (x${(f.value / v).toFixed(2)})`)
      .join('; ');
    const runs = f.runs && f.runs.length > 1 ? f.runs.map(fmt).join(' / ') : '';
    rows.push([f.scenario, f.leg, f.protocol, f.metric, `${fmt(f.value)} ${f.unit}`, runs, base, targetText(f)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(rows[0]!));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
}
