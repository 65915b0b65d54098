import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  QuicIdleTimeoutError,
  QuicPeerClosedError,
  QuicLocalCloseError,
  connectQuic,
  type QuicConnection,
} from '../../../src/transport/quic/index.js';
import { edgeCerts, quicPair, readAll } from './helpers.js';
import type { QuicStream } from '../../../src/transport/quic/index.js';

test('datagrams flow both ways; oversize ones are refused', async () => {
  const pair = await quicPair();
  // Sent at once after connect: often coalesced behind the client's last Handshake-space ACK, which the server can
  // no longer decrypt (regression test for quiche dropping the rest of such a datagram).
  const toServer = once(pair.serverConn, 'datagram') as Promise<[Buffer]>;
  assert.equal(pair.client.sendDatagram(Buffer.from('up')), true);
  assert.equal((await toServer)[0].toString(), 'up');
  const toClient = once(pair.client, 'datagram') as Promise<[Buffer]>;
  assert.equal(pair.serverConn.sendDatagram(Buffer.from('down')), true);
  assert.equal((await toClient)[0].toString(), 'down');
  assert.equal(pair.client.sendDatagram(Buffer.alloc(1351)), false, 'above max_datagram_frame_size 1350');
  await pair.close();
});

test('datagrams are refused when disabled', async () => {
  const pair = await quicPair({ datagrams: false });
  assert.equal(pair.client.sendDatagram(Buffer.from('x')), false);
  await pair.close();
});

test('keep-alive PINGs keep an idle connection open well past the idle timeout', async () => {
  // Only the client pings; the server is silent except for ACKs. Idle 600 ms, PING after 100 ms of silence.
  const pair = await quicPair({ idleTimeoutMs: 600, keepAliveMs: 100 }, { idleTimeoutMs: 600, keepAliveMs: 0 });
  let closed = false;
  const ac = new AbortController();
  const onClose = (): void => {
    closed = true;
    ac.abort(new Error('connection closed while idle'));
  };
  pair.client.once('close', onClose);
  pair.serverConn.once('close', onClose);
  // 15 PINGs spaced by >= 100 ms of silence each: at least 1.5 s, i.e. more than twice the idle timeout.
  // A close in between rejects the wait instead of hanging.
  for (let i = 0; i < 15; i++) await once(pair.client, 'keepalive', { signal: ac.signal });
  assert.equal(closed, false);
  pair.client.off('close', onClose);
  pair.serverConn.off('close', onClose);
  assert.ok(pair.client.keepAlivesSent >= 15);
  assert.equal(pair.serverConn.keepAlivesSent, 0);
  const s = await pair.client.openStream();
  const accepted = once(pair.serverConn, 'stream');
  s.end('still alive');
  const [peer] = (await accepted) as [QuicStream];
  assert.equal((await readAll(peer)).toString(), 'still alive');
  peer.end();
  await readAll(s);
  await pair.close();
});

test('without keep-alive a silent peer ends the connection with an idle timeout', async () => {
  const pair = await quicPair({ idleTimeoutMs: 1000, keepAliveMs: 0 }, { idleTimeoutMs: 1000, keepAliveMs: 0 });
  const [err] = (await once(pair.client, 'close')) as [unknown];
  assert.ok(err instanceof QuicIdleTimeoutError, String(err));
  await pair.server.close();
});

test('a killed peer process is noticed as an idle timeout', async () => {
  const certs = await edgeCerts();
  const child = fork(fileURLToPath(new URL('./peer-process.ts', import.meta.url)), { execArgv: ['--import', 'tsx'] });
  try {
    child.send({ certPem: certs.certPem, keyPem: certs.keyPem, idleTimeoutMs: 5000 });
    const exitedEarly = once(child, 'exit').then(() => {
      throw new Error('peer process exited before listening');
    });
    const [{ port }] = (await Promise.race([once(child, 'message'), exitedEarly])) as [{ port: number }];
    exitedEarly.catch(() => undefined);
    const conn = await connectQuic({
      host: '127.0.0.1',
      port,
      serverName: 'quic.cftunnel.com',
      ca: certs.caPem,
      idleTimeoutMs: 600,
      keepAliveMs: 100,
    });
    const s = await conn.openStream();
    s.write('ping');
    await once(s, 'data');
    s.on('error', () => undefined);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    const [err] = (await once(conn, 'close')) as [unknown];
    assert.ok(err instanceof QuicIdleTimeoutError, String(err));
    assert.equal(err.code, 'CFT_ERR_QUIC_IDLE_TIMEOUT');
    assert.equal(conn.closed, true);
    await assert.rejects(conn.openStream(), QuicLocalCloseError);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

async function closeCodeReaches(closer: 'client' | 'server'): Promise<void> {
  const pair = await quicPair();
  const [from, to]: [QuicConnection, QuicConnection] =
    closer === 'client' ? [pair.client, pair.serverConn] : [pair.serverConn, pair.client];
  const seen = once(to, 'close') as Promise<[unknown]>;
  const localClose = once(from, 'close') as Promise<[unknown]>;
  await from.close(0x2a, 'going away');
  const [localErr] = await localClose;
  assert.equal(localErr, undefined, 'a local close reports no error');
  const [err] = await seen;
  assert.ok(err instanceof QuicPeerClosedError, String(err));
  assert.equal(err.code, 'CFT_ERR_QUIC_PEER_CLOSED');
  assert.equal(err.errorCode, 0x2a);
  assert.equal(err.reason, 'going away');
  assert.equal(err.isApplication, true);
  await pair.close();
}

test('close code and reason reach the server', () => closeCodeReaches('client'));
test('close code and reason reach the client', () => closeCodeReaches('server'));

test('open streams fail with the connection error when the peer closes', async () => {
  const pair = await quicPair();
  const s = await pair.client.openStream();
  s.write('x');
  const [peer] = (await once(pair.serverConn, 'stream')) as [QuicStream];
  const peerFailed = once(peer, 'error') as Promise<[unknown]>;
  const failed = once(s, 'error') as Promise<[unknown]>;
  await pair.serverConn.close(5, 'bye');
  const [err] = await failed;
  assert.ok(err instanceof QuicPeerClosedError && err.errorCode === 5, String(err));
  const [localErr] = await peerFailed;
  assert.ok(localErr instanceof QuicLocalCloseError, String(localErr));
  await pair.close();
});

test('localPort: a reconnect binds the previous port when free, a random one when taken', async () => {
  const pair = await quicPair();
  const options = {
    host: '127.0.0.1',
    port: pair.server.address().port,
    serverName: 'quic.cftunnel.com',
    ca: (await edgeCerts()).caPem,
  };
  const first = await connectQuic(options);
  const port = first.localAddress.port;
  await first.close();
  const again = await connectQuic({ ...options, localPort: port });
  assert.equal(again.localAddress.port, port);
  const taken = await connectQuic({ ...options, localPort: port });
  assert.notEqual(taken.localAddress.port, port);
  assert.ok(taken.localAddress.port > 0);
  await again.close();
  await taken.close();
  await pair.close();
});
