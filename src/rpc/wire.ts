/**
 * Builders for the rpc.capnp messages the two-party connection sends. Each returns the framed bytes (standard stream
 * framing, single segment) ready to write; Calls and Returns expose their payload so callers fill in the content.
 */
import { Message, utils, type Struct, type StructCtor } from 'capnp-es';
import * as rpc from 'capnp-es/capnp/rpc';
import type { RpcExceptionType } from './errors.js';

/** `Abort.reason` cloudflared's Go RPC library sends when it closes a connection (docs/protocol.md §6, vectors MANIFEST). */
export const SHUTDOWN_ABORT_REASON = 'rpc: shutdown';

const EXCEPTION_TYPE_CODES: Record<RpcExceptionType, rpc.Exception_Type> = {
  failed: rpc.Exception_Type.FAILED,
  overloaded: rpc.Exception_Type.OVERLOADED,
  disconnected: rpc.Exception_Type.DISCONNECTED,
  unimplemented: rpc.Exception_Type.UNIMPLEMENTED,
};

/** Maps a wire `Exception.type` to its name; unknown future values degrade to `failed`. */
export function exceptionTypeName(code: number): RpcExceptionType {
  switch (code) {
    case rpc.Exception_Type.OVERLOADED:
      return 'overloaded';
    case rpc.Exception_Type.DISCONNECTED:
      return 'disconnected';
    case rpc.Exception_Type.UNIMPLEMENTED:
      return 'unimplemented';
    default:
      return 'failed';
  }
}

/** Where a Call is addressed. */
export type WireTarget = { importedCap: number } | { promisedAnswer: number };

function frame(msg: Message): Buffer {
  return Buffer.from(msg.toArrayBuffer());
}

function newRoot(): { msg: Message; root: rpc.Message } {
  const msg = new Message();
  return { msg, root: msg.initRoot(rpc.Message) };
}

/** A Return for `answerId` with `releaseParamCaps = false`, as the Go peers send (vectors MANIFEST). */
function newReturn(answerId: number): { msg: Message; ret: rpc.Return } {
  const { msg, root } = newRoot();
  const ret = root._initReturn();
  ret.answerId = answerId;
  ret.releaseParamCaps = false;
  return { msg, ret };
}

/** `Bootstrap{questionId}`. */
export function encodeBootstrap(questionId: number): Buffer {
  const { msg, root } = newRoot();
  root._initBootstrap().questionId = questionId;
  return frame(msg);
}

/**
 * `Call` with `sendResultsTo.caller`; `build` fills the params struct. Params carry no capabilities, so the capTable
 * is left empty, as the Go client writes it.
 */
export function encodeCall<P extends Struct>(
  questionId: number,
  target: WireTarget,
  interfaceId: bigint,
  methodId: number,
  Params: StructCtor<P>,
  build: (params: P) => void,
): Buffer {
  const { msg, root } = newRoot();
  const call = root._initCall();
  call.questionId = questionId;
  const t = call._initTarget();
  if ('importedCap' in target) t.importedCap = target.importedCap;
  else t._initPromisedAnswer().questionId = target.promisedAnswer;
  call.interfaceId = interfaceId;
  call.methodId = methodId;
  call._initSendResultsTo().caller = true;
  const payload = call._initParams();
  build(utils.initStructAt(0, Params, payload));
  payload._initCapTable(0);
  return frame(msg);
}

/** Starts a results Return; the caller fills the returned struct then calls `finish()` for the bytes. */
export function beginResultsReturn<R extends Struct>(
  answerId: number,
  Results: StructCtor<R>,
): { results: R; finish: () => Buffer } {
  const { msg, ret } = newReturn(answerId);
  const payload = ret._initResults();
  const results = utils.initStructAt(0, Results, payload);
  payload._initCapTable(0);
  return { results, finish: () => frame(msg) };
}

/**
 * The Return answering a Bootstrap: content is capability pointer 0 and capTable `[senderHosted exportId]`, exactly
 * as the Go edge answers (vectors MANIFEST, control-e2c.0).
 */
export function encodeBootstrapReturn(answerId: number, exportId: number): Buffer {
  const { msg, ret } = newReturn(answerId);
  const payload = ret._initResults();
  utils.setInterfacePointer(0, utils.getPointer(0, payload));
  payload._initCapTable(1).get(0).senderHosted = exportId;
  return frame(msg);
}

/** `Return{exception}`. */
export function encodeExceptionReturn(answerId: number, type: RpcExceptionType, reason: string): Buffer {
  const { msg, ret } = newReturn(answerId);
  const ex = ret._initException();
  ex.reason = reason;
  ex.type = EXCEPTION_TYPE_CODES[type];
  return frame(msg);
}

/** `Return{canceled}`: the answer to a call the caller finished before it completed. */
export function encodeCanceledReturn(answerId: number): Buffer {
  const { msg, ret } = newReturn(answerId);
  ret.canceled = true;
  return frame(msg);
}

/** `Finish{questionId, releaseResultCaps: false}` as the Go client sends it. */
export function encodeFinish(questionId: number): Buffer {
  const { msg, root } = newRoot();
  const fin = root._initFinish();
  fin.questionId = questionId;
  fin.releaseResultCaps = false;
  return frame(msg);
}

/** `Release{id, referenceCount}`. */
export function encodeRelease(id: number, referenceCount: number): Buffer {
  const { msg, root } = newRoot();
  const rel = root._initRelease();
  rel.id = id;
  rel.referenceCount = referenceCount;
  return frame(msg);
}

/** `Abort{reason, type}`. */
export function encodeAbort(reason: string, type: RpcExceptionType): Buffer {
  const { msg, root } = newRoot();
  const ex = root._initAbort();
  ex.reason = reason;
  ex.type = EXCEPTION_TYPE_CODES[type];
  return frame(msg);
}

/** Byte offset of the `Message` union discriminant in its data section (rpc.capnp layout). */
const MESSAGE_WHICH_OFFSET = 0;

/**
 * `Unimplemented` echoing a received message back to its sender. `copyable` false (the message failed the bounded
 * traversal check) echoes only its kind: capnp-es's deep copy of a hostile pointer graph never ends.
 */
export function encodeUnimplemented(received: rpc.Message, copyable: boolean): Buffer {
  const { msg, root } = newRoot();
  if (copyable) root.unimplemented = received;
  else utils.setUint16(MESSAGE_WHICH_OFFSET, received.which(), root._initUnimplemented());
  return frame(msg);
}
