import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { Message } from 'capnp-es';
import * as rpc from 'capnp-es/capnp/rpc';
import { LocalCapability } from '../../src/rpc/capability.js';
import { RpcConnection } from '../../src/rpc/connection.js';
import {
  RpcAbortedError,
  RpcCanceledError,
  RpcDisconnectedError,
  RpcExceptionError,
  RpcFrameError,
  RpcServerException,
  RpcTimeoutError,
} from '../../src/rpc/errors.js';
import { encodeAbort, encodeBootstrap, encodeCall, encodeFinish } from '../../src/rpc/wire.js';
import { BASE_IID, CHILD_IID, EchoStruct, double, echo, fail, hang, missing, otherIface } from './echo-schema.js';
import { frameQueue, socketPair } from './net-helper.js';

/** Emits `start` with the method's AbortSignal each time `hang` begins running on the server. */
type Hangs = EventEmitter;

/** Resolves once the signal has fired (it may already have). */
function aborted(signal: AbortSignal): Promise<unknown> {
  return signal.aborted ? Promise.resolve() : once(signal, 'abort');
}

/** A capability implementing Child (which extends Base); `hang` never settles on its own. */
function testCap(label: string, hangs: Hangs = new EventEmitter()): LocalCapability {
  return new LocalCapability(label, [CHILD_IID, BASE_IID])
    .method(echo, (p, r) => {
      r.n = p.n;
      r.text = `${label}:${p.text}`;
    })
    .method(fail, async (p) => {
      await Promise.resolve();
      if (p.n === 1) throw new RpcServerException('overloaded', 'busy');
      throw new Error(`boom ${p.text}`);
    })
    .method(hang, (_p, _r, ctx) => {
      hangs.emit('start', ctx.signal);
      return new Promise<void>(() => {});
    })
    .method(double, (p, r) => {
      r.n = p.n * 2;
    });
}

async function pair(opts: { left?: LocalCapability; right?: LocalCapability; maxFrameBytes?: number } = {}) {
  const s = await socketPair();
  const left = new RpcConnection(s.a, { bootstrap: opts.left });
  const right = new RpcConnection(s.b, { bootstrap: opts.right, maxFrameBytes: opts.maxFrameBytes });
  return {
    ...s,
    left,
    right,
    async dispose() {
      await left.close();
      await right.close();
      s.close();
    },
  };
}

test('calls work in both directions, pipelined on the bootstrap promise and on the imported cap', async () => {
  const p = await pair({ left: testCap('L'), right: testCap('R') });
  try {
    const remoteR = p.left.bootstrap();
    const remoteL = p.right.bootstrap();
    // Pipelined: issued before the Bootstrap Return can have arrived.
    const [a, b] = await Promise.all([
      p.left.call(remoteR, echo, (x) => ((x.n = 7), (x.text = 'hi'))),
      p.right.call(remoteL, echo, (x) => ((x.n = 8), (x.text = 'yo'))),
    ]);
    assert.equal(remoteR.pendingQuestion, undefined);
    assert.deepEqual([a.results.n, a.results.text], [7, 'R:hi']);
    assert.deepEqual([b.results.n, b.results.text], [8, 'L:yo']);
    assert.equal(remoteR.importId, 0);
    // Now resolved: this call targets importedCap 0. `double` is declared by the derived interface.
    const d = await p.left.call(remoteR, double, (x) => (x.n = 21));
    assert.equal(d.results.n, 42);
  } finally {
    await p.dispose();
  }
});

test('server exceptions become typed remote exceptions, both ways, and never crash the server', async () => {
  const p = await pair({ left: testCap('L'), right: testCap('R') });
  try {
    const r = p.left.bootstrap();
    const l = p.right.bootstrap();
    await assert.rejects(
      p.left.call(r, fail, (x) => (x.text = 'x')),
      (e: unknown) => {
        assert.ok(e instanceof RpcExceptionError);
        assert.equal(e.code, 'CFT_ERR_RPC_EXCEPTION');
        assert.equal(e.type, 'failed');
        assert.equal(e.reason, 'boom x');
        return true;
      },
    );
    await assert.rejects(
      p.right.call(l, fail, (x) => (x.n = 1)),
      (e: unknown) => {
        assert.ok(e instanceof RpcExceptionError);
        assert.equal(e.type, 'overloaded');
        assert.equal(e.retryable, true);
        return true;
      },
    );
    // The connection still serves after the exceptions.
    assert.equal((await p.left.call(r, echo, (x) => (x.n = 3))).results.n, 3);
  } finally {
    await p.dispose();
  }
});

test('unknown method and unknown interface answer an unimplemented exception', async () => {
  const p = await pair({ right: testCap('R') });
  try {
    const r = p.left.bootstrap();
    for (const ref of [missing, otherIface]) {
      await assert.rejects(
        p.left.call(r, ref, () => {}),
        (e: unknown) => {
          assert.ok(e instanceof RpcExceptionError);
          assert.equal(e.type, 'unimplemented');
          return true;
        },
      );
    }
  } finally {
    await p.dispose();
  }
});

