// A Fastify app served in-process: pass its server once the app is ready.
import Fastify from 'fastify';
import { startTunnel } from 'cftunnel';
import { edgeFromEnv } from './edge-from-env.js';

const app = Fastify();
app.get('/', async () => ({ hello: 'from Fastify' }));
await app.ready();

const tunnel = await startTunnel({ token: process.env.TUNNEL_TOKEN!, origin: app.server, ...edgeFromEnv() });
console.log('ready', tunnel.connections.length);
process.once(
  'SIGTERM',
  () =>
    void tunnel
      .close()
      .then(() => app.close())
      .then(() => console.log('closed')),
);
