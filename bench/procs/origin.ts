/** Benchmark child: the bench app (`bench/harness/origin-app.ts`) on a loopback port. */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createOriginApp, type OriginAppKind } from '../harness/origin-app.js';
import { serveChild } from './child.js';

/** Config the driver sends. */
export interface OriginChildConfig {
  kind: OriginAppKind;
}

serveChild<OriginChildConfig, { url: string }>(async ({ kind }) => {
  const { server, wss } = createOriginApp(kind);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    info: { url: `http://127.0.0.1:${port}` },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
});
