import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { TunnelMetrics } from '../../src/metrics/index.js';

/** `# TYPE` of every metric in an exposition. */
function types(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** The value of one sample line, e.g. `name{a="b"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('TunnelMetrics (§13.2)', () => {
  it("exposes cloudflared's metric names with their types", async () => {
    const text = await new TunnelMetrics({ buildInfo: { version: '0.1.0' } }).exposition();
    assert.deepEqual(Object.fromEntries(types(text)), {
      cloudflared_tunnel_ha_connections: 'gauge',
      cloudflared_tunnel_total_requests: 'counter',
      cloudflared_tunnel_concurrent_requests_per_tunnel: 'gauge',
      cloudflared_tunnel_response_by_code: 'counter',
      cloudflared_tunnel_request_errors: 'counter',
      cloudflared_tunnel_server_locations: 'gauge',
      cloudflared_tunnel_tunnel_register_success: 'counter',
      cloudflared_tunnel_tunnel_register_fail: 'counter',
      cloudflared_config_local_config_pushes: 'counter',
      cloudflared_config_local_config_pushes_errors: 'counter',
      cloudflared_orchestration_config_version: 'gauge',
      cloudflared_rpc_client_operations: 'counter',
      cloudflared_rpc_client_failures: 'counter',
      cloudflared_rpc_client_latency_secs: 'histogram',
      cloudflared_rpc_server_operations: 'counter',
      cloudflared_rpc_server_failures: 'counter',
      cloudflared_rpc_server_latency_secs: 'histogram',
      build_info: 'gauge',
    });
    assert.equal(
      sample(text, `build_info{goversion="node${process.versions.node}",type="",revision="",version="0.1.0"}`),
      1,
    );
  });

  it('counts requests, responses and errors', async () => {
    const m = new TunnelMetrics();
    m.requestStarted();
    m.requestStarted();
    m.originResponse(200);
    m.originResponse(200);
    m.originResponse(502);
    m.requestFinished();
    m.requestError();
    m.haConnectionStarted();
    m.haConnectionStarted();
    m.haConnectionEnded();
    m.configVersion(7);
    const text = await m.exposition();
    assert.equal(sample(text, 'cloudflared_tunnel_total_requests'), 2);
    assert.equal(sample(text, 'cloudflared_tunnel_concurrent_requests_per_tunnel'), 1);
    assert.equal(sample(text, 'cloudflared_tunnel_response_by_code{status_code="200"}'), 2);
    assert.equal(sample(text, 'cloudflared_tunnel_response_by_code{status_code="502"}'), 1);
    assert.equal(sample(text, 'cloudflared_tunnel_request_errors'), 1);
    assert.equal(sample(text, 'cloudflared_tunnel_ha_connections'), 1);
    assert.equal(sample(text, 'cloudflared_orchestration_config_version'), 7);
    m.requestFinished();
    const after = await m.exposition();
    assert.equal(sample(after, 'cloudflared_tunnel_concurrent_requests_per_tunnel'), 0);
  });

  it('tracks registrations and moves server_locations per connection', async () => {
    const m = new TunnelMetrics();
    m.registered(0, 'lhr01');
    m.registered(0, 'lhr01');
    m.registered(1, 'ams01');
    m.registered(0, 'cdg01');
    m.registrationFailed('dup_edge_conn');
    m.registrationFailed('server_error');
    m.registrationFailed('server_error');
    const text = await m.exposition();
    assert.equal(sample(text, 'cloudflared_tunnel_tunnel_register_success{rpcName="registerConnection"}'), 4);
    assert.equal(
      sample(text, 'cloudflared_tunnel_tunnel_register_fail{error="dup_edge_conn",rpcName="registerConnection"}'),
      1,
    );
    assert.equal(
      sample(text, 'cloudflared_tunnel_tunnel_register_fail{error="server_error",rpcName="registerConnection"}'),
      2,
    );
    assert.equal(sample(text, 'cloudflared_tunnel_server_locations{connection_id="0",edge_location="lhr01"}'), 0);
    assert.equal(sample(text, 'cloudflared_tunnel_server_locations{connection_id="0",edge_location="cdg01"}'), 1);
    assert.equal(sample(text, 'cloudflared_tunnel_server_locations{connection_id="1",edge_location="ams01"}'), 1);
  });

  it('counts failed local config pushes in both counters, like cloudflared', async () => {
    const m = new TunnelMetrics();
    m.localConfigPushed(true);
    m.localConfigPushed(false);
    const text = await m.exposition();
    assert.equal(sample(text, 'cloudflared_config_local_config_pushes'), 2);
    assert.equal(sample(text, 'cloudflared_config_local_config_pushes_errors'), 1);
  });

  it('observes RPC calls: operations, failures and latency, passing results and errors through', async () => {
    const m = new TunnelMetrics();
    assert.equal(await m.observeRpcClient('registration', 'register_connection', async () => 'ok'), 'ok');
    const boom = new Error('boom');
    await assert.rejects(
      m.observeRpcClient('registration', 'register_connection', async () => Promise.reject(boom)),
      boom,
    );
    await m.observeRpcServer('config', 'update_configuration', async () => undefined);
    const text = await m.exposition();
    const client = '{handler="registration",method="register_connection"}';
    assert.equal(sample(text, `cloudflared_rpc_client_operations${client}`), 2);
    assert.equal(sample(text, `cloudflared_rpc_client_failures${client}`), 1);
    assert.equal(sample(text, `cloudflared_rpc_client_latency_secs_count${client}`), 2);
    assert.equal(
      sample(
        text,
        'cloudflared_rpc_client_latency_secs_bucket{le="+Inf",handler="registration",method="register_connection"}',
      ),
      2,
    );
    assert.equal(sample(text, 'cloudflared_rpc_server_operations{handler="config",method="update_configuration"}'), 1);
    assert.equal(
      sample(text, 'cloudflared_rpc_server_failures{handler="config",method="update_configuration"}'),
      undefined,
    );
  });

  it('gives every tunnel its own registry and leaves the global one alone', async () => {
    const a = new TunnelMetrics({ buildInfo: { version: '1' } });
    const b = new TunnelMetrics({ buildInfo: { version: '1' } });
    a.requestError();
    assert.equal(sample(await a.exposition(), 'cloudflared_tunnel_request_errors'), 1);
    assert.equal(sample(await b.exposition(), 'cloudflared_tunnel_request_errors'), 0);
    assert.equal(globalRegistry.getSingleMetric('cloudflared_tunnel_request_errors'), undefined);
  });

  it('adds process and runtime metrics only when asked', async () => {
    assert.equal(types(await new TunnelMetrics().exposition()).has('process_cpu_user_seconds_total'), false);
    assert.equal(
      types(await new TunnelMetrics({ processMetrics: true }).exposition()).get('process_cpu_user_seconds_total'),
      'counter',
    );
  });
});

describe('RPC latency buckets', () => {
  it("are 50 ms ×3 over five buckets, printed like Go's float formatting", async () => {
    const m = new TunnelMetrics();
    await m.observeRpcServer('registration', 'unregister_connection', async () => undefined);
    const les = [...(await m.exposition()).matchAll(/^cloudflared_rpc_server_latency_secs_bucket\{le="([^"]+)"/gm)].map(
      (x) => x[1],
    );
    assert.deepEqual(les, ['0.05', '0.15000000000000002', '0.45000000000000007', '1.35', '4.050000000000001', '+Inf']);
  });
});
