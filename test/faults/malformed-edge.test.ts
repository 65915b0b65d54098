/**
 * Malformed peers (issue 9): a hostile edge, speaking the edge side over real QUIC and real TLS + HTTP/2 on loopback,
 * sends the real connector what a real edge never would — Cap'n Proto frames claiming gigabytes, RPC messages and
 * calls it does not serve, ConnectRequests with thousands of headers, CR/LF in every request field, broken preambles.
 * Each must be a clear error that ends only what docs/protocol.md says; nothing of it may reach the origin (checked on the
 * origin's wire bytes, so no client-side normalisation can hide an injected header), the process must raise no
 * uncaught exception or unhandled rejection, and a well-formed request afterwards must still be served whenever the
 * connection is meant to survive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Message, utils } from 'capnp-es';
import * as rpc from 'capnp-es/capnp/rpc';
import {
  CONNECT_MAX_METADATA_ENTRIES,
  encodeConnectRequest,
  type ConnectRequest,
} from '../../src/capnp/connect-codec.js';
import {
  RegistrationServer_UnregisterConnection$Params,
  RegistrationServer_UnregisterConnection$Results,
} from '../../src/capnp/gen/tunnelrpc.js';
import {
  CLOUDFLARED_SERVER_ID,
  CONFIGURATION_MANAGER_ID,
  REGISTRATION_SERVER_ID,
  SESSION_MANAGER_ID,
} from '../../src/capnp/interfaces.js';
import { HTTP2_MAX_HEADER_LIST_PAIRS } from '../../src/connection/http2-connection.js';
import {
  DATA_STREAM_SIGNATURE,
  DATA_STREAM_VERSION,
  MAX_CONNECT_REQUEST_BYTES,
  RPC_STREAM_SIGNATURE,
} from '../../src/wire/preamble.js';
import type { TunnelProtocol } from '../../src/connection/types.js';
import { DEFAULT_MAX_RPC_FRAME_BYTES } from '../../src/rpc/connection.js';
import { RpcExceptionError, RpcFrameError } from '../../src/rpc/errors.js';
import { CloudflaredClient } from '../../src/rpc/tunnel/cloudflared-client.js';
import { encodeBootstrap, encodeCall, encodeFinish } from '../../src/rpc/wire.js';
import { QuicPeerClosedError } from '../../src/transport/quic/index.js';
import {
  connectRequestBytes,
  getRequest,
  http2GetHeaders,
  openHostileHttp2Session,
  openHostileQuicSession,
  openHostileSession,
  originBody,
  settledYet,
  watchProcessFaults,
  type HostileSession,
  type StreamOutcome,
} from '../helpers/hostile-edge.js';
import { errorText } from '../../src/errors.js';

/** Every hostile input carries this marker; it must never appear in what the origin receives. */
const INJECTED = 'X-Injected';
const T = { timeout: 30_000 };

/** Runs `body` against a fresh session, always cleans up, then checks the process raised no fault meanwhile. */
async function withSession<S extends HostileSession>(
  open: () => Promise<S>,
  body: (s: S) => Promise<void>,
): Promise<void> {
  const faults = watchProcessFaults();
  try {
    const session = await open();
    try {
      await body(session);
    } finally {
      await session.close();
    }
  } finally {
    faults.stop();
  }
  assert.deepEqual(faults.faults, [], 'no uncaught exception or unhandled rejection');
}

/**
 * Hang guard, not a speed assertion: far longer than any answer here takes on loopback, shorter than the test
 * timeout, so a connector that never reacts fails with a message and the test still cleans up.
 */
const HANG_GUARD_MS = 10_000;

