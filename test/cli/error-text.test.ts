/**
 * How error messages compose with their causes (src/errors.ts): for every code of the catalogue (docs/errors.md), an
 * error built the way the code builds it (Go-style, its message ending with the cause's text where it has a cause)
 * renders — in a pino log line and in the CLI's one-line error — without repeating any cause's text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { CftunnelError, errorText } from '../../src/errors.js';
import { CapnpDecodeError } from '../../src/capnp/reader.js';
import { CapnpFrameError } from '../../src/capnp/framing.js';
import { CaCertFileError } from '../../src/cli/tunnel-run-command.js';
import { EdgeConfigFileError } from '../../src/cli/edge-command.js';
import { ConfigFileValueError } from '../../src/cli/config-file.js';
import { LogFileError, UnsupportedFlagError, UsageError } from '../../src/cli/errors.js';
import { DurationSyntaxError } from '../../src/util/go-duration.js';
import { EdgeRequestError } from '../../src/connection/edge-request.js';
import { ControlStreamTimeoutError } from '../../src/connection/http2-connection.js';
import { EdgeConnectionClosedError, ResponseIncompleteError } from '../../src/connection/errors.js';
import { RequestFailedError } from '../../src/proxy/errors.js';
import {
  ConnectRequestFrameError,
  TruncatedPreambleError,
  UnknownStreamSignatureError,
} from '../../src/wire/preamble.js';
import { SerializedHeadersError } from '../../src/wire/serialized-headers.js';
import {
  DnsOverTlsError,
  EdgeDiscoveryError,
  EdgeDiscoveryOptionError,
  NoFreeEdgeAddressError,
  ProtocolPercentageError,
} from '../../src/edge-discovery/errors.js';
import { IngressConfigError, UnsupportedServiceError } from '../../src/ingress/errors.js';
import { Re2SyntaxError } from '../../src/ingress/regex.js';
import { MetricsAddressError, MetricsListenError } from '../../src/metrics/errors.js';
import { ConfigFileError } from '../../src/orchestration/local-config.js';
import { AccessTokenError } from '../../src/proxy/access.js';
import {
  InvalidOriginServiceError,
  OriginConnectTimeoutError,
  OriginError,
  OriginRequestCancelledError,
} from '../../src/proxy/errors.js';
import {
  RpcAbortedError,
  RpcCanceledError,
  RpcDisconnectedError,
  RpcExceptionError,
  RpcFrameError,
  RpcProtocolError,
  RpcServerException,
  RpcTimeoutError,
} from '../../src/rpc/errors.js';
import { RegistrationError } from '../../src/rpc/tunnel/registration-client.js';
import { InitialConnectionError, UnauthorizedTokenError } from '../../src/supervisor/supervisor.js';
import { CaPoolError } from '../../src/ingress/ca-pool.js';
import { TokenError, TokenFileError } from '../../src/token/errors.js';
import { EdgeDialError, EdgeTlsError } from '../../src/transport/errors.js';
import {
  QuicConfigError,
  QuicHandshakeTimeoutError,
  QuicIdleTimeoutError,
  QuicLocalCloseError,
  QuicPeerClosedError,
  QuicStreamFailedError,
  QuicStreamResetError,
  QuicStreamStoppedError,
  QuicTlsError,
  QuicTransportError,
  QuicUdpUnreachableError,
  QuicUnavailableError,
} from '../../src/transport/quic/errors.js';
import {
  QuickTunnelRateLimitedError,
  QuickTunnelRefusedError,
  QuickTunnelResponseError,
  QuickTunnelUnreachableError,
} from '../../src/quick-tunnel/errors.js';
import { CaCertError } from '../../src/transport/tls/trust.js';
import { PostQuantumUnsupportedError } from '../../src/transport/tls/curves.js';
import { TunnelOptionsError } from '../../src/tunnel.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A lower-level error with a text of its own, and a cause of its own. */
function lowLevel(): Error {
  return new Error('connect ECONNREFUSED 127.0.0.1:7844', { cause: new Error('socket closed by peer') });
}

/** `prefix: <cause text>`, the way the code wraps a cause (Go's errors.Wrap style). */
const wrap = (prefix: string, cause: Error): string => `${prefix}: ${cause.message}`;

