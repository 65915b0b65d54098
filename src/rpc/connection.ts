/**
 * A two-party Cap'n Proto RPC connection over any Node Duplex (QUIC stream, HTTP/2 stream, TCP socket).
 *
 * Implements the subset of rpc.capnp that cloudflared and its edge use (docs/protocol.md §6.1, §17): Bootstrap, Call
 * (including calls pipelined on an unanswered bootstrap question), Return, Finish, Release, Abort, and Unimplemented
 * for anything else. The only capability ever exchanged is each side's bootstrap capability; no promises are
 * exported and no results carry capabilities, so there is no embargo or resolve machinery.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { wireText } from '../errors.js';
import { Message, PointerType, utils, type Struct } from 'capnp-es';
import * as rpc from 'capnp-es/capnp/rpc';
import { FrameReader, MAX_CAPNP_MESSAGE_BYTES } from '../capnp/framing.js';
import type { LocalCapability, MethodRef } from './capability.js';
import {
  RpcAbortedError,
  RpcCanceledError,
  RpcDisconnectedError,
  RpcError,
  RpcExceptionError,
  RpcFrameError,
  RpcProtocolError,
  RpcServerException,
  RpcTimeoutError,
} from './errors.js';
import {
  SHUTDOWN_ABORT_REASON,
  beginResultsReturn,
  encodeAbort,
  encodeBootstrap,
  encodeBootstrapReturn,
  encodeCall,
  encodeCanceledReturn,
  encodeExceptionReturn,
  encodeFinish,
  encodeRelease,
  encodeUnimplemented,
  exceptionTypeName,
  type WireTarget,
} from './wire.js';
import { withinTraversalLimit } from './traversal.js';

/**
 * Largest incoming RPC message accepted by default: cloudflared's capnp decode limit (§6.1). Registration messages
 * are a few KiB, but a remote configuration (§9.1) can be megabytes.
 */
export const DEFAULT_MAX_RPC_FRAME_BYTES = MAX_CAPNP_MESSAGE_BYTES;

/** Most words an Unimplemented echo may copy; an echo is a small message's copy, and hostile graphs alias endlessly. */
const UNIMPLEMENTED_ECHO_BUDGET_WORDS = 64 * 1024;

/** Export ID of the bootstrap capability; the Go edge also hosts its main capability at 0 (vectors MANIFEST). */
const BOOTSTRAP_EXPORT_ID = 0;

/** Options of {@link RpcConnection}. */
export interface RpcConnectionOptions {
  /** Capability answered to the peer's Bootstrap; without it Bootstrap gets an exception. */
  bootstrap?: LocalCapability;
  /** Incoming frame size limit in bytes (default {@link DEFAULT_MAX_RPC_FRAME_BYTES}); larger closes the connection. */
  maxFrameBytes?: number;
  /** Timeout applied to calls that pass none (default: no timeout). */
  defaultTimeoutMs?: number;
}

/** Per-call options. */
export interface CallOptions {
  /** Reject with `RpcTimeoutError` (and Finish the question) when no Return arrived within this many ms. */
  timeoutMs?: number;
  /** Reject with `RpcCanceledError` (and Finish the question) when aborted. */
  signal?: AbortSignal;
}

/** A successful call's results struct and the capnp Message it lives in (keep the Message while reading). */
export interface CallResult<R extends Struct> {
  results: R;
  message: Message;
}

/** A capability hosted by the peer: the result of {@link RpcConnection.bootstrap}. */
export class RemoteCapability {
  /** @internal question of the Bootstrap while unanswered. */
  pendingQuestion: number | undefined;
  /** @internal import ID once the Bootstrap Return named it. */
  importId: number | undefined;
  /** @internal why the capability is unusable. */
  error: RpcError | undefined;

  /** @internal */
  constructor(pendingQuestion: number | undefined, importId?: number) {
    this.pendingQuestion = pendingQuestion;
    this.importId = importId;
  }
}

interface Question {
  readonly id: number;
  /** For Bootstrap questions: the capability the Return resolves. */
  readonly cap?: RemoteCapability;
  readonly ref?: MethodRef<Struct, Struct>;
  resolve?: (r: CallResult<Struct>) => void;
  reject?: (e: Error) => void;
  finishSent: boolean;
  cleanup?: () => void;
}

interface Answer {
  readonly bootstrap: boolean;
  returned: boolean;
  /** Created only when the method reads `ctx.signal` (most never do). */
  controller?: AbortController;
}