function within<V>(promise: Promise<V>, what: string): Promise<V> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${HANG_GUARD_MS} ms`)), HANG_GUARD_MS);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/** Little-endian u32 words: a Cap'n Proto frame header (segment count - 1, then segment sizes in words). */
function u32s(...words: number[]): Buffer {
  const out = Buffer.alloc(Math.ceil(words.length / 2) * 8);
  words.forEach((w, i) => out.writeUInt32LE(w >>> 0, i * 4));
  return out;
}

/**
 * What the origin must have received for a well-formed `GET <path>` of {@link HostileSession.get}, byte for byte, as
 * the node:http origin client writes it: `Host` first (like Go's request writer), the request's headers, then the
 * client's own `Connection: keep-alive`.
 */
function originHead(s: HostileSession, path: string): string {
  const edgeHeader = s.protocol === 'quic' ? 'Accept: */*' : 'Cf-Ray: 0123456789abcdef-TST';
  return `GET ${path} HTTP/1.1\r\nHost: hostile.test\r\n${edgeHeader}\r\nCf-Warp-Tag-Id: ${s.connectorId}\r\nConnection: keep-alive\r\n\r\n`;
}

/** The origin received exactly the well-formed requests for `paths`, byte for byte, and nothing else. */
function assertOriginSawOnly(s: HostileSession, paths: string[]): void {
  assert.deepEqual(
    s.origin.requests.map((r) => r.url),
    paths,
  );
  assert.equal(s.origin.clientErrors, 0);
  const wire = s.origin.received();
  assert.equal(wire.includes(INJECTED), false, `injected bytes reached the origin: ${JSON.stringify(wire)}`);
  assert.equal(wire, paths.map((p) => originHead(s, p)).join(''));
}

/** A well-formed request on the same connection is served, and the connection has not ended. */
async function assertStillServing(s: HostileSession, path: string): Promise<void> {
  assert.deepEqual(await within(s.get(path), `answer to GET ${path}`), { status: 200, body: originBody(path) });
  assert.equal(await settledYet(s.conn.closed), false, 'the connection is still up');
}

/** An RPC message whose union discriminant is `which`, with a Finish body (any struct will do). */
function rpcMessageOfType(which: number): Buffer {
  const msg = new Message();
  const root = msg.initRoot(rpc.Message);
  root._initFinish().questionId = 7;
  utils.setUint16(0, which, root);
  return Buffer.from(msg.toArrayBuffer());
}

/** The exception a Return carries, checking it answers `answerId`. */
function exceptionOf(message: rpc.Message, answerId: number): rpc.Exception {
  assert.equal(message.which(), rpc.Message.RETURN);
  assert.equal(message.return.answerId, answerId);
  assert.equal(message.return.which(), rpc.Return.EXCEPTION);
  return message.return.exception;
}

// ---- control stream (both transports) ----------------------------------------------------------------------------

/** Frame headers claiming far more than the RPC frame limit; only the header bytes are ever sent. */
const GIGANTIC_FRAMES: ReadonlyArray<[string, Buffer]> = [
  ['2^32 segments', u32s(0xffffffff, 1)],
  ['one segment of 2^32-1 words (32 GiB)', u32s(0, 0xffffffff)],
  ['512 segments of 2^24 words (64 GiB)', u32s(511, ...new Array<number>(512).fill(0x00ffffff))],
  [
    "one word over the RPC frame limit (64 MiB, cloudflared's capnp decode limit)",
    u32s(0, DEFAULT_MAX_RPC_FRAME_BYTES / 8),
  ],
];

/** Ceiling on memory growth while a frame claiming gigabytes is refused: far below anything the claims would need. */
const MAX_GROWTH_BYTES = 64 * 1024 * 1024;

/** Discriminants of rpc.capnp Message the connector does not implement: unknown, and known but unused (§6.1). */
const UNSERVED_MESSAGE_TYPES: ReadonlyArray<[string, number]> = [
  ['unknown 99', 99],
  ['unknown 0xffff', 0xffff],
  ['resolve', rpc.Message.RESOLVE],
  ['obsoleteSave', rpc.Message.OBSOLETE_SAVE],
  ['obsoleteDelete', rpc.Message.OBSOLETE_DELETE],
  ['provide', rpc.Message.PROVIDE],
  ['accept', rpc.Message.ACCEPT],
  ['join', rpc.Message.JOIN],
  ['disembargo', rpc.Message.DISEMBARGO],
];

for (const protocol of ['quic', 'http2'] as const satisfies readonly TunnelProtocol[]) {
  test(
    `${protocol}: control-stream frames claiming gigabytes end the connection with CFT_ERR_RPC_FRAME, allocating nothing`,
    T,
    async () => {
      for (const [label, header] of GIGANTIC_FRAMES) {
        await withSession(
          () => openHostileSession(protocol),
          async (s) => {
            const before = process.memoryUsage().arrayBuffers;
            s.control.inject(header);
            const err = await within(s.conn.closed, `end of the connection after ${label}`);
            assert.ok(err instanceof RpcFrameError, `${label}: ${String(err)}`);
            assert.equal(err.code, 'CFT_ERR_RPC_FRAME');
            assert.match(errorText(err), /bad RPC frame: capnp frame (declares|exceeds)/);
            const edgeSaw = await within(s.edgeClosed, 'close at the edge');
            // §5.3: QUIC closes with an application CONNECTION_CLOSE, code 0.
            if (protocol === 'quic')
              assert.ok(
                edgeSaw instanceof QuicPeerClosedError && edgeSaw.errorCode === 0 && edgeSaw.isApplication,
                String(edgeSaw),
              );
            assert.ok(
              process.memoryUsage().arrayBuffers - before < MAX_GROWTH_BYTES,
              `${label}: no allocation for the claimed size`,
            );
            assertOriginSawOnly(s, []);
          },
        );
      }
    },
  );

  test(
    `${protocol}: RPC messages of types the connector does not serve are answered Unimplemented; the connection keeps serving and unregisters`,
    T,
    async () => {
      await withSession(
        () => openHostileSession(protocol),
        async (s) => {
          for (const [label, which] of UNSERVED_MESSAGE_TYPES) {
            s.control.inject(rpcMessageOfType(which));
            const reply = await within(s.control.nextReply(), `answer to ${label}`);
            assert.equal(reply.which, rpc.Message.UNIMPLEMENTED, label);
            // The Cap'n Proto rule: Unimplemented echoes the message it did not understand.
            assert.equal(reply.message.unimplemented.which(), which, label);
          }
          await assertStillServing(s, '/after-unimplemented');
          // The registration RPC session itself is intact: graceful shutdown still unregisters on it (§6.8).
          await s.conn.shutdown(1_000);
          assert.equal(s.control.unregisterCalls, 1);
          assert.equal(await s.conn.closed, undefined);
          assertOriginSawOnly(s, ['/after-unimplemented']);
        },
      );
    },
  );

  test(
    `${protocol}: Bootstrap and Calls on the control stream, where the connector serves nothing, get exception Returns; the connection survives`,
    T,
    async () => {
      await withSession(
        () => openHostileSession(protocol),
        async (s) => {
          const call = (
            id: number,
            target: { importedCap: number } | { promisedAnswer: number },
            interfaceId: bigint,
            methodId: number,
          ): Buffer =>
            encodeCall(
              id,
              target,
              interfaceId,
              methodId,
              RegistrationServer_UnregisterConnection$Params,
              () => undefined,
            );
          const reply = async (): Promise<rpc.Message> => (await within(s.control.nextReply(), 'Return')).message;
          s.control.inject(encodeBootstrap(40));
          assert.match(exceptionOf(await reply(), 40).reason, /no bootstrap capability/);
          s.control.inject(call(41, { importedCap: 0 }, CLOUDFLARED_SERVER_ID, 99));
          assert.match(exceptionOf(await reply(), 41).reason, /no capability exported with ID 0/);
          s.control.inject(call(42, { promisedAnswer: 40 }, 0x0123456789abcdefn, 0));
          assert.match(exceptionOf(await reply(), 42).reason, /does not resolve to a capability/);
          for (const id of [40, 41, 42]) s.control.inject(encodeFinish(id));
          await assertStillServing(s, '/after-calls');
          await s.conn.shutdown(1_000);
          assert.equal(s.control.unregisterCalls, 1);
          assertOriginSawOnly(s, ['/after-calls']);
        },
      );
    },
  );
}

// ---- QUIC RPC streams (§7.5) ---------------------------------------------------------------------------------------

/** An edge-side RPC client that can call any (interface, method) on the connector's CloudflaredServer. */
class ProbingClient extends CloudflaredClient {
  callMethod(interfaceId: bigint, methodId: number): Promise<unknown> {
    const ref = {
      interfaceId,
      methodId,
      Params: RegistrationServer_UnregisterConnection$Params,
      Results: RegistrationServer_UnregisterConnection$Results,
      name: `probe ${interfaceId.toString(16)}/${methodId}`,
    };
    return this.rpc.call(this.cap, ref, () => undefined, { timeoutMs: 10_000 });
  }
}

test(
  'quic: calls to an unknown interface or method on an RPC stream get an unimplemented exception; the stream and the connection keep working',
  T,
  async () => {
    await withSession(openHostileQuicSession, async (s) => {
      const stream = await s.peer.quic.openStream();
      stream.on('error', () => undefined);
      stream.write(RPC_STREAM_SIGNATURE);
      const client = new ProbingClient(stream);
      try {
        for (const [interfaceId, methodId] of [
          [CLOUDFLARED_SERVER_ID, 99],
          [SESSION_MANAGER_ID, 99],
          [CONFIGURATION_MANAGER_ID, 1],
          [REGISTRATION_SERVER_ID, 0],
          [0x0123456789abcdefn, 0],
        ] as const) {
          await assert.rejects(client.callMethod(interfaceId, methodId), (err: unknown) => {
            assert.ok(err instanceof RpcExceptionError, String(err));
            assert.equal(err.type, 'unimplemented');
            assert.match(
              err.reason,
              new RegExp(`does not implement method ${methodId} of interface 0x${interfaceId.toString(16)}`),
            );
            return true;
          });
        }
        // The same RPC stream still serves a real call afterwards (§9.1).
        const config = Buffer.from(JSON.stringify({ ingress: [{ service: s.origin.url }] }));
        assert.deepEqual(await client.updateConfiguration(1, config, { timeoutMs: 10_000 }), {
          latestAppliedVersion: 1,
          err: null,
        });
      } finally {
        await client.close();
      }
      await assertStillServing(s, '/after-rpc');
      assertOriginSawOnly(s, ['/after-rpc']);
    });
  },
);

test(
  'quic: an RPC stream frame claiming gigabytes ends that stream with an Abort; the connection keeps serving',
  T,
  async () => {
    await withSession(openHostileQuicSession, async (s) => {
      const outcome = await within(
        s.peer.exchange(Buffer.concat([RPC_STREAM_SIGNATURE, u32s(0, 0xffffffff)]), { end: false }),
        'end of the stream',
      );
      const abort = new Message(outcome.bytes, false).getRoot(rpc.Message);
      assert.equal(abort.which(), rpc.Message.ABORT);
      assert.match(abort.abort.reason, /bad RPC frame: capnp frame exceeds the \d+-byte limit/);
      assert.equal(outcome.fin, true);
      await assertStillServing(s, '/after-rpc-frame');
      assertOriginSawOnly(s, ['/after-rpc-frame']);
    });
  },
);

// ---- QUIC data streams (§7.1-§7.4) ---------------------------------------------------------------------------------

/** `getRequest(path)` with `count` extra `HttpHeader:X-Hn` entries. */
function requestWithHeaders(path: string, count: number): ConnectRequest {
  const req = getRequest(path);
  for (let i = 0; i < count; i++) req.metadata.push({ key: `HttpHeader:X-H${i}`, val: 'v' });
  return req;
}

/** The connector aborted the stream (§7.1: RESET_STREAM 0, STOP_SENDING 0) without writing anything. */
function assertAborted(outcome: StreamOutcome, label: string): void {
  assert.equal(outcome.bytes.length, 0, `${label}: no ConnectResponse`);
  assert.equal(outcome.fin, false, `${label}: no FIN`);
  assert.ok(
    outcome.resetCode === 0 || outcome.stopCode === 0,
    `${label}: reset/stopped with code 0 (${JSON.stringify(outcome)})`,
  );
}

test(
  `quic: ConnectRequests with 5,000 and 100,000 headers are reset (limits: ${CONNECT_MAX_METADATA_ENTRIES} entries, ${MAX_CONNECT_REQUEST_BYTES} bytes); the connection keeps serving`,
  T,
  async () => {
    await withSession(openHostileQuicSession, async (s) => {
      const fiveThousand = connectRequestBytes(requestWithHeaders(`/${INJECTED}/5000`, 5_000));
      // Within the frame limit, so it is the decoder's entry limit that refuses it.
      assert.ok(fiveThousand.length < MAX_CONNECT_REQUEST_BYTES);
      assertAborted(await within(s.peer.exchange(fiveThousand), 'answer'), '5,000 headers');
      const hundredThousand = connectRequestBytes(requestWithHeaders(`/${INJECTED}/100000`, 100_000));
      assert.ok(hundredThousand.length > MAX_CONNECT_REQUEST_BYTES);
      assertAborted(await within(s.peer.exchange(hundredThousand), 'answer'), '100,000 headers');
      await assertStillServing(s, '/after-many-headers');
      assertOriginSawOnly(s, ['/after-many-headers']);
    });
  },
);

/** `getRequest(path)` with its metadata changed by `edit`. */
function hostileRequest(path: string, edit: (req: ConnectRequest) => void): ConnectRequest {
  const req = getRequest(path);
  edit(req);
  return req;
}

function withMetadata(key: string, val: string): (req: ConnectRequest) => void {
  return (req) => req.metadata.push({ key, val });
}

function replacing(key: 'HttpMethod' | 'HttpHost', val: string): (req: ConnectRequest) => void {
  return (req) => {
    req.metadata = req.metadata.map((m) => (m.key === key ? { key, val } : m));
  };
}

/** Injection attempts through every ConnectRequest field (§7.2), and the error each must get. */
const QUIC_INJECTIONS: ReadonlyArray<[string, (req: ConnectRequest) => void, RegExp]> = [
  [
    'header value with CRLF',
    withMetadata('HttpHeader:X-Foo', `a\r\n${INJECTED}: 1`),
    /invalid header field value for "X-Foo"/,
  ],
  [
    'header value with LF',
    withMetadata('HttpHeader:X-Foo', `a\n${INJECTED}: 1`),
    /invalid header field value for "X-Foo"/,
  ],
  [
    'header value with CR',
    withMetadata('HttpHeader:X-Foo', `a\r${INJECTED}: 1`),
    /invalid header field value for "X-Foo"/,
  ],
  [
    'header value with NUL',
    withMetadata('HttpHeader:X-Foo', `a\0${INJECTED}`),
    /invalid header field value for "X-Foo"/,
  ],
  [
    'header name with CRLF',
    withMetadata(`HttpHeader:X-Foo\r\n${INJECTED}`, '1'),
    /invalid header field name "X-Foo\\r\\nX-Injected"/,
  ],
  [
    'header name with LF',
    withMetadata(`HttpHeader:X-Foo\n${INJECTED}`, '1'),
    /invalid header field name "X-Foo\\nX-Injected"/,
  ],
  [
    'header name with a space',
    withMetadata(`HttpHeader:X ${INJECTED}`, '1'),
    /invalid header field name "X X-Injected"/,
  ],
  [
    'header name with a colon',
    withMetadata(`HttpHeader:${INJECTED}:1`, '1'),
    /header Key: HttpHeader:X-Injected:1 malformed/,
  ],
  ['empty header name', withMetadata('HttpHeader:', INJECTED), /invalid header field name ""/],
  ['HttpHost with CRLF', replacing('HttpHost', `hostile.test\r\n${INJECTED}: 1`), /invalid Host header/],
  [
    'HttpMethod with CRLF (request splitting)',
    replacing('HttpMethod', `GET /x HTTP/1.1\r\n${INJECTED}: 1\r\n\r\nGET`),
    /net\/http: invalid method "GET \/x HTTP\/1\.1\\r\\n/,
  ],
  ['HttpMethod with a space', replacing('HttpMethod', `GET ${INJECTED}`), /net\/http: invalid method "GET X-Injected"/],
  [
    'URI with CRLF',
    (req) => (req.dest = `http://hostile.test/a\r\n${INJECTED}: 1`),
    /invalid control character in URL/,
  ],
  [
    'URI with CRLF and a second request',
    (req) => (req.dest = `http://hostile.test/a HTTP/1.1\r\n${INJECTED}: 1\r\n\r\nGET /b`),
    /invalid control character in URL/,
  ],
  ['URI with TAB', (req) => (req.dest = `http://hostile.test/a\t${INJECTED}`), /invalid control character in URL/],
  ['URI with NUL', (req) => (req.dest = `http://hostile.test/a\0${INJECTED}`), /invalid control character in URL/],
];

