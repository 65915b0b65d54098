/**
 * Soak: steady mixed load (small HTTP, uploads, 1 MiB downloads, WebSocket sessions) through a connector and the
 * local edge, with one HA connection dropped by the edge every `--drop-every` seconds. Reports RSS / heap / active
 * handle slopes (least squares over samples after warm-up) and failed requests, split into those explained by an
 * injected fault and those that are not.
 *
 *   node --import tsx bench/soak.ts [--minutes 60] [--protocol quic|http2] [--concurrency 8] [--drop-every 60]
 *     [--sample-every 10] [--max-rss-slope 20] [--websocket true|false]
 *
 * Everything runs in this one process (edge, origin, load, connector), so absolute RSS and handle counts include
 * all of them; what matters is the slope. Exit status 1 when a request failed outside a fault window or the
 * RSS slope is above `--max-rss-slope` MiB/h.
 */
import { parseArgs } from 'node:util';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { LocalEdge } from '../src/local-edge/index.js';
import { Tunnel } from '../src/tunnel.js';
import { makeToken } from '../test/helpers/tunnel-env.js';
import { patternSha256, patternStream, startTestOrigin, type EchoReport } from '../test/helpers/test-origin.js';
import { visit } from '../test/helpers/visitor.js';
import { withTestHooks } from '../src/internal/test-hooks.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    protocol: { type: 'string', default: 'quic' },
    concurrency: { type: 'string', default: '8' },
    'drop-every': { type: 'string', default: '60' },
    'sample-every': { type: 'string', default: '10' },
    'max-rss-slope': { type: 'string', default: '20' },
    /** `false` replaces WebSocket sessions with small requests. */
    websocket: { type: 'string', default: 'true' },
  },
});
const durationMs = Number(values.minutes) * 60_000;
const protocol = values.protocol === 'http2' ? 'http2' : 'quic';
const concurrency = Number(values.concurrency);
const dropEveryMs = Number(values['drop-every']) * 1000;
const sampleEveryMs = Number(values['sample-every']) * 1000;
/** A failure whose request was in flight within this long after a drop is attributed to the drop. */
const FAULT_WINDOW_MS = 5_000;
const DOWNLOAD_BYTES = 1 << 20;
const UPLOAD_BYTES = 256 * 1024;
const WS_MESSAGES = 20;
/** The pool caps HA connections at the number of edge addresses (§12.1), so the one local edge is listed this often. */
const HA_CONNECTIONS = 4;
/** An operation still unanswered after this long counts as failed (stalled); its socket is left to the OS. */
const OPERATION_TIMEOUT_MS = 30_000;

class StalledError extends Error {}

function withTimeout<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stall = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StalledError(`no answer within ${OPERATION_TIMEOUT_MS} ms`)),
      OPERATION_TIMEOUT_MS,
    );
  });
  return Promise.race([p, stall]).finally(() => clearTimeout(timer));
}

interface Sample {
  t: number;
  rss: number;
  heapUsed: number;
  handles: number;
  done: number;
}

const counts = { ok: 0, failedInFault: 0, failedOutsideFault: 0, stalled: 0, byKind: {} as Record<string, number> };
const failures: string[] = [];
const drops: number[] = [];

function explainedByFault(start: number, end: number): boolean {
  return drops.some((d) => d <= end && d >= start - FAULT_WINDOW_MS);
}

async function one(kind: string, visitorUrl: string, downloadSha: string): Promise<void> {
  switch (kind) {
    case 'small': {
      const r = await visit(visitorUrl, { path: '/echo?x=1' });
      if (r.status !== 200) throw new Error(`small: status ${r.status}`);
      return;
    }
    case 'upload': {
      const r = await visit(visitorUrl, {
        method: 'POST',
        path: '/up',
        body: patternStream(UPLOAD_BYTES, 7),
        headers: { 'content-length': String(UPLOAD_BYTES) },
      });
      const report = JSON.parse(r.body.toString('utf8')) as EchoReport;
      if (r.status !== 200 || report.bodyLength !== UPLOAD_BYTES)
        throw new Error(`upload: status ${r.status} length ${report.bodyLength}`);
      return;
    }
    case 'download': {
      const r = await visit(visitorUrl, { path: `/download?size=${DOWNLOAD_BYTES}&seed=3`, hashBody: true });
      if (r.status !== 200 || r.sha256 !== downloadSha)
        throw new Error(`download: status ${r.status} bytes ${r.bytes}`);
      return;
    }
    default: {
      const ws = new WebSocket(`${visitorUrl.replace('http', 'ws')}/ws`, { headers: { host: 'ws.test' } });
      try {
        await once(ws, 'open');
        for (let i = 0; i < WS_MESSAGES; i++) {
          ws.send(`m${i}`);
          const data = await nextMessage(ws);
          if (data.toString() !== `echo:m${i}`) throw new Error(`ws: got ${data.toString()}`);
        }
      } finally {
        ws.terminate();
      }
    }
  }
}

