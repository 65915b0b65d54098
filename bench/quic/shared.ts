/** Protocol between the bench client and its peer process, shared by QUIC and node:http2. */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Duplex, Writable } from 'node:stream';

/** Request body starting with this asks the peer for `D <bytes>` bytes. */
export const DOWNLOAD_PREFIX = 'D ';
/** Requests longer than this are uploads: the peer answers with the byte count instead of echoing. */
export const ECHO_LIMIT = 1024;
/** Chunk size for bulk writes. */
export const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** Writes `total` bytes of {@link CHUNK} with backpressure, then ends. */
export async function writeBulk(out: Writable, total: number): Promise<void> {
  let left = total;
  while (left > 0) {
    const n = Math.min(left, CHUNK.length);
    left -= n;
    if (!out.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) await once(out, 'drain');
  }
  out.end();
}

/** Serves one request on a duplex (QUIC stream) or request/response pair (http2). */
export function serveRequest(input: NodeJS.ReadableStream, output: Writable): void {
  let head: Buffer | null = null;
  let count = 0;
  input.on('data', (chunk: Buffer) => {
    if (head === null || head.length < 64) head = head === null ? chunk : Buffer.concat([head, chunk]);
    count += chunk.length;
  });
  input.on('end', () => {
    const text = head === null ? '' : head.subarray(0, 64).toString('latin1');
    if (text.startsWith(DOWNLOAD_PREFIX)) void writeBulk(output, Number(text.slice(2)));
    else if (count > ECHO_LIMIT) output.end(String(count));
    else output.end(head ?? Buffer.alloc(0));
  });
}

/** Counts the bytes of a readable until it ends. */
export function countBytes(input: NodeJS.ReadableStream | Duplex): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    input.on('data', (c: Buffer) => (n += c.length));
    input.once('end', () => resolve(n));
    input.once('error', reject);
  });
}

/** CPU time and QUIC packet count (sent + received, all connections) reported by the peer process on request. */
export interface PeerSample {
  cpu: NodeJS.CpuUsage;
  packets: number;
  /** Datagrams received by the raw UDP sink (quic.bench's UDP ceiling baseline). */
  datagrams?: number;
}

/** The raw UDP sink acknowledges every this many datagrams. */
export const UDP_ACK_EVERY = 32;

/**
 * Pins this process (all its threads) to CPU 0 and `peer` to CPU 1 with `taskset`: on a 2-core box two busy processes
 * otherwise share cores with each other's GC helper threads and the scheduler moves them, which made clean bulk runs
 * bimodal. Describes what it did.
 */
export function pinProcesses(peer: ChildProcess): string {
  try {
    execFileSync('taskset', ['-a', '-pc', '0', String(process.pid)], { stdio: 'ignore' });
    execFileSync('taskset', ['-a', '-pc', '1', String(peer.pid)], { stdio: 'ignore' });
    return 'client on CPU 0, server on CPU 1';
  } catch {
    return 'unpinned (taskset unavailable or fewer than 2 CPUs)';
  }
}
