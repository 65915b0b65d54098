/**
 * The fuzz properties, shared by the bounded CI run (`decoders.test.ts`) and the long runner (`long.ts`). Each decoder
 * target feeds hostile bytes to one decoder and checks that it either decodes or throws its own typed error: any other
 * exception, a hang (the runners set a per-input timeout) or an over-budget result fails the property. The ingress
 * target (`ingress.ts`) does the same for rule building and first-match routing.
 */
import { Duplex } from 'node:stream';
import fc from 'fast-check';
import { FrameReader } from '../../src/capnp/framing.js';
import {
  CapnpDecodeError,
  CONNECT_MAX_METADATA_ENTRIES,
  CONNECT_TRAVERSAL_LIMIT_WORDS,
  decodeConnectRequest,
  decodeConnectResponse,
  type Metadata,
} from '../../src/capnp/connect-codec.js';
import {
  ConnectRequestFrameError,
  MAX_CONNECT_REQUEST_BYTES,
  PreambleParser,
  TruncatedPreambleError,
  UnknownStreamSignatureError,
  type StreamPreamble,
} from '../../src/wire/preamble.js';
import {
  decodeSerializedHeaders,
  encodeSerializedHeaders,
  SerializedHeadersError,
} from '../../src/wire/serialized-headers.js';
import { RpcError } from '../../src/rpc/errors.js';
import { DEFAULT_MAX_RPC_FRAME_BYTES } from '../../src/rpc/connection.js';
import { serveCloudflared } from '../../src/rpc/tunnel/cloudflared-server.js';
import { RegistrationClient, RegistrationError } from '../../src/rpc/tunnel/registration-client.js';
import { ingressMatchingProperty } from './ingress.js';
import { chunked, mutatedBytes } from './mutate.js';
import {
  connectRequestSeeds,
  connectResponseSeeds,
  dataStreamSeeds,
  rpcClientSeeds,
  rpcServerSeeds,
  serializedHeaderSeeds,
} from './seeds.js';

/** A fuzz target: a name and a property over its inputs. */
export interface FuzzTarget {
  name: string;
  property(): fc.IRawProperty<unknown[], boolean>;
}

/** Fails with a message naming the unexpected error, so fast-check reports it with the counterexample. */
function unexpected(what: string, err: unknown): never {
  throw new Error(
    `${what} threw an untyped error: ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)}`,
    {
      cause: err,
    },
  );
}

/** Decoded text is bounded by the traversal budget however the message's pointers alias (no amplification). */
function checkMetadataBudget(metadata: Metadata[], texts: string[]): void {
  if (metadata.length > CONNECT_MAX_METADATA_ENTRIES) throw new Error(`decoded ${metadata.length} metadata entries`);
  let bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  for (const m of metadata) bytes += Buffer.byteLength(m.key) + Buffer.byteLength(m.val);
  if (bytes > CONNECT_TRAVERSAL_LIMIT_WORDS * 8)
    throw new Error(`decoded ${bytes} text bytes, over the traversal budget`);
}

function decodeRequestChecked(frame: Buffer): void {
  try {
    const req = decodeConnectRequest(frame);
    checkMetadataBudget(req.metadata, [req.dest]);
  } catch (err) {
    if (!(err instanceof CapnpDecodeError)) unexpected('decodeConnectRequest', err);
  }
}

/** Runs the preamble parser over `chunks`, then decodes the ConnectRequest like the QUIC connection does. */
function parsePreamble(chunks: Buffer[]): void {
  const parser = new PreambleParser();
  let total = 0;
  let result: StreamPreamble | null = null;
  try {
    for (const c of chunks) {
      total += c.length;
      result = parser.push(c);
      if (result !== null) break;
    }
    if (result === null) parser.end();
  } catch (err) {
    if (err instanceof UnknownStreamSignatureError || err instanceof ConnectRequestFrameError) return;
    if (err instanceof TruncatedPreambleError && result === null) return;
    unexpected('PreambleParser', err);
  }
  if (result === null) throw new Error('parser neither produced a preamble nor failed');
  if (result.kind === 'data') {
    if (result.frame.length > MAX_CONNECT_REQUEST_BYTES)
      throw new Error(`frame of ${result.frame.length} bytes over the cap`);
    if (8 + result.frame.length + result.rest.length !== total)
      throw new Error('preamble, frame and rest do not add up to the input');
    decodeRequestChecked(result.frame);
  }
}

