// An Express app served in-process: no port is opened; WebSockets through `ws` work too.
import http from 'node:http';
import express from 'express';
import { WebSocketServer } from 'ws';
import { startTunnel } from 'cftunnel';
import { edgeFromEnv } from './edge-from-env.js';

const app = express();
app.get('/', (_req, res) => res.send('Hello from Express, through the tunnel'));
const server = http.createServer(app);
new WebSocketServer({ server }).on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));

const tunnel = await startTunnel({ token: process.env.TUNNEL_TOKEN!, origin: server, ...edgeFromEnv() });
console.log('ready', tunnel.connections.length);
process.once('SIGTERM', () => void tunnel.close().then(() => console.log('closed')));