/** One error per catalogue code, each built as its call sites build it. */
function everyCode(): CftunnelError[] {
  const c = lowLevel;
  const quicTls = new QuicTlsError(0x100 + 48, false);
  const dial = c();
  return [
    new CftunnelError('CFT_ERR_ABORTED', 'tunnel startup aborted', { cause: c() }),
    new AccessTokenError(c()),
    ((e) => new CaCertFileError('/etc/ca.pem', e))(c()),
    ((e) => new CaCertError(wrap('certificate 1 of the CA bundle is not a valid X.509 certificate', e), { cause: e }))(
      c(),
    ),
    ((e) => new CapnpDecodeError(wrap('bad pointer', e), { cause: e }))(c()),
    ((e) => new CapnpFrameError(wrap('bad frame', e), { cause: e }))(c()),
    ((e) => new ConfigFileError(wrap('error parsing YAML in config file at /c.yml', e), e))(c()),
    new ConfigFileValueError('/c.yml', 'expected boolean found string for no-autoupdate'),
    ((e) => new ConnectRequestFrameError(wrap('malformed ConnectRequest', e), e))(c()),
    new ControlStreamTimeoutError(),
    ((e) => new EdgeConnectionClosedError(e))(c()),
    ((e) => new RequestFailedError(e))(c()),
    ((e) => new ResponseIncompleteError('the edge stream closed before the response was complete', e))(c()),
    ((e) => new DnsOverTlsError(wrap('DNS-over-TLS lookup of x via 1.1.1.1:853 failed', e), { cause: e }))(c()),
    new DurationSyntaxError('soon'),
    ((e) => new EdgeConfigFileError('/edge.json', e.message, e))(c()),
    new EdgeDialError(wrap('failed to dial to edge with quic', new QuicHandshakeTimeoutError(5000)), {
      cause: new QuicHandshakeTimeoutError(5000),
    }),
    ((e) =>
      new EdgeDiscoveryError(wrap('Could not lookup srv records on _v2-origintunneld._tcp.argotunnel.com', e), {
        cause: e,
      }))(c()),
    new EdgeDiscoveryOptionError('invalid value for edge-ip-version: 7'),
    new NoFreeEdgeAddressError(),
    new EdgeRequestError('header Key: x malformed'),
    new EdgeTlsError('unknown-authority', wrap('failed to dial to edge with quic', quicTls), { cause: quicTls }),
    ((e) => new IngressConfigError(wrap('Rule #1 has an invalid regex', e), { cause: e }))(c()),
    new UnsupportedServiceError('socks-proxy'),
    ((e) => new CaPoolError('/etc/origin-ca.pem', e.message, { cause: e }))(c()),
    new UnauthorizedTokenError(
      new RegistrationError({
        cause: 'Unauthorized: Failed to authenticate tunnel',
        shouldRetry: false,
        retryAfterNs: 0n,
      }),
    ),
    new InitialConnectionError(new EdgeDialError(wrap('failed to dial to edge', dial), { cause: dial })),
    new LogFileError('/var/log/cftunnel.log', c()),
    new MetricsAddressError('notanaddr'),
    ((e) => new MetricsListenError(wrap('failed to bind to address (127.0.0.1:1)', e), { cause: e }))(c()),
    new TunnelOptionsError('haConnections', 'must be at least 1'),
    new OriginRequestCancelledError(c()),
    ((e) => new OriginError(wrap('dial tcp 127.0.0.1:8080: i/o timeout', e), e))(new OriginConnectTimeoutError()),
    new OriginConnectTimeoutError(),
    new InvalidOriginServiceError('bad service'),
    ((e) => new OriginError(wrap('in-process handler failed', e), e))(c()),
    new PostQuantumUnsupportedError('v20.0.0', '3.0.0'),
    ((e) => new ProtocolPercentageError(wrap('lookup of protocol-v2.argotunnel.com failed', e), { cause: e }))(c()),
    ((e) => new QuicConfigError(wrap('bad QUIC configuration', e), { cause: e }))(c()),
    new QuicHandshakeTimeoutError(),
    new QuicIdleTimeoutError(),
    new QuicLocalCloseError(),
    new QuicPeerClosedError(0, 'bye', true),
    ((e) => new QuicStreamFailedError(4, e))(c()),
    new QuicStreamResetError(4, 0),
    new QuicStreamStoppedError(4, 0),
    quicTls,
    new QuicTransportError(0xa),
    new QuicUnavailableError('the QUIC binding did not load'),
    new QuicUdpUnreachableError(Object.assign(new Error('send ECONNREFUSED 127.0.0.1:7844'), { code: 'ECONNREFUSED' })),
    new QuickTunnelUnreachableError(
      'https://api.trycloudflare.com',
      new Error('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:443') }),
    ),
    new QuickTunnelRateLimitedError('https://api.trycloudflare.com', 30, 'error code: 1015'),
    new QuickTunnelResponseError(502, 'not JSON: <html>', c()),
    new QuickTunnelRefusedError(200, [{ code: 1000, message: 'quick tunnels are off' }]),
    new Re2SyntaxError('missing closing )'),
    new RegistrationError({ cause: 'EDUPCONN', shouldRetry: true, retryAfterNs: 0n }),
    new RegistrationError({ cause: 'Unauthorized: tunnel not found', shouldRetry: false, retryAfterNs: 0n }),
    new RpcAbortedError('bye', 'disconnected'),
    new RpcCanceledError({ cause: c() }),
    ((e) => new RpcDisconnectedError(wrap('RPC stream failed', e), { cause: e }))(c()),
    new RpcExceptionError('no such method', 'unimplemented'),
    ((e) => new RpcFrameError(wrap('bad RPC frame', e), { cause: e }))(c()),
    ((e) => new RpcProtocolError(wrap('malformed RPC message', e), { cause: e }))(c()),
    new RpcServerException('failed', 'handler threw'),
    new RpcTimeoutError(5000),
    new SerializedHeadersError('bad header block'),
    new TruncatedPreambleError(3),
    new UnknownStreamSignatureError(Buffer.from('0102030405060708', 'hex')),
    ((e) => new TokenFileError(wrap('Failed to read token file', e), e))(c()),
    new TokenError('not-base64', 'It is not padded standard base64.'),
    new UnsupportedFlagError('flag --label is not supported by cftunnel (the management service is not implemented)'),
    new UsageError('unknown flag --frobnicate'),
  ];
}

