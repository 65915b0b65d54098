/** Request-rate figures, whoever produced them (autocannon or the raw HTTP/2 client). */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Rate and latency of a request/response load. */
export interface RateFigures {
  requests: number;
  seconds: number;
  reqPerSec: number;
  /** Latency percentiles, milliseconds. */
  p50: number;
  p99: number;
  p999: number;
  /** Failed requests (connection errors, timeouts, non-2xx). */
  errors: number;
}

/** Collects latencies in nanoseconds with an HDR histogram (no per-sample allocation). */
export class LatencyRecorder {
  private readonly histogram: RecordableHistogram = createHistogram();
  errors = 0;

  /** Records one request that started at `startNs` (`process.hrtime.bigint()`). */
  record(startNs: bigint): void {
    const ns = process.hrtime.bigint() - startNs;
    this.histogram.record(ns > 0n ? ns : 1n);
  }

  /** Records one request that took `ms` milliseconds. */
  recordMs(ms: number): void {
    this.histogram.record(Math.max(1, Math.round(ms * 1e6)));
  }

  figures(seconds: number): RateFigures {
    const h = this.histogram;
    const ms = (p: number): number => h.percentile(p) / 1e6;
    const requests = h.count;
    return {
      requests,
      seconds,
      reqPerSec: requests / seconds,
      p50: ms(50),
      p99: ms(99),
      p999: ms(99.9),
      errors: this.errors,
    };
  }
}
