/** What the benchmark origin serves, shared by the origin child and the load generators. */

/** The small origin's fixed answer (a short body, so `small` measures per-request cost, not bytes). */
export const SMALL_BODY = Buffer.from('hello from the cftunnel bench origin\n');

/** Path name of sized downloads. */
export const DOWNLOAD_PATHNAME = '/bytes';

/** Path of a download of `bytes` bytes from the large origin. */
export function downloadPath(bytes: number): string {
  return `${DOWNLOAD_PATHNAME}?n=${bytes}`;
}

/** Path uploads are sent to (the large origin answers `{"bytes":n}` once it swallowed the body). */
export const UPLOAD_PATH = '/upload';
