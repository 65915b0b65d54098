/**
 * Reading an `originRequest.caPool` file (docs/protocol.md §9.3 step 3, §10.5). The path comes from a remote
 * configuration, so it may name anything on the connector's host: it is read asynchronously, only when it is a
 * regular file, and only up to {@link MAX_CA_POOL_BYTES}. A synchronous unbounded read of `/dev/zero` held the event
 * loop and grew the heap past 10 GB; a FIFO would block the read forever.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { CftunnelError } from '../errors.js';

/**
 * Largest CA pool read. A system-wide bundle (Debian's `ca-certificates.crt`, Mozilla's `cacert.pem`) is about
 * 220 KB; an origin's own CA is a few KB.
 */
export const MAX_CA_POOL_BYTES = 4 * 1024 * 1024;

/** Go's os error text for the errno codes opening a file commonly fails with (cloudflared quotes it). */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
};

/** The `caPool` file cannot be used; `path` names it and the message says why. */
export class CaPoolError extends CftunnelError {
  constructor(
    /** The configured `caPool` path. */
    readonly path: string,
    reason: string,
    options: { cause?: unknown } = {},
  ) {
    super('CFT_ERR_CA_POOL', `unable to read the file ${path} for --origin-ca-pool: ${reason}`, {
      retryable: false,
      ...options,
    });
  }
}

/** Reads to EOF, refusing more than the limit (a file may grow after fstat, and /proc files report size 0). */
async function readBounded(handle: FileHandle, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    total += bytesRead;
    if (total > MAX_CA_POOL_BYTES) throw new CaPoolError(path, `larger than ${MAX_CA_POOL_BYTES} bytes`);
    chunks.push(chunk.subarray(0, bytesRead));
  }
}

/**
 * Reads a CA pool file: a regular file of at most {@link MAX_CA_POOL_BYTES}.
 *
 * @throws {CaPoolError} when it cannot be opened, is not a regular file (device, FIFO, directory, socket) or is larger.
 */
export async function readCaPool(path: string): Promise<Buffer> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever (in a libuv thread, but still forever).
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new CaPoolError(path, `open ${path}: ${ERRNO_TEXT[code] ?? code}`, { cause });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new CaPoolError(path, 'not a regular file');
    if (stat.size > MAX_CA_POOL_BYTES) throw new CaPoolError(path, `larger than ${MAX_CA_POOL_BYTES} bytes`);
    return await readBounded(handle, path);
  } catch (cause) {
    if (cause instanceof CaPoolError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new CaPoolError(path, `read ${path}: ${ERRNO_TEXT[code] ?? code}`, { cause });
  } finally {
    await handle.close();
  }
}
