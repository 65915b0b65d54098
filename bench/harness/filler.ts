/** Filler bytes written as fast as the receiver takes them, for every bulk body of the benchmarks. */

const CHUNK = Buffer.alloc(64 * 1024, 0x62);

/** The bit of a writable stream {@link writeFiller} needs (http responses, sockets, HTTP/2 streams). */
interface FillerSink {
  write(chunk: Buffer): boolean;
  end(): unknown;
  once(event: 'drain', listener: () => void): unknown;
}

/** Writes `bytes` of filler to `out` honouring back-pressure, then ends it. Returns at once; the pump runs on drain. */
export function writeFiller(out: FillerSink, bytes: number): void {
  let left = bytes;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!out.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void out.once('drain', pump);
    }
    out.end();
  };
  pump();
}