/** Every message of the chain below `err`. */
function causeTexts(err: unknown): string[] {
  const out: string[] = [];
  for (let c = (err as { cause?: unknown }).cause; c instanceof Error; c = c.cause) out.push(c.message);
  return out;
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

test('every catalogue code renders each cause text once, in a pino log line and in errorText (the CLI line)', () => {
  const errors = everyCode();
  const doc = readFileSync(`${root}docs/errors.md`, 'utf8');
  const catalogue = [...doc.matchAll(/^\| `(CFT_ERR_[A-Z0-9_]+)`/gm)].map((m) => m[1]!).sort();
  assert.deepEqual([...new Set(errors.map((e) => e.code))].sort(), catalogue, 'one error per catalogue code');
  for (const err of errors) {
    const logged = (pino.stdSerializers.err(err) as { message: string }).message;
    assert.equal(errorText(err), logged, `${err.code}: the CLI line and the log line say the same`);
    for (const part of [err.message, ...causeTexts(err)]) {
      assert.equal(
        occurrences(logged, part),
        1,
        `${err.code}: ${JSON.stringify(part)} once in ${JSON.stringify(logged)}`,
      );
    }
  }
});

test('a message keeps everything but a trailing copy of its cause; errorText skips a cause already said', () => {
  const cause = new Error('EADDRINUSE');
  const err = new MetricsListenError('failed to bind to address (127.0.0.1:1): EADDRINUSE', { cause });
  assert.equal(err.message, 'failed to bind to address (127.0.0.1:1)');
  assert.equal(err.cause, cause);
  assert.equal(errorText(err), 'failed to bind to address (127.0.0.1:1): EADDRINUSE');
  // A message that is only its cause's text stays as it is.
  assert.equal(new UsageError('x').message, 'x');
  assert.equal(new CftunnelError('CFT_ERR_ABORTED', 'same', { cause: new Error('same') }).message, 'same');
  assert.equal(errorText(new CftunnelError('CFT_ERR_ABORTED', 'same', { cause: new Error('same') })), 'same');
  assert.equal(errorText('plain'), 'plain');
});

test('a QUIC handshake ended by QUIC\'s idle timer says so, not "within 0 ms"', () => {
  assert.equal(
    new QuicHandshakeTimeoutError().message,
    'QUIC handshake did not complete: the peer went silent (idle timeout)',
  );
  assert.equal(new QuicHandshakeTimeoutError(5000).message, 'QUIC handshake did not complete within 5000 ms');
});
