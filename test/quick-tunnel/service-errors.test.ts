/**
 * Each way the quick-tunnel service can fail (docs/protocol.md §20.2), against real HTTP servers on loopback: nothing
 * listening, a non-JSON answer, `"success": false`, HTTP 429, and JSON without usable credentials. Every failure is a
 * typed error with a stable code, and no secret from a broken answer reaches a message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorText } from '../../src/errors.js';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  requestQuickTunnel,
  startQuickTunnel,
  QuickTunnelRateLimitedError,
  QuickTunnelRefusedError,
  QuickTunnelResponseError,
  QuickTunnelUnreachableError,
} from '../../src/quick-tunnel/index.js';
import { closedPort, stubService as service } from './service-stub.js';

const UA = 'cftunnel-test/1';

test('the request: POST <service>/tunnel, no body, Content-Type application/json, the User-Agent given; a trailing slash is dropped', async (t) => {
  const secret = randomBytes(32);
  const id = randomUUID();
  const svc = await service(t, (res) =>
    res.end(
      JSON.stringify({
        success: true,
        result: {
          id,
          name: 'n',
          hostname: 'a-b-c.example.test',
          account_tag: 'acct',
          secret: secret.toString('base64'),
        },
        errors: [],
      }),
    ),
  );
  const grant = await requestQuickTunnel({ serviceUrl: `${svc.url}/`, userAgent: UA });
  assert.equal(svc.seen.length, 1);
  assert.equal(svc.seen[0]!.method, 'POST');
  assert.equal(svc.seen[0]!.url, '/tunnel');
  assert.equal(svc.seen[0]!.bodyBytes, 0);
  assert.equal(svc.seen[0]!.headers['content-type'], 'application/json');
  assert.equal(svc.seen[0]!.headers['user-agent'], UA);
  assert.equal(grant.hostname, 'a-b-c.example.test');
  assert.equal(grant.url, 'https://a-b-c.example.test');
  assert.equal(grant.credentials.tunnelId, id);
  assert.equal(grant.credentials.accountTag, 'acct');
  assert.ok(grant.credentials.tunnelSecret.bytes().equals(secret));
});

test('unreachable service: QuickTunnelUnreachableError (retryable), naming the service and the connection error', async () => {
  const port = await closedPort();
  const err = await requestQuickTunnel({ serviceUrl: `http://127.0.0.1:${port}`, userAgent: UA }).then(
    () => assert.fail('resolved'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof QuickTunnelUnreachableError);
  assert.equal(err.code, 'CFT_ERR_QUICK_SERVICE_UNREACHABLE');
  assert.equal(err.retryable, true);
  assert.match(
    errorText(err),
    new RegExp(`failed to request quick Tunnel from http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
  );
});

test('a service that never answers times out as QuickTunnelUnreachableError', async (t) => {
  const svc = await service(t, () => undefined);
  await assert.rejects(
    requestQuickTunnel({ serviceUrl: svc.url, userAgent: UA, timeoutMs: 200 }),
    (e: unknown) => e instanceof QuickTunnelUnreachableError && /timeout|aborted/i.test(errorText(e)),
  );
});

test('a non-JSON answer: QuickTunnelResponseError with the HTTP status and the start of the body', async (t) => {
  const svc = await service(t, (res) =>
    res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad gateway</body></html>'),
  );
  const err = await requestQuickTunnel({ serviceUrl: svc.url, userAgent: UA }).catch((e: unknown) => e);
  assert.ok(err instanceof QuickTunnelResponseError);
  assert.equal(err.code, 'CFT_ERR_QUICK_RESPONSE');
  assert.equal(err.status, 502);
  assert.equal(err.retryable, false);
  assert.match(
    err.message,
    /failed to unmarshal quick Tunnel \(HTTP 502\): the answer is not JSON: "<html><body>Bad gateway<\/body><\/html>"/,
  );
});

test('broken JSON carrying a secret: the excerpt masks it', async (t) => {
  const secret = randomBytes(32).toString('base64');
  const svc = await service(t, (res) =>
    res.end(`{"success":true,"result":{"id":"${randomUUID()}","secret":"${secret}"`),
  );
  const err = await requestQuickTunnel({ serviceUrl: svc.url, userAgent: UA }).catch((e: unknown) => e);
  assert.ok(err instanceof QuickTunnelResponseError);
  assert.equal(err.message.includes(secret), false);
  assert.match(err.message, /\\"secret\\":\\"\[redacted\]/);
});

test('"success": false: QuickTunnelRefusedError carrying every service error', async (t) => {
  const svc = await service(t, (res) =>
    res.writeHead(400, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        success: false,
        result: null,
        errors: [
          { code: 1003, message: 'quick tunnels are disabled' },
          { code: 1004, message: 'try later' },
        ],
      }),
    ),
  );
  const err = await requestQuickTunnel({ serviceUrl: svc.url, userAgent: UA }).catch((e: unknown) => e);
  assert.ok(err instanceof QuickTunnelRefusedError);
  assert.equal(err.code, 'CFT_ERR_QUICK_REFUSED');
  assert.equal(err.status, 400);
  assert.deepEqual(err.errors, [
    { code: 1003, message: 'quick tunnels are disabled' },
    { code: 1004, message: 'try later' },
  ]);
  assert.match(
    err.message,
    /refused to create a tunnel \(HTTP 400\): 1003: quick tunnels are disabled; 1004: try later$/,
  );
});

test('HTTP 429: QuickTunnelRateLimitedError (retryable) with Retry-After and the plain-text body', async (t) => {
  const svc = await service(t, (res) =>
    res.writeHead(429, { 'retry-after': '30', 'content-type': 'text/plain' }).end('error code: 1015'),
  );
  const err = await requestQuickTunnel({ serviceUrl: svc.url, userAgent: UA }).catch((e: unknown) => e);
  assert.ok(err instanceof QuickTunnelRateLimitedError);
  assert.equal(err.code, 'CFT_ERR_QUICK_RATE_LIMITED');
  assert.equal(err.retryable, true);
  assert.equal(err.retryAfterSeconds, 30);
  assert.match(err.message, /answered 429 Too Many Requests \(retry after 30 s\): error code: 1015$/);
});

test('JSON that is not usable credentials: each missing or malformed member is named', async (t) => {
  const good = {
    id: randomUUID(),
    name: 'n',
    hostname: 'h.example.test',
    account_tag: 'acct',
    secret: randomBytes(32).toString('base64'),
  };
  const cases: Array<[unknown, RegExp]> = [
    [[1, 2], /not a JSON object/],
    [{ success: true }, /"result" is missing/],
    [{ success: true, result: { ...good, id: 'nope' } }, /failed to parse quick Tunnel ID/],
    [{ success: true, result: { ...good, secret: 'not base64!' } }, /"result\.secret" is not standard base64/],
    [{ success: true, result: { ...good, hostname: '' } }, /"result\.hostname" is missing/],
    [{ success: true, result: { ...good, account_tag: 7 } }, /"result\.account_tag" is missing or not a string/],
  ];
  let next = 0;
  const svc = await service(t, (res) => res.end(JSON.stringify(cases[next++]![0])));
  for (const [, pattern] of cases) {
    await assert.rejects(
      requestQuickTunnel({ serviceUrl: svc.url, userAgent: UA }),
      (e: unknown) => e instanceof QuickTunnelResponseError && pattern.test(e.message),
    );
  }
  // Go's encoding/json matches member names case-insensitively: so does the parser.
  const upper = await service(t, (res) =>
    res.end(
      JSON.stringify({
        Success: true,
        Result: { ID: good.id, Hostname: good.hostname, Account_Tag: 'acct', Secret: good.secret },
      }),
    ),
  );
  assert.equal((await requestQuickTunnel({ serviceUrl: upper.url, userAgent: UA })).credentials.tunnelId, good.id);
});

test('startQuickTunnel rejects with the service error and starts no connector', async () => {
  const port = await closedPort();
  await assert.rejects(
    startQuickTunnel({ origin: 'http://127.0.0.1:1', serviceUrl: `http://127.0.0.1:${port}`, edge: ['127.0.0.1:1'] }),
    { code: 'CFT_ERR_QUICK_SERVICE_UNREACHABLE' },
  );
  await assert.rejects(startQuickTunnel({ origin: '' }), { code: 'CFT_ERR_OPTIONS' });
});

test('an aborted request rejects with CFT_ERR_ABORTED, not a service error', async (t) => {
  const svc = await service(t, () => undefined);
  const abort = new AbortController();
  const pending = requestQuickTunnel({ serviceUrl: svc.url, userAgent: UA, signal: abort.signal });
  await svc.firstRequest;
  abort.abort();
  await assert.rejects(pending, { code: 'CFT_ERR_ABORTED' });
});