test(
  'quic: CR/LF/NUL/space injection in header names and values, HttpHost, HttpMethod and the URI gets an error ConnectResponse; nothing reaches the origin',
  T,
  async () => {
    await withSession(openHostileQuicSession, async (s) => {
      for (const [label, edit, error] of QUIC_INJECTIONS) {
        const answer = await within(s.peer.request(hostileRequest(`/${INJECTED}`, edit)), `answer to ${label}`);
        // §7.4: an error before the response is a ConnectResponse{error} and FIN, not a reset.
        assert.ok(answer.response, `${label}: a ConnectResponse`);
        assert.match(answer.response.error, error, label);
        assert.deepEqual(answer.response.metadata, [], label);
        assert.equal(answer.fin, true, label);
        assert.equal(answer.resetCode, undefined, label);
      }
      await assertStillServing(s, '/after-injection');
      assertOriginSawOnly(s, ['/after-injection']);
    });
  },
);

/** A well-formed ConnectRequest frame with its ConnectionType patched to `type`. */
function withConnectionType(type: number): Buffer {
  const frame = encodeConnectRequest(getRequest(`/${INJECTED}`));
  // Frame header (8) + root pointer (8), then the data word whose first u16 is the type (§6.4).
  frame.writeUInt16LE(type, 16);
  return Buffer.concat([DATA_STREAM_SIGNATURE, DATA_STREAM_VERSION, frame]);
}

