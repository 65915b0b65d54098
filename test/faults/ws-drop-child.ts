/**
 * Child process of `ws-drop.test.ts`: edge, origin and connector in one process; a WebSocket session is open when
 * the edge drops the connection. Prints `survived` once the connector has reconnected and served a request; a
 * crash (unhandled 'error') exits non-zero before that.
 */
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { startTunnelEnv } from '../helpers/tunnel-env.js';
import { startTestOrigin } from '../helpers/test-origin.js';
import { visit } from '../helpers/visitor.js';

const protocol = process.argv[2] === 'http2' ? 'http2' : 'quic';
const origin = await startTestOrigin();
const env = await startTunnelEnv({ protocol, url: origin.url, haConnections: 1 });
const ws = new WebSocket(`${env.edge.visitorUrl.replace('http', 'ws')}/ws`, { headers: { host: 'ws.test' } });
ws.on('error', () => undefined);
await once(ws, 'open');
ws.send('hello');
await once(ws, 'message');
const back = once(env.tunnel, 'connected');
env.edge.dropConnection(0);
await back;
const res = await visit(env.edge.visitorUrl, { path: '/after' });
console.log(res.status === 200 ? 'survived' : `status ${res.status}`);
ws.terminate();
await env.close();
await origin.close();
