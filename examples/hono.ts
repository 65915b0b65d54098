// A Hono app (any object with fetch(request)) served in-process, mixed with a URL origin by hostname.
import { Hono } from 'hono';
import { startTunnel } from 'cftunnel';
import { edgeFromEnv } from './edge-from-env.js';

const api = new Hono().get('/', (c) => c.text('Hello from Hono'));

const tunnel = await startTunnel({
  token: process.env.TUNNEL_TOKEN!,
  ingress: [
    { hostname: 'api.example.com', service: api },
    { service: process.env.ORIGIN_URL ?? 'http://localhost:8080' },
  ],
  ...edgeFromEnv(),
});
console.log('ready', tunnel.connections.length);
process.once('SIGTERM', () => void tunnel.close().then(() => console.log('closed')));
