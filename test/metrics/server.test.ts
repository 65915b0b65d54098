import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'node:test';
import {
  MetricsAddressError,
  MetricsListenError,
  startMetricsServer,
  TunnelMetrics,
  type MetricsServerOptions,
} from '../../src/metrics/index.js';
import { errorText } from '../../src/errors.js';

const CONNECTOR_ID = '6f1a5c9e-3d2b-4c8a-9e7f-0a1b2c3d4e5f';

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
}

function request(port: number, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A TCP listener on a free loopback port, holding it. */
async function occupy(): Promise<net.Server> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

function portOf(s: net.Server): number {
  return (s.address() as net.AddressInfo).port;
}

async function closeNet(s: net.Server): Promise<void> {
  await new Promise((resolve) => s.close(resolve));
}

function baseOptions(extra: Partial<MetricsServerOptions> = {}): MetricsServerOptions {
  return {
    address: '127.0.0.1:0',
    metrics: new TunnelMetrics(),
    connectorId: CONNECTOR_ID,
    readyConnections: () => 0,
    ...extra,
  };
}

describe('metrics server endpoints (§13.1)', () => {
  it('serves /metrics, /healthcheck, /ready, /config and 404', async () => {
    let ready = 0;
    let config: () => Promise<string> = async () => '{"version":3,"config":{"ingress":[]}}';
    const metrics = new TunnelMetrics();
    metrics.requestError();
    const server = await startMetricsServer(
      baseOptions({ metrics, readyConnections: () => ready, config: () => config() }),
    );
    try {
      assert.equal(server.host, '127.0.0.1');
      assert.equal(server.logMessage, `Starting metrics server on 127.0.0.1:${server.port}/metrics`);
      const m = await request(server.port, '/metrics');
      assert.equal(m.status, 200);
      assert.match(m.type ?? '', /^text\/plain; version=0\.0\.4/);
      assert.match(m.body, /^cloudflared_tunnel_request_errors 1$/m);

      assert.deepEqual(await request(server.port, '/healthcheck'), {
        status: 200,
        type: 'text/plain; charset=utf-8',
        body: 'OK\n',
      });

      assert.deepEqual(await request(server.port, '/ready'), {
        status: 503,
        type: 'text/plain; charset=utf-8',
        body: `{"status":503,"readyConnections":0,"connectorId":"${CONNECTOR_ID}"}`,
      });
      ready = 2;
      const r = await request(server.port, '/ready?x=1');
      assert.equal(r.status, 200);
      assert.equal(r.body, `{"status":200,"readyConnections":2,"connectorId":"${CONNECTOR_ID}"}`);

      assert.equal((await request(server.port, '/config')).body, '{"version":3,"config":{"ingress":[]}}');
      config = async () => {
        throw new Error('no config yet');
      };
      assert.deepEqual(await request(server.port, '/config'), {
        status: 500,
        type: 'text/plain; charset=utf-8',
        body: 'ERR: no config yet',
      });

      // cloudflared serves /quicktunnel whether or not the tunnel is a quick tunnel (§20.4): an empty hostname here.
      assert.deepEqual(await request(server.port, '/quicktunnel'), {
        status: 200,
        type: 'text/plain; charset=utf-8',
        body: '{"hostname":""}',
      });
      for (const path of ['/', '/metrics/', '/debug/pprof/cmdline', '/quicktunnel/']) {
        assert.deepEqual(
          await request(server.port, path),
          { status: 404, type: 'text/plain; charset=utf-8', body: '404 page not found\n' },
          path,
        );
      }
      const head = await request(server.port, '/healthcheck', 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
    } finally {
      await server.close();
    }
  });

  it("answers /quicktunnel with the quick tunnel's hostname (§20.4)", async () => {
    const server = await startMetricsServer(baseOptions({ quickTunnelHostname: 'a-b-c-d.trycloudflare.com' }));
    try {
      assert.deepEqual(await request(server.port, '/quicktunnel'), {
        status: 200,
        type: 'text/plain; charset=utf-8',
        body: '{"hostname":"a-b-c-d.trycloudflare.com"}',
      });
    } finally {
      await server.close();
    }
  });

  it('answers 404 on /config when no config callback is given', async () => {
    const server = await startMetricsServer(baseOptions());
    try {
      assert.equal((await request(server.port, '/config')).status, 404);
    } finally {
      await server.close();
    }
  });

  it('stops accepting and closes kept-alive connections on close()', async () => {
    const server = await startMetricsServer(baseOptions());
    const idle = net.connect(server.port, '127.0.0.1');
    await once(idle, 'connect');
    idle.write('GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(idle, 'data');
    const closed = once(idle, 'close');
    await server.close();
    await closed;
    await assert.rejects(request(server.port, '/healthcheck'), { code: 'ECONNREFUSED' });
  });

  it('drops a connection that stalls mid-request once the read timeout passes', { timeout: 20_000 }, async () => {
    const server = await startMetricsServer(baseOptions({ timeoutMs: 200 }));
    try {
      const slow = net.connect(server.port, '127.0.0.1');
      await once(slow, 'connect');
      slow.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      slow.resume();
      await once(slow, 'close');
    } finally {
      await server.close();
    }
  });
});

describe('metrics server address (§13.1)', () => {
  it('with the default address takes the first free known port on 127.0.0.1', async () => {
    const taken = await occupy();
    const probe = await occupy();
    const free = portOf(probe);
    await closeNet(probe);
    const server = await startMetricsServer({
      ...baseOptions(),
      address: undefined,
      knownPorts: [portOf(taken), free],
    });
    try {
      assert.equal(server.host, '127.0.0.1', 'loopback by default');
      assert.equal(server.port, free);
    } finally {
      await server.close();
      await closeNet(taken);
    }
  });

  it('falls back to a random port when every known port is taken', async () => {
    const a = await occupy();
    const b = await occupy();
    const server = await startMetricsServer({
      ...baseOptions(),
      address: 'localhost:0',
      knownPorts: [portOf(a), portOf(b)],
    });
    try {
      assert.equal(server.host, '127.0.0.1');
      assert.ok(![portOf(a), portOf(b)].includes(server.port));
      assert.equal((await request(server.port, '/healthcheck')).body, 'OK\n');
    } finally {
      await server.close();
      await Promise.all([closeNet(a), closeNet(b)]);
    }
  });

  it('binds an explicit address as given and fails when it is taken', async () => {
    const taken = await occupy();
    try {
      await assert.rejects(
        startMetricsServer(baseOptions({ address: `127.0.0.1:${portOf(taken)}` })),
        (err: unknown) => {
          assert.ok(err instanceof MetricsListenError);
          assert.equal(err.code, 'CFT_ERR_METRICS_LISTEN');
          assert.match(
            errorText(err),
            new RegExp(`^failed to bind to address \\(127\\.0\\.0\\.1:${portOf(taken)}\\): .*EADDRINUSE`),
          );
          return true;
        },
      );
    } finally {
      await closeNet(taken);
    }
    const v6 = await startMetricsServer(baseOptions({ address: '[::1]:0' }));
    try {
      assert.equal(v6.host, '::1');
      assert.equal(v6.hostPort, `[::1]:${v6.port}`);
    } finally {
      await v6.close();
    }
  });

  it('rejects an address that is not host:port', async () => {
    await assert.rejects(startMetricsServer(baseOptions({ address: 'localhost' })), MetricsAddressError);
  });
});
