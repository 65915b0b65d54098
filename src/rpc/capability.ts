/**
 * Method descriptors and the locally served capability: a table from (interface ID, method ordinal) to handler.
 * A Call names the interface that *declares* the method (docs/protocol.md §6.2 "Call addressing"), so a capability that
 * implements an interface with `extends` simply registers handlers under each ancestor's ID.
 */
import type { Struct, StructCtor } from 'capnp-es';

/** Identifies one RPC method and the generated capnp-es structs of its implicit params/results. */
export interface MethodRef<P extends Struct, R extends Struct> {
  /** ID of the interface that declares the method. */
  readonly interfaceId: bigint;
  /** The method's ordinal within that interface. */
  readonly methodId: number;
  /** Generated class of the implicit `$Params` struct. */
  readonly Params: StructCtor<P>;
  /** Generated class of the implicit `$Results` struct. */
  readonly Results: StructCtor<R>;
  /** Human-readable name for error messages, e.g. `RegistrationServer.registerConnection`. */
  readonly name: string;
}

/** Per-call context handed to a server method. */
export interface ServerCallContext {
  /** Aborted when the caller finishes (cancels) the call early or the connection closes. */
  readonly signal: AbortSignal;
}

/**
 * A server method: reads `params`, writes into `results` (already allocated in the Return message). Throwing or
 * rejecting sends an exception Return; see `RpcServerException` to pick the exception type.
 */
export type ServerMethod<P extends Struct, R extends Struct> = (
  params: P,
  results: R,
  ctx: ServerCallContext,
) => void | Promise<void>;

/** A handler with its method descriptor, stored type-erased in the dispatch table. */
export interface MethodEntry {
  readonly ref: MethodRef<Struct, Struct>;
  readonly handler: ServerMethod<Struct, Struct>;
}

function methodKey(interfaceId: bigint, methodId: number): string {
  return `${interfaceId.toString(16)}:${methodId}`;
}

/** A capability hosted by this side (served as the connection's bootstrap capability). */
export class LocalCapability {
  private readonly methods = new Map<string, MethodEntry>();

  /**
   * @param name label used in `unimplemented` exception reasons.
   * @param interfaceIds every interface this capability implements: its own ID plus all ancestors (`extends`).
   */
  constructor(
    readonly name: string,
    readonly interfaceIds: readonly bigint[],
  ) {}

  /** Registers the handler of one method. The method's interface must be one of `interfaceIds`. */
  method<P extends Struct, R extends Struct>(ref: MethodRef<P, R>, handler: ServerMethod<P, R>): this {
    if (!this.interfaceIds.includes(ref.interfaceId)) {
      throw new TypeError(`${this.name} does not implement the interface of ${ref.name}`);
    }
    this.methods.set(methodKey(ref.interfaceId, ref.methodId), {
      ref: ref as unknown as MethodRef<Struct, Struct>,
      handler: handler as unknown as ServerMethod<Struct, Struct>,
    });
    return this;
  }

  /** The handler for a Call, or undefined when this capability does not implement it. */
  lookup(interfaceId: bigint, methodId: number): MethodEntry | undefined {
    return this.methods.get(methodKey(interfaceId, methodId));
  }
}