/**
 * One RPC session over one stream. Create it as soon as the stream is ready; both sides may call and serve. When the
 * stream is a TCP socket, Nagle's algorithm is turned off on it (as Go does by default).
 */
export class RpcConnection {
  /** Settles (never rejects) when the connection is over, with the error that ended it or null for a clean close. */
  readonly closed: Promise<RpcError | null>;

  private readonly reader: FrameReader;
  private readonly questions = new Map<number, Question>();
  private readonly freeQuestionIds: number[] = [];
  private nextQuestionId = 0;
  private readonly answers = new Map<number, Answer>();
  private readonly imports = new Map<number, number>();
  private exportRefs = 0;
  private readonly writeQueue: Buffer[] = [];
  private blocked = false;
  private corked = false;
  private drainWaiters: (() => void)[] = [];
  private done = false;
  private resolveClosed!: (e: RpcError | null) => void;
  private readonly bootstrapCap: LocalCapability | undefined;
  private readonly defaultTimeoutMs: number | undefined;

  constructor(
    private readonly stream: Duplex,
    options: RpcConnectionOptions = {},
  ) {
    this.reader = new FrameReader(options.maxFrameBytes ?? DEFAULT_MAX_RPC_FRAME_BYTES);
    this.bootstrapCap = options.bootstrap;
    this.defaultTimeoutMs = options.defaultTimeoutMs;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    // RPC is request/response with small messages: Nagle + delayed ACK would add ~40 ms per round trip (measured).
    // Go's TCP connections have TCP_NODELAY on by default; match that when the stream is a TCP socket.
    (stream as Partial<Pick<Socket, 'setNoDelay'>>).setNoDelay?.(true);
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('error', this.onStreamError);
    stream.on('close', this.onStreamClose);
    stream.on('drain', this.onDrain);
  }

  /** True once the connection has ended; every further call rejects with `RpcDisconnectedError`. */
  get isClosed(): boolean {
    return this.done;
  }

  /** True while the stream's `write()` has returned false and no `drain` came yet; new calls wait for it. */
  get writeBlocked(): boolean {
    return this.blocked;
  }

  /** Sends Bootstrap and returns the peer's main capability; calls on it may be made at once (pipelined). */
  bootstrap(): RemoteCapability {
    if (this.done) {
      const cap = new RemoteCapability(undefined);
      cap.error = new RpcDisconnectedError('RPC connection is closed');
      return cap;
    }
    const id = this.allocQuestionId();
    const cap = new RemoteCapability(id);
    this.questions.set(id, { id, cap, finishSent: false });
    this.send(encodeBootstrap(id));
    return cap;
  }

  /**
   * Calls `ref` on `target`. `build` fills the params struct (generated class `ref.Params`); the promise resolves
   * with the results struct (class `ref.Results`) or rejects with an `RpcError`.
   */
  async call<P extends Struct, R extends Struct>(
    target: RemoteCapability,
    ref: MethodRef<P, R>,
    build: (params: P) => void,
    options: CallOptions = {},
  ): Promise<CallResult<R>> {
    if (this.blocked && !this.done) await new Promise<void>((r) => this.drainWaiters.push(r));
    if (this.done) throw new RpcDisconnectedError('RPC connection is closed');
    if (target.error) throw target.error;
    if (options.signal?.aborted) throw new RpcCanceledError({ cause: options.signal.reason });
    const wireTarget: WireTarget =
      target.importId !== undefined ? { importedCap: target.importId } : { promisedAnswer: target.pendingQuestion! };
    const id = this.allocQuestionId();
    const bytes = encodeCall(id, wireTarget, ref.interfaceId, ref.methodId, ref.Params, build);
    return new Promise<CallResult<R>>((resolve, reject) => {
      const q: Question = {
        id,
        ref: ref as unknown as MethodRef<Struct, Struct>,
        resolve: resolve as unknown as (r: CallResult<Struct>) => void,
        reject,
        finishSent: false,
      };
      this.armCancellation(q, options);
      this.questions.set(id, q);
      this.send(bytes);
    });
  }

  /**
   * Closes like cloudflared's Go library: Release every import, `Abort{"rpc: shutdown", failed}`, then end the
   * stream. Pending calls reject with `RpcDisconnectedError`.
   */
  close(): Promise<RpcError | null> {
    if (!this.done) {
      for (const [id, count] of this.imports) this.send(encodeRelease(id, count));
      this.imports.clear();
      this.send(encodeAbort(SHUTDOWN_ABORT_REASON, 'failed'));
      this.teardown(null, new RpcDisconnectedError('RPC connection closed locally'));
    }
    return this.closed;
  }