/** The next message, or a failure when the socket closes first (`once(ws, 'message')` would wait forever). */
function nextMessage(ws: WebSocket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: Buffer): void => {
      ws.off('close', onClose);
      resolve(data);
    };
    const onClose = (code: number): void => {
      ws.off('message', onMessage);
      reject(new Error(`ws: closed with ${code} before the echo`));
    };
    ws.once('message', onMessage);
    ws.once('close', onClose);
  });
}

function pickKind(i: number): string {
  const r = i % 20;
  if (r < 15) return 'small';
  if (r < 17) return 'upload';
  if (r < 18) return 'download';
  return values.websocket === 'false' ? 'small' : 'websocket';
}

function slopePerHour(samples: Sample[], key: keyof Sample): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mx = samples.reduce((s, p) => s + p.t, 0) / n;
  const my = samples.reduce((s, p) => s + p[key], 0) / n;
  let num = 0;
  let den = 0;
  for (const p of samples) {
    num += (p.t - mx) * (p[key] - my);
    den += (p.t - mx) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 3_600_000;
}

async function main(): Promise<number> {
  const origin = await startTestOrigin();
  const { token } = makeToken();
  const edge = await LocalEdge.start({ tunnels: [token] });
  const tunnel = new Tunnel(
    withTestHooks(
      {
        token,
        url: origin.url,
        edge: Array.from({ length: HA_CONNECTIONS }, () => `127.0.0.1:${edge.address.port}`),
        caCert: edge.caPem,
        protocol,
        haConnections: HA_CONNECTIONS,
      },
      { haSpacingMs: 0 },
    ),
  );
  await tunnel.ready();
  const downloadSha = await patternSha256(DOWNLOAD_BYTES, 3);
  const started = Date.now();
  const samples: Sample[] = [];
  let seq = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    samples.push({
      t: Date.now() - started,
      rss: m.rss,
      heapUsed: m.heapUsed,
      handles: process.getActiveResourcesInfo().length,
      done: counts.ok,
    });
    const s = samples.at(-1)!;
    console.error(
      `t=${(s.t / 1000).toFixed(0)}s rss=${(s.rss / 2 ** 20).toFixed(1)}MiB heap=${(s.heapUsed / 2 ** 20).toFixed(1)}MiB handles=${s.handles} ok=${counts.ok} failedInFault=${counts.failedInFault} failedOutside=${counts.failedOutsideFault} stalled=${counts.stalled} conns=${tunnel.connections.length} edgeConns=${edge.connections().length}`,
    );
  };
  const sampler = setInterval(sample, sampleEveryMs);
  const dropper = setInterval(() => {
    const live = edge.connections();
    if (live.length === 0) return;
    drops.push(Date.now());
    edge.dropConnection(live[Math.floor(Math.random() * live.length)]!.id);
  }, dropEveryMs);
  const worker = async (): Promise<void> => {
    while (Date.now() - started < durationMs) {
      const kind = pickKind(seq++);
      const t0 = Date.now();
      try {
        await withTimeout(one(kind, edge.visitorUrl, downloadSha));
        counts.ok++;
        counts.byKind[kind] = (counts.byKind[kind] ?? 0) + 1;
      } catch (err) {
        if (err instanceof StalledError) counts.stalled++;
        if (explainedByFault(t0, Date.now())) counts.failedInFault++;
        else {
          counts.failedOutsideFault++;
          if (failures.length < 20)
            failures.push(`${kind} at ${((t0 - started) / 1000).toFixed(1)}s: ${(err as Error).message}`);
        }
      }
    }
  };
  sample();
  await Promise.all(Array.from({ length: concurrency }, worker));
  clearInterval(dropper);
  clearInterval(sampler);
  sample();
  await tunnel.close({ graceMs: 2000 });
  await edge.close();
  await origin.close();
  const steady = samples.slice(Math.max(1, Math.floor(samples.length / 10)));
  const summary = {
    protocol,
    minutes: Number(((Date.now() - started) / 60_000).toFixed(1)),
    concurrency,
    drops: drops.length,
    requests: counts,
    throughputPerSecond: Number((counts.ok / ((Date.now() - started) / 1000)).toFixed(1)),
    rssMiB: {
      first: samples[0]!.rss / 2 ** 20,
      last: samples.at(-1)!.rss / 2 ** 20,
      max: Math.max(...samples.map((s) => s.rss)) / 2 ** 20,
    },
    rssSlopeMiBPerHour: Number((slopePerHour(steady, 'rss') / 2 ** 20).toFixed(2)),
    heapSlopeMiBPerHour: Number((slopePerHour(steady, 'heapUsed') / 2 ** 20).toFixed(2)),
    handleSlopePerHour: Number(slopePerHour(steady, 'handles').toFixed(2)),
    handles: {
      first: samples[0]!.handles,
      last: samples.at(-1)!.handles,
      max: Math.max(...samples.map((s) => s.handles)),
    },
    failuresOutsideFaults: failures,
  };
  console.log(JSON.stringify(summary, null, 2));
  return counts.failedOutsideFault === 0 && summary.rssSlopeMiBPerHour <= Number(values['max-rss-slope']) ? 0 : 1;
}

process.exitCode = await main();
