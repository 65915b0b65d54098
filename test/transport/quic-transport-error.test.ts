/**
 * CFT_ERR_QUIC_TRANSPORT: quiche detects a transport error itself and `connectQuic` rejects with QuicTransportError.
 * The peer is a plain UDP socket that answers the client's first Initial with Initial packets it protects itself
 * (Initial keys come from the client's Destination CID, RFC 9001 §5.2) carrying frames RFC 9000 §12.4 forbids in
 * Initial packets, or a frame type that does not exist (§12.4: FRAME_ENCODING_ERROR).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { EdgeDialError } from '../../src/transport/errors.js';
import { QuicTransportError, connectQuic } from '../../src/transport/quic/index.js';
import { dialTunnelConnection } from '../../src/supervisor/dial.js';
import {
  Frame,
  findConnectionClose,
  initialKeys,
  openInitial,
  parseLongHeader,
  randomConnectionId,
  sealInitial,
  varint,
  type ConnectionClose,
  type InitialKeys,
} from '../helpers/quic-initial.js';
import { connectionContext, makeToken } from '../helpers/tunnel-env.js';
import { edgeCerts } from './quic/helpers.js';
import { errorText } from '../../src/errors.js';

/** QUIC transport error codes (RFC 9000 §20.1). */
const FRAME_ENCODING_ERROR = 0x7;
const PROTOCOL_VIOLATION = 0xa;
/** Generous: the packets below end the handshake within milliseconds; a timeout means quiche ignored them. */
const HANDSHAKE_TIMEOUT_MS = 20_000;

/** ACK of the client's first Initial (packet number 0, RFC 9000 §19.3): gives quiche an RTT sample, so a short PTO. */
const ACK_FIRST = Buffer.from([Frame.ACK, 0, 0, 0, 0]);
/** A packet quiche accepts, so that the next one is not the first it processed (see the second test). */
const HARMLESS = Buffer.concat([ACK_FIRST, Buffer.from([Frame.PING])]);

const violations: Array<{ name: string; frames: Buffer; code: number }> = [
  {
    name: 'a STREAM frame',
    frames: Buffer.concat([Buffer.from([Frame.STREAM_LEN]), varint(0), varint(5), Buffer.from('hello')]),
    code: PROTOCOL_VIOLATION,
  },
  { name: 'a HANDSHAKE_DONE frame', frames: Buffer.from([Frame.HANDSHAKE_DONE]), code: PROTOCOL_VIOLATION },
  // 0x1f is the first type RFC 9000 §19 leaves unassigned.
  { name: 'an unknown frame type (0x1f)', frames: Buffer.from([0x1f]), code: FRAME_ENCODING_ERROR },
];

/** A UDP "server" that answers the client's first Initial once with `answer(...)` and collects its CONNECTION_CLOSE. */
async function fakeServer(answer: (keys: InitialKeys, dcid: Buffer, scid: Buffer) => Buffer): Promise<{
  socket: Socket;
  port: number;
  /** The client's CONNECTION_CLOSE, once seen in one of its Initial packets. */
  clientClose: Promise<ConnectionClose>;
}> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  let clientDcid: Buffer | undefined;
  let sawClose!: (close: ConnectionClose) => void;
  const clientClose = new Promise<ConnectionClose>((resolve) => (sawClose = resolve));
  socket.on('message', (datagram: Buffer, from: RemoteInfo) => {
    const header = parseLongHeader(datagram);
    if (header === undefined || header.type !== 0) return;
    if (clientDcid === undefined) {
      // Both directions' Initial keys derive from the DCID of the client's first Initial, even after the client
      // switches to the server's SCID (RFC 9001 §5.2).
      clientDcid = header.dcid;
      const reply = answer(initialKeys(clientDcid, 'server'), header.scid, randomConnectionId());
      socket.send(reply, from.port, from.address);
      return;
    }
    const opened = openInitial(datagram, initialKeys(clientDcid, 'client'));
    const close = opened && findConnectionClose(opened.payload);
    if (close) sawClose(close);
  });
  return { socket, port: socket.address().port, clientClose };
}

async function dial(port: number): Promise<unknown> {
  const { caPem } = await edgeCerts();
  try {
    await connectQuic({
      host: '127.0.0.1',
      port,
      serverName: 'quic.cftunnel.com',
      ca: caPem,
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    });
  } catch (err) {
    return err;
  }
  assert.fail('the handshake should have failed');
}

function assertTransportError(err: unknown, code: number): asserts err is QuicTransportError {
  assert.ok(err instanceof QuicTransportError, `expected QuicTransportError, got ${String(err)}`);
  assert.equal(err.code, 'CFT_ERR_QUIC_TRANSPORT');
  assert.equal(err.errorCode, code);
  assert.equal(err.retryable, true);
  assert.ok(err.message.includes(`(0x${code.toString(16)})`), err.message);
}

