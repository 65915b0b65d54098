/** A tiny hand-built test interface for the generic RPC layer (layout: Int32 @ byte 0, Text in pointer 0). */
import { ObjectSize, Struct, utils } from 'capnp-es';
import type { MethodRef } from '../../src/rpc/capability.js';

/** Params and results of every test method: `{ n :Int32, text :Text }`. */
export class EchoStruct extends Struct {
  static override readonly _capnp = { displayName: 'EchoStruct', id: 'f00dfeedf00dfeed', size: new ObjectSize(8, 1) };
  get n(): number {
    return utils.getInt32(0, this);
  }
  set n(v: number) {
    utils.setInt32(0, v, this);
  }
  get text(): string {
    return utils.getText(0, this);
  }
  set text(v: string) {
    utils.setText(0, v, this);
  }
}

/** Base test interface. */
export const BASE_IID = 0xa1a1a1a1a1a1a1a1n;
/** Interface that `extends (Base)`. */
export const CHILD_IID = 0xb2b2b2b2b2b2b2b2n;

function method(interfaceId: bigint, methodId: number, name: string): MethodRef<EchoStruct, EchoStruct> {
  return { interfaceId, methodId, Params: EchoStruct, Results: EchoStruct, name };
}

export const echo = method(BASE_IID, 0, 'Base.echo');
export const fail = method(BASE_IID, 1, 'Base.fail');
export const hang = method(BASE_IID, 2, 'Base.hang');
export const double = method(CHILD_IID, 0, 'Child.double');
export const missing = method(CHILD_IID, 9, 'Child.missing');
export const otherIface = method(0xc3c3c3c3c3c3c3c3n, 0, 'Other.x');
