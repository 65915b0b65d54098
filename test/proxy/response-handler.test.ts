import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { OriginResponseHandler } from '../../src/proxy/response-handler.js';
import { OriginError } from '../../src/proxy/errors.js';

const target = { network: 'tcp', host: '127.0.0.1', port: 9 } as const;

// Drives the handler through undici's dispatch-handler calls, as undici's HTTP/1 client does.

test('onData reports backpressure once the body buffer is full, and reading resumes the origin', async () => {
  const handler = new OriginResponseHandler(new AbortController().signal, target);
  let resumed = 0;
  handler.onConnect(() => {});
  handler.onHeaders(200, [Buffer.from('content-type'), Buffer.from('text/plain')], () => resumed++);
  const res = await handler.response;
  assert.deepEqual(res.headers, [['Content-Type', 'text/plain']]);
  const chunk = Buffer.alloc(4096, 1);
  let accepted = 0;
  while (accepted < 1000 && handler.onData(chunk)) accepted++;
  assert.ok(accepted < 8, `accepted ${accepted} chunks before pushing back`);
  assert.equal(resumed, 0, 'no resume before the consumer reads');
  const readable = once(res.body!, 'readable');
  await readable;
  while (res.body!.read() !== null);
  assert.ok(resumed > 0, 'reading asks the origin for more');
  handler.onComplete(null);
  const ended = once(res.body!, 'end');
  res.body!.resume();
  await ended;
});

test('destroying the body aborts the origin request', async () => {
  const handler = new OriginResponseHandler(new AbortController().signal, target);
  const aborted: Error[] = [];
  handler.onConnect((err) => aborted.push(err ?? new Error('none')));
  handler.onHeaders(200, [], () => {});
  const res = await handler.response;
  res.body!.destroy();
  await once(res.body!, 'close');
  assert.equal(aborted.length, 1);
});

test('an error before headers becomes an OriginError', async () => {
  const handler = new OriginResponseHandler(new AbortController().signal, target);
  handler.onConnect(() => {});
  const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
    code: 'ECONNREFUSED',
    syscall: 'connect',
    address: '127.0.0.1',
    port: 9,
  });
  handler.onError(err);
  await assert.rejects(
    handler.response,
    (e) => e instanceof OriginError && e.message.endsWith(': dial tcp 127.0.0.1:9: connect: connection refused'),
  );
});