test('the Initial packet helper matches RFC 9001 Appendix A', () => {
  // A.1: keys for the client DCID 0x8394c8f03e515708.
  const dcid = Buffer.from('8394c8f03e515708', 'hex');
  const client = initialKeys(dcid, 'client');
  const server = initialKeys(dcid, 'server');
  assert.deepEqual(
    [client.key, client.iv, client.hp].map((b) => b.toString('hex')),
    ['1f369613dd76d5467730efcbe3b1a22d', 'fa044b2f42a3fd3b46fb255c', '9f50449e04a0e810283a1e9933adedd2'],
  );
  assert.deepEqual(
    [server.key, server.iv, server.hp].map((b) => b.toString('hex')),
    ['cf3a5331653c364c88f0f379b6067e37', '0ac1493ca1905853b0bba03e', 'c206b8d9b9f0f37644430b490eeaa314'],
  );
  // A.3: the protected server Initial opens to its ACK + CRYPTO(ServerHello) payload.
  const protectedServerInitial = Buffer.from(
    'cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc42158407dd074ee',
    'hex',
  );
  const opened = openInitial(protectedServerInitial, server);
  assert.ok(opened);
  assert.equal(opened.packetNumber, 1);
  assert.equal(
    opened.payload.toString('hex'),
    '02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c940d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00020304',
  );
  assert.equal(openInitial(protectedServerInitial, client), undefined, "the other direction's keys do not open it");
  // What sealInitial builds, openInitial opens (and a CONNECTION_CLOSE in it is found behind an ACK).
  const close = Buffer.concat([
    ACK_FIRST,
    Buffer.from([Frame.CONNECTION_CLOSE]),
    varint(PROTOCOL_VIOLATION),
    varint(0),
    varint(3),
    Buffer.from('bad'),
  ]);
  const sealed = sealInitial({ keys: server, dcid: Buffer.alloc(0), scid: dcid, packetNumber: 7, payload: close });
  const reopened = openInitial(sealed, server);
  assert.ok(reopened);
  assert.equal(reopened.packetNumber, 7);
  assert.deepEqual(findConnectionClose(reopened.payload), {
    errorCode: PROTOCOL_VIOLATION,
    frameType: 0,
    reason: 'bad',
  });
});

for (const v of violations) {
  test(
    `${v.name} in the server's first Initial: connectQuic rejects with CFT_ERR_QUIC_TRANSPORT ${v.code}`,
    { timeout: 60_000 },
    async () => {
      const server = await fakeServer((keys, dcid, scid) =>
        sealInitial({ keys, dcid, scid, packetNumber: 0, payload: Buffer.concat([ACK_FIRST, v.frames]) }),
      );
      try {
        assertTransportError(await dial(server.port), v.code);
      } finally {
        server.socket.close();
      }
    },
  );
}

for (const v of violations) {
  test(
    `${v.name} after a valid Initial: the client also tells the peer (CONNECTION_CLOSE ${v.code}) before rejecting`,
    { timeout: 60_000 },
    async () => {
      // quiche closes silently when the bad packet is the first it processed; after one good packet it sends
      // CONNECTION_CLOSE and drains. Both packets share one datagram (coalesced, RFC 9000 §12.2), so they arrive in order.
      const server = await fakeServer((keys, dcid, scid) =>
        Buffer.concat([
          sealInitial({ keys, dcid, scid, packetNumber: 0, payload: HARMLESS }),
          sealInitial({ keys, dcid, scid, packetNumber: 1, payload: v.frames }),
        ]),
      );
      try {
        const err = await dial(server.port);
        assertTransportError(err, v.code);
        const onTheWire = await server.clientClose;
        assert.equal(onTheWire.errorCode, err.errorCode);
      } finally {
        server.socket.close();
      }
    },
  );
}

test(
  'a dial to the edge wraps it as CFT_ERR_EDGE_DIAL with the QuicTransportError as cause',
  { timeout: 60_000 },
  async () => {
    const v = violations[0]!;
    const server = await fakeServer((keys, dcid, scid) =>
      sealInitial({ keys, dcid, scid, packetNumber: 0, payload: Buffer.concat([ACK_FIRST, v.frames]) }),
    );
    try {
      const err = await dialTunnelConnection(
        'quic',
        { host: '127.0.0.1', port: server.port },
        connectionContext(makeToken().token),
        {
          quicHandshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
        },
      ).then(
        () => assert.fail('the dial should have failed'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof EdgeDialError, String(err));
      assert.match(
        errorText(err),
        /^failed to dial to edge with quic: QUIC transport error PROTOCOL_VIOLATION \(0xa\) detected locally/,
      );
      assertTransportError(err.cause, PROTOCOL_VIOLATION);
    } finally {
      server.socket.close();
    }
  },
);
