/**
 * HTTP/1.1 request load with autocannon (in the driver process), as visitors hitting the edge would produce.
 * Latencies are taken from autocannon's per-response event at sub-millisecond resolution (its own histogram
 * rounds to whole milliseconds, which hides everything at 1 connection).
 */
import autocannon from 'autocannon';
import { LatencyRecorder, type RateFigures } from './latency.js';

/** Options of {@link autocannonLoad}. */
export interface HttpLoadOptions {
  url: string;
  connections: number;
  /** Run for this long, or … */
  durationSeconds?: number;
  /** … until this many requests completed. */
  amount?: number;
  method?: 'GET' | 'POST';
  body?: Buffer;
  /** A sequence of requests each connection cycles through (overrides method/body). */
  requests?: autocannon.Request[];
  /** Per-request timeout, seconds (autocannon counts a timeout as an error). */
  timeoutSeconds?: number;
}

/** Runs autocannon and reduces its result to {@link RateFigures} (2xx responses only count as requests). */
export async function autocannonLoad(options: HttpLoadOptions): Promise<RateFigures> {
  const latencies = new LatencyRecorder();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const opts: autocannon.Options = {
      url: options.url,
      connections: options.connections,
      method: options.method ?? 'GET',
      timeout: options.timeoutSeconds ?? 30,
    };
    // autocannon rejects keys that are present but undefined.
    if (options.durationSeconds !== undefined) opts.duration = options.durationSeconds;
    if (options.amount !== undefined) opts.amount = options.amount;
    if (options.body !== undefined) {
      opts.body = options.body;
      opts.headers = { 'content-type': 'application/octet-stream' };
    }
    if (options.requests !== undefined) opts.requests = options.requests;
    const instance = autocannon(opts, (err: unknown, r: autocannon.Result) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(r),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.recordMs(responseTime);
    });
  });
  const seconds = (result.finish.getTime() - result.start.getTime()) / 1000;
  const figures = latencies.figures(seconds);
  figures.errors = result.errors + result.non2xx;
  return figures;
}