const PREAMBLE = Buffer.concat([DATA_STREAM_SIGNATURE, DATA_STREAM_VERSION]);

/** Broken stream starts; each must reset that stream only (§7.1; cloudflared resets when the ConnectRequest is unreadable). */
const BROKEN_STREAMS: ReadonlyArray<[string, Buffer, { end?: boolean }]> = [
  ['unknown signature (an HTTP/1 request)', Buffer.from(`GET /${INJECTED} HTTP/1.1\r\nHost: hostile.test\r\n\r\n`), {}],
  ['preamble truncated inside the signature', DATA_STREAM_SIGNATURE.subarray(0, 3), {}],
  ['preamble truncated inside the version', Buffer.concat([DATA_STREAM_SIGNATURE, Buffer.from('0')]), {}],
  ['ConnectRequest truncated', connectRequestBytes(getRequest(`/${INJECTED}`)).subarray(0, 40), {}],
  [
    'ConnectRequest frame claiming 32 GiB, stream left open',
    Buffer.concat([PREAMBLE, u32s(0, 0xffffffff)]),
    { end: false },
  ],
  ['ConnectRequest frame claiming 1,000 segments', Buffer.concat([PREAMBLE, u32s(999, 1)]), {}],
  [
    'ConnectRequest whose root pointer leaves its segment',
    Buffer.concat([PREAMBLE, u32s(0, 2, 1000 << 2, 1 | (2 << 16), 0, 0)]),
    {},
  ],
  ['ConnectRequest with an unknown ConnectionType', withConnectionType(9), {}],
];

