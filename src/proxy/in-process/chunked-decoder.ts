/**
 * Removes HTTP/1.1 chunked framing from the bytes a `ServerResponse` writes when the app asked for
 * `Transfer-Encoding: chunked` (or streamed without a length): the edge gets the de-chunked body, as from any origin
 * (docs/protocol.md §10.6). Trailers are not read here: the response keeps them as a string (`res._trailer`).
 */

const CR = 0x0d;
const LF = 0x0a;

/** Streaming decoder of Node's own chunk framing (`<hex>\r\n<data>\r\n … 0\r\n<trailers>\r\n`). */
export class ChunkedDecoder {
  /** Hex digits (and any extension) of the size line being read. */
  private sizeLine = '';
  /** Data bytes left in the current chunk; -1 while reading a size line. */
  private remaining = -1;
  /** CRLF bytes still to skip after a chunk's data. */
  private skip = 0;
  /** True once the last (zero-size) chunk was seen; anything after it is trailer text. */
  done = false;

  /** Feeds framed bytes; calls `out` with each body slice. Returns false if any `out` call asked to wait. */
  feed(buf: Buffer, out: (data: Buffer) => boolean): boolean {
    let ok = true;
    let i = 0;
    while (i < buf.length && !this.done) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, buf.length - i);
        this.skip -= n;
        i += n;
      } else if (this.remaining > 0) {
        const n = Math.min(this.remaining, buf.length - i);
        if (!out(buf.subarray(i, i + n))) ok = false;
        this.remaining -= n;
        i += n;
        if (this.remaining === 0) {
          this.remaining = -1;
          this.skip = 2;
        }
      } else {
        const b = buf[i++]!;
        if (b === LF) {
          const size = parseInt(this.sizeLine, 16);
          this.sizeLine = '';
          if (!(size > 0)) this.done = true;
          else this.remaining = size;
        } else if (b !== CR) this.sizeLine += String.fromCharCode(b);
      }
    }
    return ok;
  }
}
