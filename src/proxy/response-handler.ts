/**
 * undici dispatch handler turning one origin exchange into an {@link OriginResponse}: ordered raw headers, a body
 * Readable whose backpressure pauses the origin socket, and the socket of a 101 upgrade.
 */
import { Readable, type Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { OriginError, OriginRequestCancelledError } from './errors.js';
import { goErrorText, type DialTarget } from './go-error-text.js';
import { responseHeadersFromRaw, trailersFromUndici, validFinalStatus } from './headers.js';
import type { OriginResponse } from './types.js';

/**
 * Bytes an origin response body buffers before the origin is paused: Node 20's stream default, pinned because Node 22
 * raised the default to 64 KiB (four times the memory per proxied stream for the same backpressure).
 */
const ORIGIN_BODY_HIGH_WATER_MARK = 16 * 1024;

/** Body stream of an origin response; destroying it aborts the origin request. */
class OriginBody extends Readable {
  constructor(
    private readonly resumeOrigin: () => void,
    private readonly abortOrigin: (err: Error) => void,
  ) {
    super({ highWaterMark: ORIGIN_BODY_HIGH_WATER_MARK });
  }

  override _read(): void {
    this.resumeOrigin();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.readableEnded) this.abortOrigin(err ?? new Error('origin response body destroyed'));
    callback(err);
  }
}

/** Handler for `Dispatcher.dispatch`; `response` settles once headers (or an upgrade) arrive, or on failure. */
export class OriginResponseHandler implements Dispatcher.DispatchHandler {
  readonly response: Promise<OriginResponse>;
  private resolve!: (res: OriginResponse) => void;
  private reject!: (err: Error) => void;
  private settled = false;
  private body: OriginBody | null = null;
  private abortFn: ((err?: Error) => void) | null = null;
  private resolveTrailers!: (t: Array<[string, string]>) => void;
  private readonly trailers = new Promise<Array<[string, string]>>((resolve) => (this.resolveTrailers = resolve));
  private readonly onAbort = (): void => this.abort(new OriginRequestCancelledError(this.signal.reason));

  constructor(
    private readonly signal: AbortSignal,
    private readonly target: DialTarget,
  ) {
    this.response = new Promise<OriginResponse>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  private abort(err: Error): void {
    if (this.abortFn !== null) this.abortFn(err);
    else this.fail(err);
  }

  private settle(res: OriginResponse): void {
    this.settled = true;
    this.resolve(res);
  }

  private fail(err: Error): void {
    this.signal.removeEventListener('abort', this.onAbort);
    this.resolveTrailers([]);
    if (this.settled) {
      this.body?.destroy(err);
      return;
    }
    this.settled = true;
    const typed =
      err instanceof OriginRequestCancelledError || err instanceof OriginError
        ? err
        : new OriginError(goErrorText(err, this.target), err);
    this.reject(typed);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.signal.aborted) this.onAbort();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // informational; the final response follows
    if (!validFinalStatus(statusCode)) {
      this.abort(new OriginError(`malformed HTTP status code "${statusCode}"`));
      return false;
    }
    this.body = new OriginBody(resume, (err) => this.abortFn?.(err));
    this.settle({
      status: statusCode,
      headers: responseHeadersFromRaw(rawHeaders),
      body: this.body,
      trailers: this.trailers,
    });
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.body?.push(chunk) ?? true;
  }

  onComplete(trailers: string[] | Buffer[] | Record<string, string | string[] | undefined> | null): void {
    this.signal.removeEventListener('abort', this.onAbort);
    this.resolveTrailers(trailersFromUndici(trailers));
    this.body?.push(null);
  }

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: Duplex): void {
    this.signal.removeEventListener('abort', this.onAbort);
    this.settle({ status: statusCode, headers: responseHeadersFromRaw(rawHeaders, true), body: null, socket });
  }

  onError(err: Error): void {
    this.fail(err);
  }
}