test(
  'quic: unknown signatures, truncated preambles and garbage ConnectRequests reset only their stream',
  T,
  async () => {
    await withSession(openHostileQuicSession, async (s) => {
      for (const [label, bytes, options] of BROKEN_STREAMS)
        assertAborted(await within(s.peer.exchange(bytes, options), `answer to ${label}`), label);
      await assertStillServing(s, '/after-broken-streams');
      assertOriginSawOnly(s, ['/after-broken-streams']);
    });
  },
);

// ---- HTTP/2 requests (§8) ------------------------------------------------------------------------------------------

/** Pseudo-header values nghttp2 refuses (RFC 9113 §8.3): the connector's HTTP/2 layer resets the stream. */
const HTTP2_BAD_PSEUDO_HEADERS: ReadonlyArray<[string, Record<string, string>]> = [
  [':method with CRLF (request splitting)', { ':method': `GET /x HTTP/1.1\r\n${INJECTED}: 1\r\n\r\nGET` }],
  [':method with a space', { ':method': `GET ${INJECTED}` }],
  [':authority with CRLF', { ':authority': `hostile.test\r\n${INJECTED}: 1` }],
  [':path with CRLF', { ':path': `/a\r\n${INJECTED}: 1` }],
  [':path with a space', { ':path': `/a HTTP/1.1 ${INJECTED}` }],
  [':path with TAB', { ':path': `/a\t${INJECTED}` }],
  [':path with a control byte', { ':path': `/a\x01${INJECTED}` }],
  ['header value with NUL', { 'x-foo': `a\0${INJECTED}` }],
];

