import fc from 'fast-check';
import { mutatedBytes } from './mutate.js';
import { rpcServerSeeds } from './seeds.js';
import { serveCloudflared } from '../../src/rpc/tunnel/cloudflared-server.js';
import { Duplex } from 'node:stream';
const samples = fc.sample(mutatedBytes(rpcServerSeeds()), { numRuns: 5000, seed: 24301 });
const keep = setInterval(() => {}, 1000);
for (let i = 0; i < samples.length; i++) {
  const bytes = samples[i]!;
  const stream = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
  const conn = serveCloudflared(stream, { updateConfiguration: (v) => Promise.resolve({ latestAppliedVersion: v, err: null }) });
  if (bytes.length) stream.push(bytes);
  stream.push(null);
  const r = await Promise.race([conn.closed.then(() => 'ok'), new Promise((res) => setTimeout(() => res('HANG'), 1000))]);
  if (r === 'HANG') { console.log('hang at', i, bytes.length, bytes.toString('hex').slice(0, 400), stream.readableEnded, stream.destroyed); break; }
}
clearInterval(keep);
