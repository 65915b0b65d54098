/**
 * Copies a response body into an edge stream with backpressure. A lighter stand-in for `stream/promises`
 * `pipeline`, which builds and aborts an AbortController on every call (measurable per request): errors on either
 * side destroy the source and reject; the promise resolves when the edge stream finished.
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import { ResponseIncompleteError } from './errors.js';

/** Pipes `source` into `dest` and ends `dest`; rejects on the first error or a premature close. */
export function pipeBody(source: Readable, dest: Writable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // A body that failed before anyone listened (origin gone while the response headers were being written).
    if (source.errored !== null || (source.destroyed && !source.readableEnded)) {
      source.destroy();
      reject(source.errored ?? new ResponseIncompleteError('the origin response body ended before it was complete'));
      return;
    }
    const cleanup = (): void => {
      source.off('error', onError);
      dest.off('error', onError);
      dest.off('finish', onFinish);
      dest.off('close', onClose);
      dest.off('aborted', onAborted);
      dest.off('stopped', onError);
    };
    const onError = (err: Error): void => {
      cleanup();
      source.unpipe(dest);
      source.destroy();
      reject(err);
    };
    const onFinish = (): void => {
      cleanup();
      resolve();
    };
    // An HTTP/2 stream whose session lost its socket emits 'aborted' and then 'finish' as if the body had been sent.
    const onAborted = (): void =>
      onError(new ResponseIncompleteError('the edge stream was aborted before the response was complete'));
    const onClose = (): void => {
      if (dest.writableFinished) return onFinish();
      onError(new ResponseIncompleteError('the edge stream closed before the response was complete'));
    };
    source.once('error', onError);
    dest.once('error', onError);
    dest.once('finish', onFinish);
    dest.once('close', onClose);
    dest.once('aborted', onAborted);
    // A QUIC stream the edge sent STOP_SENDING for keeps its readable side but drops writes: stop copying.
    dest.once('stopped', onError);
    source.pipe(dest);
  });
}

/** Pipes a WebSocket/TCP stream both ways; the first side to end or fail tears both down (§7.4). */
export function pipeBothWays(a: Duplex, b: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      a.unpipe(b);
      b.unpipe(a);
      b.destroy();
      if (!a.writableEnded) a.end();
      resolve();
    };
    a.pipe(b, { end: false });
    b.pipe(a, { end: false });
    a.once('end', finish);
    b.once('end', finish);
    a.once('error', finish);
    b.once('error', finish);
    a.once('close', finish);
    b.once('close', finish);
  });
}