test(
  'http2: CR/LF, spaces and control bytes in :method, :authority, :path and NUL in a value are refused with RST_STREAM(PROTOCOL_ERROR); the connection keeps serving',
  T,
  async () => {
    await withSession(openHostileHttp2Session, async (s) => {
      for (const [label, extra] of HTTP2_BAD_PSEUDO_HEADERS) {
        const answer = await within(
          s.peer.request({ ...http2GetHeaders(`/${INJECTED}`), ...extra }),
          `answer to ${label}`,
        );
        assert.equal(answer.headers, undefined, `${label}: no response`);
        assert.equal(answer.rstCode, 1, `${label}: RST_STREAM(PROTOCOL_ERROR)`);
      }
      await assertStillServing(s, '/after-bad-pseudo-headers');
      assertOriginSawOnly(s, ['/after-bad-pseudo-headers']);
    });
  },
);

test(
  'http2: a header value with CR, LF or other control bytes is dropped by the HTTP/2 layer; the request is served without it',
  T,
  async () => {
    await withSession(openHostileHttp2Session, async (s) => {
      const paths: string[] = [];
      for (const [label, value] of [
        ['CRLF', `a\r\n${INJECTED}: 1`],
        ['LF', `a\n${INJECTED}: 1`],
        ['CR', `a\r${INJECTED}: 1`],
        ['control byte', `a\x01${INJECTED}`],
      ]) {
        const path = `/value-${paths.length}`;
        paths.push(path);
        const answer = await within(
          s.peer.request({ ...http2GetHeaders(path), 'x-foo': value! }),
          `answer to ${label}`,
        );
        assert.equal(answer.headers?.[':status'], 200, label);
        assert.equal(answer.body.toString(), originBody(path), label);
      }
      // Byte for byte: each reached the origin as a plain request, without X-Foo and without anything injected.
      assertOriginSawOnly(s, paths);
    });
  },
);