  // ---- questions (our calls) ----

  private allocQuestionId(): number {
    // Go's capnp reuses the most recently freed ID first (unregisterConnection reuses question 1, vectors MANIFEST).
    return this.freeQuestionIds.pop() ?? this.nextQuestionId++;
  }

  private armCancellation(q: Question, options: CallOptions): void {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const signal = options.signal;
    if (timeoutMs === undefined && !signal) return;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => this.cancelQuestion(q, new RpcTimeoutError(timeoutMs)), timeoutMs);
    const onAbort = (): void => this.cancelQuestion(q, new RpcCanceledError({ cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    q.cleanup = () => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
  }

  /** Settles the caller's promise now and Finishes early; the ID stays reserved until the peer's Return. */
  private cancelQuestion(q: Question, err: RpcError): void {
    const reject = q.reject;
    if (!reject) return;
    this.settle(q);
    reject(err);
    if (!q.finishSent && !this.done) {
      q.finishSent = true;
      this.send(encodeFinish(q.id));
    }
  }

  private settle(q: Question): void {
    q.cleanup?.();
    q.cleanup = undefined;
    q.resolve = undefined;
    q.reject = undefined;
  }

  private retireQuestion(q: Question): void {
    if (!q.finishSent) this.send(encodeFinish(q.id));
    this.questions.delete(q.id);
    this.freeQuestionIds.push(q.id);
  }

  private onReturn(msg: Message, ret: rpc.Return): void {
    const q = this.questions.get(ret.answerId);
    if (!q) throw new RpcProtocolError(`Return for unknown question ${ret.answerId}`);
    const which = ret.which();
    if (q.cap) this.resolveBootstrap(q.cap, ret, which);
    else if (q.resolve && q.reject) {
      const { resolve, reject } = q;
      this.settle(q);
      try {
        if (which === rpc.Return.RESULTS) {
          resolve({ results: utils.getStruct(0, q.ref!.Results, ret.results), message: msg });
        } else if (which === rpc.Return.EXCEPTION) {
          reject(new RpcExceptionError(ret.exception.reason, exceptionTypeName(ret.exception.type)));
        } else if (which === rpc.Return.CANCELED) {
          reject(new RpcExceptionError(`${q.ref!.name} was canceled by the peer`, 'failed'));
        } else {
          reject(new RpcProtocolError(`unsupported Return kind ${which} for ${q.ref!.name}`));
        }
      } catch (err) {
        // Reading the results or the exception failed. The caller is settled already (so a teardown would not reach
        // it): reject it here, then rethrow so that the whole connection fails.
        const e = new RpcProtocolError(`malformed ${q.ref!.name} Return: ${(err as Error).message}`, { cause: err });
        reject(e);
        throw e;
      }
    }
    this.retireQuestion(q);
  }

  private resolveBootstrap(cap: RemoteCapability, ret: rpc.Return, which: number): void {
    cap.pendingQuestion = undefined;
    if (which === rpc.Return.EXCEPTION) {
      cap.error = new RpcExceptionError(ret.exception.reason, exceptionTypeName(ret.exception.type));
      return;
    }
    if (which !== rpc.Return.RESULTS) throw new RpcProtocolError('Bootstrap answered without results');
    const content = utils.getPointer(0, ret.results);
    if (utils.isNull(content) || utils.getTargetPointerType(content) !== PointerType.OTHER) {
      throw new RpcProtocolError('Bootstrap Return does not carry a capability');
    }
    const desc = ret.results.capTable.get(utils.getCapabilityId(content));
    const kind = desc.which();
    if (kind !== rpc.CapDescriptor.SENDER_HOSTED && kind !== rpc.CapDescriptor.SENDER_PROMISE) {
      throw new RpcProtocolError(`Bootstrap Return carries an unsupported capability descriptor (${kind})`);
    }
    const importId = kind === rpc.CapDescriptor.SENDER_HOSTED ? desc.senderHosted : desc.senderPromise;
    cap.importId = importId;
    this.imports.set(importId, (this.imports.get(importId) ?? 0) + 1);
  }

  private onUnimplemented(echo: rpc.Message): void {
    // The peer did not understand one of our messages: a Call or Bootstrap it echoes is answered as `unimplemented`.
    const which = echo.which();
    const id =
      which === rpc.Message.CALL
        ? echo.call.questionId
        : which === rpc.Message.BOOTSTRAP
          ? echo.bootstrap.questionId
          : -1;
    const q = this.questions.get(id);
    if (!q) return;
    const err = new RpcExceptionError('peer does not implement this message', 'unimplemented');
    if (q.cap) {
      q.cap.pendingQuestion = undefined;
      q.cap.error = err;
    } else if (q.reject) {
      const reject = q.reject;
      this.settle(q);
      reject(err);
    }
    this.questions.delete(id);
    this.freeQuestionIds.push(id);
  }

  // ---- answers (peer's calls) ----

  private onBootstrap(questionId: number): void {
    if (this.answers.has(questionId)) throw new RpcProtocolError(`question ID ${questionId} reused while in use`);
    this.answers.set(questionId, { bootstrap: true, returned: true });
    if (!this.bootstrapCap) {
      this.send(encodeExceptionReturn(questionId, 'failed', 'no bootstrap capability is served on this connection'));
      return;
    }
    this.exportRefs++;
    this.send(encodeBootstrapReturn(questionId, BOOTSTRAP_EXPORT_ID));
  }

  private resolveTarget(target: rpc.MessageTarget): LocalCapability | string {
    if (target.which() === rpc.MessageTarget.IMPORTED_CAP) {
      if (target.importedCap === BOOTSTRAP_EXPORT_ID && this.exportRefs > 0 && this.bootstrapCap)
        return this.bootstrapCap;
      return `no capability exported with ID ${target.importedCap}`;
    }
    const pa = target.promisedAnswer;
    const answer = this.answers.get(pa.questionId);
    if (answer?.bootstrap && pa.transform.length === 0 && this.bootstrapCap) return this.bootstrapCap;
    return `promised answer ${pa.questionId} does not resolve to a capability`;
  }

  private onCall(call: rpc.Call): void {
    const id = call.questionId;
    if (this.answers.has(id)) throw new RpcProtocolError(`question ID ${id} reused while in use`);
    if (call.sendResultsTo.which() !== rpc.Call_SendResultsTo.CALLER) {
      this.answers.set(id, { bootstrap: false, returned: true });
      this.send(encodeExceptionReturn(id, 'unimplemented', 'only sendResultsTo.caller is supported'));
      return;
    }
    const target = this.resolveTarget(call.target);
    const entry = typeof target === 'string' ? undefined : target.lookup(call.interfaceId, call.methodId);
    if (!entry) {
      this.answers.set(id, { bootstrap: false, returned: true });
      const reason =
        typeof target === 'string'
          ? target
          : `${target.name} does not implement method ${call.methodId} of interface 0x${call.interfaceId.toString(16)}`;
      this.send(encodeExceptionReturn(id, typeof target === 'string' ? 'failed' : 'unimplemented', reason));
      return;
    }
    const answer: Answer = { bootstrap: false, returned: false };
    this.answers.set(id, answer);
    const params = utils.getStruct(0, entry.ref.Params, call.params);
    const { results, finish } = beginResultsReturn(id, entry.ref.Results);
    const ctx = {
      get signal(): AbortSignal {
        answer.controller ??= new AbortController();
        return answer.controller.signal;
      },
    };
    let running: void | Promise<void>;
    try {
      running = entry.handler(params, results, ctx);
    } catch (err) {
      this.completeAnswer(id, answer, () => exceptionBytes(id, err));
      return;
    }
    if (running instanceof Promise) {
      running.then(
        () => this.completeAnswer(id, answer, finish),
        (err: unknown) => this.completeAnswer(id, answer, () => exceptionBytes(id, err)),
      );
    } else this.completeAnswer(id, answer, finish);
  }

  private completeAnswer(id: number, answer: Answer, encode: () => Buffer): void {
    // Dropped when the caller finished early (already answered `canceled`) or the connection ended meanwhile.
    if (this.done || this.answers.get(id) !== answer || answer.returned) return;
    answer.returned = true;
    this.send(encode());
  }

  private onFinish(questionId: number): void {
    const answer = this.answers.get(questionId);
    if (!answer) return;
    this.answers.delete(questionId);
    if (!answer.returned) {
      answer.returned = true;
      // Created here if the method has not asked for it yet, so a later `ctx.signal` read is already aborted.
      (answer.controller ??= new AbortController()).abort(new RpcCanceledError());
      this.send(encodeCanceledReturn(questionId));
    }
  }

  private onRelease(id: number, count: number): void {
    if (id === BOOTSTRAP_EXPORT_ID) this.exportRefs = Math.max(0, this.exportRefs - count);
  }

  // ---- transport ----

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return;
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.fail(new RpcFrameError(`bad RPC frame: ${(err as Error).message}`, { cause: err }));
      return;
    }
    for (const f of frames) {
      if (this.done) return;
      try {
        this.dispatch(f);
      } catch (err) {
        this.fail(
          err instanceof RpcError
            ? err
            : new RpcProtocolError(`malformed RPC message: ${(err as Error).message}`, { cause: err }),
        );
      }
    }
  };

