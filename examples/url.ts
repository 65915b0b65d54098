// Publish a local service by URL, like `cloudflared tunnel run --token … --url http://localhost:8080`.
import { startTunnel } from 'cftunnel';
import { edgeFromEnv } from './edge-from-env.js';

const tunnel = await startTunnel({
  token: process.env.TUNNEL_TOKEN!,
  url: process.env.ORIGIN_URL ?? 'http://localhost:8080',
  ...edgeFromEnv(),
});
console.log('ready', JSON.stringify(tunnel.connections.map((c) => [c.connIndex, c.protocol, c.details.locationName])));

tunnel.on('request', (r) => console.log('request', r.method, r.url, r.status));
process.once('SIGTERM', () => void tunnel.close({ graceMs: 5_000 }).then(() => console.log('closed')));