test(
  `http2: a request with 200 header fields is served; 5,000 fields are reset (limit ${HTTP2_MAX_HEADER_LIST_PAIRS}); the connection keeps serving`,
  T,
  async () => {
    await withSession(openHostileHttp2Session, async (s) => {
      const many = (path: string, count: number): Record<string, string> => {
        const headers: Record<string, string> = { ...(http2GetHeaders(path) as Record<string, string>) };
        for (let i = 0; i < count; i++) headers[`x-h${i}`] = 'v';
        return headers;
      };
      // node:http2's default (128 fields) would reset this one; cloudflared's Go server serves it (§8.1).
      const served = await within(s.peer.request(many('/two-hundred', 200)), 'answer');
      assert.equal(served.headers?.[':status'], 200);
      const refused = await within(s.peer.request(many(`/${INJECTED}/5000`, 5_000)), 'answer');
      assert.equal(refused.headers, undefined);
      assert.equal(refused.rstCode, 11, 'RST_STREAM(ENHANCE_YOUR_CALM)');
      await assertStillServing(s, '/after-many-headers');
      assert.deepEqual(
        s.origin.requests.map((r) => r.url),
        ['/two-hundred', '/after-many-headers'],
      );
      assert.equal(s.origin.received().includes(INJECTED), false);
    });
  },
);

test(
  'http2: a 100,000-field header block is a connection error (nghttp2 CONTINUATION flood guard); nothing reaches the origin',
  T,
  async () => {
    await withSession(openHostileHttp2Session, async (s) => {
      const headers: Record<string, string> = { ...(http2GetHeaders(`/${INJECTED}/100000`) as Record<string, string>) };
      for (let i = 0; i < 100_000; i++) headers[`x-h${i}`] = 'v';
      const answer = await within(s.peer.request(headers), 'answer');
      assert.equal(answer.headers, undefined);
      // An abandoned header block leaves HPACK state unknown, so only the whole connection can go (RFC 9113 §4.3).
      const err = await within(s.conn.closed, 'end of the connection');
      assert.ok(err instanceof Error);
      await within(s.edgeClosed, 'close at the edge');
      assertOriginSawOnly(s, []);
    });
  },
);