  private dispatch(frame: Buffer): void {
    const msg = new Message(frame, false);
    const root = msg.getRoot(rpc.Message);
    switch (root.which()) {
      case rpc.Message.CALL:
        return this.onCall(root.call);
      case rpc.Message.RETURN:
        return this.onReturn(msg, root.return);
      case rpc.Message.FINISH:
        return this.onFinish(root.finish.questionId);
      case rpc.Message.BOOTSTRAP:
        return this.onBootstrap(root.bootstrap.questionId);
      case rpc.Message.RELEASE:
        return this.onRelease(root.release.id, root.release.referenceCount);
      case rpc.Message.ABORT: {
        const ex = root.abort;
        const err = new RpcAbortedError(ex.reason, exceptionTypeName(ex.type));
        return this.teardown(err, err);
      }
      case rpc.Message.UNIMPLEMENTED:
        return this.onUnimplemented(root.unimplemented);
      default:
        this.send(encodeUnimplemented(root, withinTraversalLimit(frame, UNIMPLEMENTED_ECHO_BUDGET_WORDS)));
    }
  }

  /** Ends the connection because of a local/protocol failure: tell the peer why, then drop the stream. */
  private fail(err: RpcError): void {
    if (this.done) return;
    this.send(encodeAbort(wireText(err), 'failed'));
    this.teardown(err, err, true);
  }