test('Bootstrap of a side that serves nothing fails the calls made on it', async () => {
  const p = await pair();
  try {
    const r = p.left.bootstrap();
    await assert.rejects(
      p.left.call(r, echo, () => {}),
      RpcExceptionError,
    );
    await assert.rejects(
      p.left.call(r, echo, () => {}),
      RpcExceptionError,
    );
  } finally {
    await p.dispose();
  }
});

test('1000 concurrent calls all resolve with their own results', async () => {
  const p = await pair({ right: testCap('R') });
  try {
    const r = p.left.bootstrap();
    const all = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => p.left.call(r, echo, (x) => ((x.n = i), (x.text = String(i))))),
    );
    all.forEach((res, i) => {
      assert.equal(res.results.n, i);
      assert.equal(res.results.text, `R:${i}`);
    });
  } finally {
    await p.dispose();
  }
});

test('call timeout rejects, Finishes early, and the server sees the cancellation', async () => {
  const hangs = new EventEmitter();
  const p = await pair({ right: testCap('R', hangs) });
  try {
    const r = p.left.bootstrap();
    const started = once(hangs, 'start');
    await assert.rejects(
      p.left.call(r, hang, () => {}, { timeoutMs: 20 }),
      (e: unknown) => {
        assert.ok(e instanceof RpcTimeoutError);
        assert.equal(e.code, 'CFT_ERR_RPC_TIMEOUT');
        return true;
      },
    );
    const [signal] = (await started) as [AbortSignal];
    await aborted(signal);
    // The connection is still usable afterwards.
    assert.equal((await p.left.call(r, echo, (x) => (x.n = 5))).results.n, 5);
  } finally {
    await p.dispose();
  }
});

test('AbortSignal cancels a pending call with an early Finish', async () => {
  const hangs = new EventEmitter();
  const p = await pair({ right: testCap('R', hangs) });
  try {
    const r = p.left.bootstrap();
    await p.left.call(r, echo, () => {});
    const ac = new AbortController();
    const started = once(hangs, 'start');
    const pending = p.left.call(r, hang, () => {}, { signal: ac.signal });
    // Cancel once the server is actually running the method.
    const [signal] = (await started) as [AbortSignal];
    ac.abort();
    await assert.rejects(pending, RpcCanceledError);
    await aborted(signal);
    await assert.rejects(
      p.left.call(r, echo, () => {}, { signal: ac.signal }),
      RpcCanceledError,
    );
  } finally {
    await p.dispose();
  }
});

test('early Finish from a raw peer gets Return{canceled} and frees the answer ID for reuse', async () => {
  const hangs = new EventEmitter();
  const s = await socketPair();
  const server = new RpcConnection(s.b, { bootstrap: testCap('R', hangs) });
  const { next } = frameQueue(s.a);
  try {
    const started = once(hangs, 'start');
    s.a.write(encodeBootstrap(0));
    s.a.write(encodeCall(1, { promisedAnswer: 0 }, hang.interfaceId, hang.methodId, EchoStruct, () => {}));
    const boot = await next();
    assert.equal(boot.which(), rpc.Message.RETURN);
    assert.equal(boot.return.results.capTable.get(0).senderHosted, 0);
    s.a.write(encodeFinish(0));
    const [signal] = (await started) as [AbortSignal];
    s.a.write(encodeFinish(1));
    const ret = await next();
    assert.equal(ret.return.answerId, 1);
    assert.equal(ret.return.which(), rpc.Return.CANCELED);
    await aborted(signal);
    // Question 1 may be reused now (targeting the imported bootstrap cap).
    s.a.write(encodeCall(1, { importedCap: 0 }, echo.interfaceId, echo.methodId, EchoStruct, (x) => (x.n = 9)));
    const ret2 = await next();
    assert.equal(ret2.return.answerId, 1);
    assert.equal(ret2.return.which(), rpc.Return.RESULTS);
  } finally {
    await server.close();
    s.close();
  }
});

test('an unknown message type is answered with Unimplemented echoing it', async () => {
  const s = await socketPair();
  const server = new RpcConnection(s.b, { bootstrap: testCap('R') });
  const { next } = frameQueue(s.a);
  try {
    const msg = new Message();
    msg.initRoot(rpc.Message)._initResolve().promiseId = 77;
    s.a.write(Buffer.from(msg.toArrayBuffer()));
    const reply = await next();
    assert.equal(reply.which(), rpc.Message.UNIMPLEMENTED);
    assert.equal(reply.unimplemented.which(), rpc.Message.RESOLVE);
    assert.equal(reply.unimplemented.resolve.promiseId, 77);
  } finally {
    await server.close();
    s.close();
  }
});

