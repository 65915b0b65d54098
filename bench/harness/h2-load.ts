/**
 * The raw `node:http2` baseline of the request path: the same number of requests in flight as autocannon keeps,
 * spread over as many TLS sessions as the tunnel has HA connections, against a bare HTTP/2 server.
 */
import http2 from 'node:http2';
import { once } from 'node:events';
import { LatencyRecorder, type RateFigures } from './latency.js';

/** SNI the local edge's test certificate carries for HTTP/2 (docs/protocol.md §8.1). */
export const H2_SERVER_NAME = 'h2.cftunnel.com';

/** Connects `count` HTTP/2 sessions to 127.0.0.1:`port` trusting `caPem`. */
export async function connectH2Sessions(
  port: number,
  caPem: string,
  count: number,
): Promise<http2.ClientHttp2Session[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const session = http2.connect(`https://127.0.0.1:${port}`, { ca: caPem, servername: H2_SERVER_NAME });
      await once(session, 'connect');
      return session;
    }),
  );
}

/** Closes sessions and waits for them to be gone. */
export async function closeH2Sessions(sessions: http2.ClientHttp2Session[]): Promise<void> {
  await Promise.all(sessions.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
}

function oneGet(session: http2.ClientHttp2Session, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'GET', ':path': path });
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('error', reject);
    req.resume();
    req.on('end', () => resolve(status));
  });
}

/** Keeps `inFlight` GETs of `path` going for `durationSeconds` over `sessions` (round-robin). */
export async function h2Load(
  sessions: http2.ClientHttp2Session[],
  path: string,
  inFlight: number,
  durationSeconds: number,
): Promise<RateFigures> {
  const latencies = new LatencyRecorder();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(durationSeconds * 1e9));
  const worker = async (i: number): Promise<void> => {
    const session = sessions[i % sessions.length]!;
    while (process.hrtime.bigint() < deadline) {
      const t = process.hrtime.bigint();
      try {
        const status = await oneGet(session, path);
        if (status >= 200 && status < 300) latencies.record(t);
        else latencies.errors++;
      } catch {
        latencies.errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, (_, i) => worker(i)));
  return latencies.figures(Number(process.hrtime.bigint() - start) / 1e9);
}