/** An in-memory duplex: what the code under test writes is collected; `feed` delivers bytes then EOF. */
function memoryStream(): { stream: Duplex; written: Buffer[]; feed(bytes: Buffer): void } {
  const written: Buffer[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk);
      cb();
    },
  });
  return {
    stream,
    written,
    feed(bytes) {
      if (bytes.length > 0) stream.push(bytes);
      stream.push(null);
    },
  };
}

/** Everything the connector wrote back must be whole, well-framed capnp messages. */
function checkReplies(written: Buffer[]): void {
  const reader = new FrameReader(DEFAULT_MAX_RPC_FRAME_BYTES);
  for (const c of written) reader.push(c);
}

export async function serveHostileRpc(bytes: Buffer): Promise<boolean> {
  const mem = memoryStream();
  const conn = serveCloudflared(mem.stream, {
    updateConfiguration: (version) => Promise.resolve({ latestAppliedVersion: version, err: null }),
  });
  mem.feed(bytes);
  const ended = await conn.closed;
  if (ended !== null && !(ended instanceof RpcError)) unexpected('RpcConnection', ended);
  checkReplies(mem.written);
  return true;
}

/** What the fuzzed client registers with (the edge's answer is what is fuzzed). */
export const FUZZ_REGISTRATION: Parameters<RegistrationClient['registerConnection']>[0] = {
  accountTag: 'a',
  tunnelSecret: Buffer.alloc(32),
  tunnelId: Buffer.alloc(16),
  connIndex: 0,
  clientId: Buffer.alloc(16),
  features: [],
  version: 'fuzz',
  arch: 'fuzz',
  originLocalIp: Buffer.alloc(16),
  replaceExisting: false,
  compressionQuality: 0,
  numPreviousAttempts: 0,
};

export async function registerAgainstHostileEdge(bytes: Buffer): Promise<boolean> {
  const mem = memoryStream();
  const client = new RegistrationClient(mem.stream);
  const call = client.registerConnection(FUZZ_REGISTRATION);
  mem.feed(bytes);
  try {
    await call;
  } catch (err) {
    if (!(err instanceof RpcError || err instanceof RegistrationError)) unexpected('registerConnection', err);
  }
  const ended = await client.rpc.closed;
  if (ended !== null && !(ended instanceof RpcError)) unexpected('RpcConnection', ended);
  return true;
}

const cuts = fc.array(fc.nat(), { maxLength: 4 });

/** Every fuzz target, in a stable order. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'stream preamble parser (chunked) + ConnectRequest',
    property: () =>
      fc.property(mutatedBytes(dataStreamSeeds()), cuts, (bytes, at) => {
        parsePreamble(chunked(bytes, at));
        return true;
      }),
  },
  {
    name: 'ConnectRequest decoder',
    property: () =>
      fc.property(mutatedBytes(connectRequestSeeds()), (frame) => {
        decodeRequestChecked(frame);
        return true;
      }),
  },
  {
    name: 'ConnectResponse decoder',
    property: () =>
      fc.property(mutatedBytes(connectResponseSeeds()), (frame) => {
        try {
          const res = decodeConnectResponse(frame);
          checkMetadataBudget(res.metadata, [res.error]);
        } catch (err) {
          if (!(err instanceof CapnpDecodeError)) unexpected('decodeConnectResponse', err);
        }
        return true;
      }),
  },
  {
    name: 'serialized response headers decoder',
    property: () => {
      const seeds = serializedHeaderSeeds();
      const text = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 200 }),
        mutatedBytes(seeds.map((s) => Buffer.from(s, 'latin1'))).map((b) => b.toString('latin1')),
      );
      return fc.property(text, (value) => {
        try {
          decodeSerializedHeaders(value);
        } catch (err) {
          if (!(err instanceof SerializedHeadersError)) unexpected('decodeSerializedHeaders', err);
        }
        return true;
      });
    },
  },
  {
    name: 'serialized response headers round trip',
    property: () =>
      fc.property(
        fc.array(fc.tuple(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' })), { maxLength: 8 }),
        (pairs) => {
          const decoded = decodeSerializedHeaders(encodeSerializedHeaders(pairs));
          return JSON.stringify(decoded) === JSON.stringify(pairs);
        },
      ),
  },
  {
    name: 'RPC connection serving CloudflaredServer to a hostile edge',
    property: () => fc.asyncProperty(mutatedBytes(rpcServerSeeds()), serveHostileRpc),
  },
  {
    name: 'RPC client registering with a hostile edge',
    property: () => fc.asyncProperty(mutatedBytes(rpcClientSeeds()), registerAgainstHostileEdge),
  },
  {
    name: 'ingress rules and matching (hostnames, path patterns, hostile paths)',
    property: ingressMatchingProperty,
  },
];