test('a received Abort rejects pending calls and closes', async () => {
  const s = await socketPair();
  const client = new RpcConnection(s.a);
  const { next } = frameQueue(s.b);
  try {
    const cap = client.bootstrap();
    const pending = client.call(cap, echo, () => {});
    assert.equal((await next()).which(), rpc.Message.BOOTSTRAP);
    assert.equal((await next()).which(), rpc.Message.CALL);
    s.b.write(encodeAbort('go away', 'disconnected'));
    await assert.rejects(pending, (e: unknown) => {
      assert.ok(e instanceof RpcAbortedError);
      assert.equal(e.reason, 'go away');
      assert.equal(e.type, 'disconnected');
      assert.equal(e.retryable, true);
      return true;
    });
    assert.ok((await client.closed) instanceof RpcAbortedError);
    // Our side ends the stream without an Abort of its own.
    await once(s.b, 'end');
    await assert.rejects(
      client.call(cap, echo, () => {}),
      RpcDisconnectedError,
    );
  } finally {
    s.close();
  }
});

test('peer disconnect mid-call rejects every pending call with a retryable disconnected error', async () => {
  const p = await pair({ right: testCap('R') });
  try {
    const r = p.left.bootstrap();
    await p.left.call(r, echo, () => {});
    const pending = Array.from({ length: 5 }, () => p.left.call(r, hang, () => {}));
    p.b.destroy();
    for (const call of pending) {
      await assert.rejects(call, (e: unknown) => {
        assert.ok(e instanceof RpcDisconnectedError);
        assert.equal(e.code, 'CFT_ERR_RPC_DISCONNECTED');
        assert.equal(e.retryable, true);
        return true;
      });
    }
  } finally {
    await p.dispose();
  }
});

test('an oversized frame closes the connection with a typed frame error', async () => {
  const p = await pair({ left: testCap('L'), maxFrameBytes: 4096 });
  try {
    const l = p.right.bootstrap();
    const pending = p.right.call(l, hang, () => {});
    // The request is small enough for the left side; its 16 KiB answer is not for the right side.
    const big = p.right.call(l, echo, (x) => (x.text = 'x'.repeat(16384)));
    const reason = await p.right.closed;
    assert.ok(reason instanceof RpcFrameError);
    assert.equal(reason.code, 'CFT_ERR_RPC_FRAME');
    await assert.rejects(pending, RpcFrameError);
    await assert.rejects(big, RpcFrameError);
    // The peer is told why before the stream goes away.
    const peerReason = await p.left.closed;
    assert.ok(peerReason instanceof RpcAbortedError);
    assert.match(peerReason.reason, /limit/);
  } finally {
    await p.dispose();
  }
});

test('close() sends Release for the import and Abort "rpc: shutdown", then ends the stream', async () => {
  const s = await socketPair();
  const client = new RpcConnection(s.a);
  const { next } = frameQueue(s.b);
  try {
    client.bootstrap();
    assert.equal((await next()).which(), rpc.Message.BOOTSTRAP);
    const ret = new Message();
    const rr = ret.initRoot(rpc.Message)._initReturn();
    rr.answerId = 0;
    const payload = rr._initResults();
    const { utils } = await import('capnp-es');
    utils.setInterfacePointer(0, utils.getPointer(0, payload));
    payload._initCapTable(1).get(0).senderHosted = 5;
    s.b.write(Buffer.from(ret.toArrayBuffer()));
    const fin = await next();
    assert.equal(fin.which(), rpc.Message.FINISH);
    assert.equal(fin.finish.questionId, 0);
    assert.equal(fin.finish.releaseResultCaps, false);
    const ended = once(s.b, 'end');
    await client.close();
    const rel = await next();
    assert.equal(rel.which(), rpc.Message.RELEASE);
    assert.deepEqual([rel.release.id, rel.release.referenceCount], [5, 1]);
    const abort = await next();
    assert.equal(abort.which(), rpc.Message.ABORT);
    assert.equal(abort.abort.reason, 'rpc: shutdown');
    assert.equal(abort.abort.type, rpc.Exception_Type.FAILED);
    await ended;
  } finally {
    s.close();
  }
});

test('write backpressure: calls wait for drain while the peer is not reading, then all complete', async () => {
  const p = await pair({ right: testCap('R') });
  try {
    const r = p.left.bootstrap();
    await p.left.call(r, echo, () => {});
    p.b.pause();
    const text = 'x'.repeat(64 * 1024);
    const calls = Array.from({ length: 64 }, (_, i) => p.left.call(r, echo, (x) => ((x.n = i), (x.text = text))));
    // write() returned false long before 4 MiB were written: later calls are held back rather than buffered.
    assert.equal(p.left.writeBlocked, true);
    assert.ok(p.a.writableLength < 64 * text.length, `socket buffered ${p.a.writableLength} bytes`);
    p.b.resume();
    const results = await Promise.all(calls);
    results.forEach((res, i) => assert.equal(res.results.n, i));
    assert.equal(p.left.writeBlocked, false);
  } finally {
    await p.dispose();
  }
});
