/**
 * The same ConnectRequest/ConnectResponse codec written with capnp-es's generated classes: the reference the hand
 * codec must match byte for byte (tests) and the baseline it is compared with (bench/codec.bench.ts).
 *
 * Construction order defines the bytes: each non-empty text field is set in schema order (empty strings stay null
 * pointers, as cloudflared's Go capnproto2 writes them) and the metadata list is always initialised.
 */
import * as capnp from 'capnp-es';
import {
  ConnectRequest as CapnpConnectRequest,
  ConnectResponse as CapnpConnectResponse,
  type Metadata as CapnpMetadata,
} from '../../src/capnp/gen/quic_metadata_protocol.js';
import type { ConnectRequest, ConnectResponse, ConnectionType, Metadata } from '../../src/capnp/connect-codec.js';

const TYPES: readonly ConnectionType[] = ['http', 'websocket', 'tcp'];

function setMetadata(list: capnp.List<CapnpMetadata>, metadata: readonly Metadata[]): void {
  metadata.forEach((e, i) => {
    const m = list.get(i);
    if (e.key !== '') m.key = e.key;
    if (e.val !== '') m.val = e.val;
  });
}

function readMetadata(list: capnp.List<CapnpMetadata>): Metadata[] {
  return list.map((m) => ({ key: m.key, val: m.val }));
}

/** capnp-es encoding of a ConnectRequest, framed. */
export function referenceEncodeRequest(req: ConnectRequest): Buffer {
  const message = new capnp.Message();
  const root = message.initRoot(CapnpConnectRequest);
  if (req.dest !== '') root.dest = req.dest;
  root.type = TYPES.indexOf(req.type) as 0 | 1 | 2;
  setMetadata(root._initMetadata(req.metadata.length), req.metadata);
  return Buffer.from(message.toArrayBuffer());
}

/** capnp-es encoding of a ConnectResponse, framed. */
export function referenceEncodeResponse(res: ConnectResponse): Buffer {
  const message = new capnp.Message();
  const root = message.initRoot(CapnpConnectResponse);
  if (res.error !== '') root.error = res.error;
  setMetadata(root._initMetadata(res.metadata.length), res.metadata);
  return Buffer.from(message.toArrayBuffer());
}

/** capnp-es decoding of a framed ConnectRequest. */
export function referenceDecodeRequest(frame: Buffer): ConnectRequest {
  const root = new capnp.Message(frame, false).getRoot(CapnpConnectRequest);
  return { dest: root.dest, type: TYPES[root.type]!, metadata: readMetadata(root.metadata) };
}

/** capnp-es decoding of a framed ConnectResponse. */
export function referenceDecodeResponse(frame: Buffer): ConnectResponse {
  const root = new capnp.Message(frame, false).getRoot(CapnpConnectResponse);
  return { error: root.error, metadata: readMetadata(root.metadata) };
}
