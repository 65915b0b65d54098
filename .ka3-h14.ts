import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { HttpOriginService } from './src/proxy/index.js';
const srv = http.createServer(() => {}).listen(0, '127.0.0.1', async () => {
  const port = (srv.address() as any).port;
  const svc = new HttpOriginService({ origin: `http://127.0.0.1:${port}` }, {});
  const p = svc.roundTrip({ method: 'GET', url: '/', host: 'x', headers: [], body: null, isWebsocket: false, connectorId: 'c' } as any, new AbortController().signal).catch(() => {});
  await new Promise((r) => srv.once('request', r));
  for (let i = 0; i < 3; i++) { console.log(execFileSync('ss', ['-tnoH', 'state', 'established', `( dport = :${port} )`]).toString()); await new Promise(r => setTimeout(r, 500)); }
  await svc.close();
  srv.closeAllConnections(); srv.close();
});
