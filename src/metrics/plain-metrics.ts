/**
 * Counters, gauges and histograms kept as plain numbers, and their Prometheus text exposition. A tunnel updates
 * these on every request; prom-client (~12 MB of resident memory once loaded, mostly code) is only loaded when
 * someone asks for its `Registry` (see `TunnelMetrics.registry`). Each metric's {@link PlainMetric.get} returns what
 * prom-client's own metric classes return, so the same objects register in a prom-client `Registry` unchanged, and
 * {@link formatExposition} prints what prom-client's `Registry.metrics()` prints for them.
 */

/** Metric type, as in `# TYPE`. */
export type PlainMetricType = 'counter' | 'gauge' | 'histogram';

/** One sample line of a metric. */
export interface PlainSample {
  labels: Record<string, string | number>;
  value: number;
  /** Sample name when it differs from the metric's (histogram `_bucket`, `_sum`, `_count`). */
  metricName?: string;
}

/** A metric's samples: the shape of prom-client's `MetricObjectWithValues`. */
export interface PlainMetricData {
  name: string;
  help: string;
  type: PlainMetricType;
  values: PlainSample[];
  aggregator: 'sum';
}

/** What the tunnel's metrics have in common (and what a prom-client `Registry` calls on a registered metric). */
export interface PlainMetric {
  readonly name: string;
  readonly help: string;
  readonly type: PlainMetricType;
  readonly aggregator: 'sum';
  get(): PlainMetricData;
  /** Back to the state right after construction (prom-client's `Registry.resetMetrics()` calls it). */
  reset(): void;
}

/** A labelled series: its labels (in label-name order, as first seen) and its value. */
interface Series<L extends string> {
  readonly labels: Record<L, string>;
  value: number;
}

/**
 * A counter or gauge. Without label names it has one series that starts at 0 (prom-client prints it before any
 * update); with label names, a series appears when its labels are first updated, in that order.
 */
export class PlainSeriesMetric<L extends string = never> implements PlainMetric {
  readonly aggregator = 'sum';
  private series = new Map<string, Series<L>>();
  /** The series of a metric without labels. */
  private unlabelled: Series<never> | undefined;

  constructor(
    readonly type: 'counter' | 'gauge',
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[] = [],
  ) {
    this.reset();
  }

  /** Adds `by` to the series of a metric without labels (the hot path: no allocation). */
  add(by: number): void {
    this.unlabelled!.value += by;
  }

  /** Sets the series of a metric without labels. */
  set(value: number): void {
    this.unlabelled!.value = value;
  }

  /** Adds `by` to the series with these labels, creating it at 0 first. */
  addLabelled(labels: Record<L, string>, by: number): void {
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels, value: 0 };
      this.series.set(key, s);
    }
    s.value += by;
  }

  get(): PlainMetricData {
    const values: PlainSample[] = [];
    if (this.unlabelled !== undefined) values.push({ labels: {}, value: this.unlabelled.value });
    for (const s of this.series.values()) values.push({ labels: { ...s.labels }, value: s.value });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.series = new Map();
    this.unlabelled = this.labelNames.length === 0 ? { labels: {}, value: 0 } : undefined;
  }
}

/** One labelled series of a histogram. */
interface HistogramSeries<L extends string> {
  readonly labels: Record<L, string>;
  /** Observations per bucket (not cumulative), one entry per upper bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** A histogram with labels; a series appears with its first observation. */
export class PlainHistogram<L extends string> implements PlainMetric {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private series = new Map<string, HistogramSeries<L>>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly upperBounds: readonly number[],
  ) {}

  observe(labels: Record<L, string>, value: number): void {
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels, counts: this.upperBounds.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    const bucket = this.upperBounds.findIndex((bound) => value <= bound);
    if (bucket >= 0) s.counts[bucket]! += 1;
    s.sum += value;
    s.count += 1;
  }

  get(): PlainMetricData {
    const values: PlainSample[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      // Cumulative buckets, `le` first and then the series' labels, as prom-client prints them.
      let cumulative = 0;
      this.upperBounds.forEach((bound, i) => {
        cumulative += s.counts[i]!;
        values.push({ labels: { le: bound, ...s.labels }, value: cumulative, metricName: bucketName });
      });
      values.push(
        { labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: bucketName },
        { labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` },
        { labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.series = new Map();
  }
}

/** `start`, then each bucket `factor` times the previous (prom-client's `exponentialBuckets`, same float steps). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const buckets: number[] = [];
  for (let i = 0, b = start; i < count; i++, b *= factor) buckets.push(b);
  return buckets;
}

/** Content type of the Prometheus text format 0.0.4 (prom-client's `Registry.PROMETHEUS_CONTENT_TYPE`). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return String(value);
}

function formatMetric(metric: PlainMetricData): string {
  const name = escapeText(metric.name);
  const lines = [`# HELP ${name} ${escapeText(metric.help)}`, `# TYPE ${name} ${metric.type}`];
  for (const sample of metric.values) {
    const labels = Object.entries(sample.labels).map(
      ([k, v]) => `${k}="${typeof v === 'string' ? escapeText(v).replace(/"/g, '\\"') : v}"`,
    );
    const labelText = labels.length === 0 ? '' : `{${labels.join(',')}}`;
    lines.push(`${sample.metricName ?? name}${labelText} ${valueText(sample.value)}`);
  }
  return lines.join('\n');
}

/** The Prometheus text exposition of `metrics`, in order: what prom-client's `Registry.metrics()` prints for them. */
export function formatExposition(metrics: readonly PlainMetric[]): string {
  return `${metrics.map((m) => formatMetric(m.get())).join('\n\n')}\n`;
}