  private readonly onEnd = (): void => {
    this.teardown(null, new RpcDisconnectedError('peer closed the RPC stream'));
  };

  private readonly onStreamError = (err: Error): void => {
    const e = new RpcDisconnectedError(`RPC stream failed: ${err.message}`, { cause: err });
    this.teardown(e, e);
  };

  private readonly onStreamClose = (): void => {
    this.teardown(null, new RpcDisconnectedError('RPC stream closed'));
  };

  private readonly onDrain = (): void => {
    this.blocked = false;
    while (this.writeQueue.length > 0 && !this.blocked) {
      this.blocked = !this.stream.write(this.writeQueue.shift()!);
    }
    if (!this.blocked) this.wakeWriters();
  };

  private wakeWriters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private send(bytes: Buffer): void {
    if (this.stream.writableEnded || this.stream.destroyed) return;
    if (this.blocked) {
      this.writeQueue.push(bytes);
      return;
    }
    // Coalesce the messages of one tick into one writev (one syscall / packet instead of one per message).
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(this.uncork);
    }
    this.blocked = !this.stream.write(bytes);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.stream.uncork();
  };

  /**
   * Fails every pending question with `pendingError`, cancels running server methods, and ends our side of the
   * stream (after queued writes). `destroy` also tears the stream down (protocol/frame errors).
   */
  private teardown(closeReason: RpcError | null, pendingError: RpcError, destroy = false): void {
    if (this.done) return;
    this.done = true;
    for (const q of this.questions.values()) {
      if (q.cap) q.cap.error = pendingError;
      const reject = q.reject;
      this.settle(q);
      reject?.(pendingError);
    }
    this.questions.clear();
    for (const a of this.answers.values()) (a.controller ??= new AbortController()).abort(pendingError);
    this.answers.clear();
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('drain', this.onDrain);
    this.stream.off('close', this.onStreamClose);
    // Keep an error listener: a late transport error must not become an uncaught exception.
    if (!this.stream.destroyed) {
      if (this.writeQueue.length > 0) this.stream.write(Buffer.concat(this.writeQueue));
      this.writeQueue.length = 0;
      if (destroy) this.stream.end(() => this.stream.destroy());
      else this.stream.end();
    }
    this.wakeWriters();
    this.resolveClosed(closeReason);
  }
}

function exceptionBytes(answerId: number, err: unknown): Buffer {
  if (err instanceof RpcServerException) return encodeExceptionReturn(answerId, err.type, err.message);
  const reason = err instanceof Error ? err.message : String(err);
  return encodeExceptionReturn(answerId, 'failed', reason);
}
