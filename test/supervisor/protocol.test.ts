import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ProtocolFallback,
  classifyError,
  fallsBackAtOnce,
  quicPathBlocked,
  selectProtocol,
} from '../../src/supervisor/protocol.js';
import { RegistrationError } from '../../src/rpc/tunnel/registration-client.js';
import { EdgeDialError } from '../../src/transport/errors.js';
import {
  QuicHandshakeTimeoutError,
  QuicIdleTimeoutError,
  QuicTlsError,
  QuicUdpUnreachableError,
} from '../../src/transport/quic/index.js';

const dup = new RegistrationError({ cause: 'EDUPCONN', shouldRetry: true, retryAfterNs: 0n });
const permanent = new RegistrationError({ cause: 'tunnel deleted', shouldRetry: false, retryAfterNs: 0n });
const recoverable = new RegistrationError({ cause: 'server busy', shouldRetry: true, retryAfterNs: 0n });

test('--protocol selects the initial protocol and whether a fallback exists (§3.3)', () => {
  assert.deepEqual(selectProtocol('auto', true), { initial: 'quic', fallback: 'http2' });
  assert.deepEqual(selectProtocol('quic', true), { initial: 'quic', fallback: undefined });
  assert.deepEqual(selectProtocol('http2', true), { initial: 'http2', fallback: undefined });
  assert.deepEqual(selectProtocol('h2mux', true), { initial: 'http2', fallback: undefined });
  // QUIC unavailable on this platform ⇒ HTTP/2 takes over.
  assert.deepEqual(selectProtocol('auto', false), { initial: 'http2', fallback: undefined });
});

test('errors classify as §2.6 / §3.4 say', () => {
  assert.deepEqual(classifyError(dup), {
    rotateAddress: true,
    connectivity: false,
    recoverable: false,
    quicIdleTimeout: false,
  });
  assert.equal(classifyError(permanent).recoverable, false);
  assert.equal(classifyError(recoverable).recoverable, true);
  assert.deepEqual(classifyError(new QuicIdleTimeoutError()), {
    rotateAddress: true,
    connectivity: false,
    recoverable: true,
    quicIdleTimeout: true,
  });
  assert.deepEqual(classifyError(new EdgeDialError('refused')), {
    rotateAddress: true,
    connectivity: true,
    recoverable: false,
    quicIdleTimeout: false,
  });
  assert.equal(classifyError(new Error('stream broke')).recoverable, true);
});

test('QUIC idle timeout falls back to HTTP/2 at once when QUIC never worked (§3.4 rule 4)', () => {
  const fb = new ProtocolFallback(selectProtocol('auto', true));
  assert.deepEqual(fb.next(new QuicIdleTimeoutError(), false, false), { protocol: 'http2', switched: true });
  assert.equal(fb.inFallback, true);
});

test('dial errors fall back only when the address pool flags max-edge-addr-retries, once --retries is reached', () => {
  const fb = new ProtocolFallback(selectProtocol('auto', true), 'quic');
  assert.deepEqual(fb.next(new EdgeDialError('timeout'), false, true, false), { protocol: 'quic', switched: false });
  assert.deepEqual(fb.next(new EdgeDialError('timeout'), false, false, true), { protocol: 'quic', switched: false });
  assert.deepEqual(fb.next(new EdgeDialError('timeout'), false, true, true), { protocol: 'http2', switched: true });
});

test('no fallback once any connection registered with the selected protocol (§3.4 rule 3)', () => {
  const fb = new ProtocolFallback(selectProtocol('auto', true));
  assert.deepEqual(fb.next(new QuicIdleTimeoutError(), true, true), { protocol: 'quic', switched: false });
});

test('explicit --protocol quic never falls back', () => {
  const fb = new ProtocolFallback(selectProtocol('quic', true));
  assert.deepEqual(fb.next(new QuicIdleTimeoutError(), false, true), { protocol: 'quic', switched: false });
});

test('non-recoverable errors keep the protocol (§3.4 rule 2)', () => {
  const fb = new ProtocolFallback(selectProtocol('auto', true));
  assert.deepEqual(fb.next(permanent, false, true), { protocol: 'quic', switched: false });
  assert.deepEqual(fb.next(dup, false, true), { protocol: 'quic', switched: false });
});

test('after a fallback connection succeeds and later fails recoverably, the index goes back to QUIC (rule 5)', () => {
  const fb = new ProtocolFallback(selectProtocol('auto', true));
  fb.next(new QuicIdleTimeoutError(), false, false);
  assert.equal(fb.protocol, 'http2');
  fb.onConnected();
  assert.deepEqual(fb.next(new Error('connection with edge closed'), false, false), {
    protocol: 'quic',
    switched: true,
  });
});

test('a QUIC dial says UDP is blocked on a handshake timeout or a socket unreachable error, wrapped or not (§3.4, cftunnel)', () => {
  const refused = new QuicUdpUnreachableError(
    Object.assign(new Error('recvmsg ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  );
  assert.equal(refused.errno, 'ECONNREFUSED');
  for (const err of [new QuicHandshakeTimeoutError(5000), refused]) {
    assert.equal(quicPathBlocked(err), true);
    assert.equal(
      quicPathBlocked(new EdgeDialError(`failed to dial to edge with quic: ${err.message}`, { cause: err })),
      true,
    );
  }
  // An answer that refuses us, an established connection going idle, a TCP error: UDP is not the problem.
  assert.equal(quicPathBlocked(new QuicTlsError(0x100 + 48, false)), false);
  assert.equal(quicPathBlocked(new QuicIdleTimeoutError()), false);
  assert.equal(quicPathBlocked(new EdgeDialError('connect ECONNREFUSED 127.0.0.1:7844')), false);
  assert.equal(quicPathBlocked(recoverable), false);
  // Only `auto` falls back at once; an explicit protocol never does.
  assert.equal(fallsBackAtOnce(selectProtocol('auto', true)), true);
  assert.equal(fallsBackAtOnce(selectProtocol('quic', true)), false);
  assert.equal(fallsBackAtOnce(selectProtocol('http2', true)), false);
  assert.equal(fallsBackAtOnce(selectProtocol('auto', false)), false);
});
