/**
 * Just enough of QUIC v1 Initial packets to talk to a real client without TLS: Initial keys depend only on the
 * client's first Destination Connection ID (RFC 9001 §5.2), so a test peer can read the client's Initial packets and
 * answer with well-protected ones carrying whatever frames the test wants (including forbidden ones).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** QUIC version 1 (RFC 9000 §15). */
export const QUIC_V1 = 0x00000001;
/** RFC 9001 §5.2: the v1 Initial salt. */
const INITIAL_SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
/** AES-128-GCM tag length (RFC 9001 §5.3). */
const TAG_LENGTH = 16;
/** Header protection samples 16 bytes starting 4 bytes after the packet number's start (RFC 9001 §5.4.2). */
const SAMPLE_OFFSET = 4;
const SAMPLE_LENGTH = 16;
/** Long header form + fixed bit, type Initial (0) (RFC 9000 §17.2.2). */
const INITIAL_FIRST_BYTE = 0xc0;

/** Frame type bytes used by the tests (RFC 9000 §19, §12.4 for where each may appear). */
export const Frame = {
  PADDING: 0x00,
  PING: 0x01,
  ACK: 0x02,
  ACK_ECN: 0x03,
  CRYPTO: 0x06,
  /** STREAM with the LEN bit (0x08 | 0x02). */
  STREAM_LEN: 0x0a,
  CONNECTION_CLOSE: 0x1c,
  HANDSHAKE_DONE: 0x1e,
} as const;

/** Packet protection keys of one direction (RFC 9001 §5.1). */
export interface InitialKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

/** QUIC variable-length integer (RFC 9000 §16), for values below 2^30. */
export function varint(value: number): Buffer {
  if (value < 0x40) return Buffer.from([value]);
  if (value < 0x4000) return Buffer.from([0x40 | (value >> 8), value & 0xff]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE((0x80000000 | value) >>> 0);
  return b;
}

function readVarint(b: Buffer, offset: number): [value: number, next: number] {
  const size = 1 << (b[offset]! >> 6);
  let value = b[offset]! & 0x3f;
  for (let i = 1; i < size; i++) value = value * 256 + b[offset + i]!;
  return [value, offset + size];
}

/** HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1) with an empty context, over SHA-256 (RFC 5869 §2.3). */
function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`);
  const info = Buffer.concat([
    Buffer.from([length >> 8, length & 0xff, fullLabel.length]),
    fullLabel,
    Buffer.from([0]),
  ]);
  const out: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1; out.length * 32 < length; i++) {
    previous = createHmac('sha256', secret)
      .update(Buffer.concat([previous, info, Buffer.from([i])]))
      .digest();
    out.push(previous);
  }
  return Buffer.concat(out).subarray(0, length);
}

/** The Initial keys a `side` protects its packets with, from the client's first Destination CID (RFC 9001 §5.2). */
export function initialKeys(clientDcid: Buffer, side: 'client' | 'server'): InitialKeys {
  const initialSecret = createHmac('sha256', INITIAL_SALT_V1).update(clientDcid).digest(); // HKDF-Extract
  const secret = expandLabel(initialSecret, side === 'client' ? 'client in' : 'server in', 32);
  return {
    key: expandLabel(secret, 'quic key', 16),
    iv: expandLabel(secret, 'quic iv', 12),
    hp: expandLabel(secret, 'quic hp', 16),
  };
}

/** The unprotected fields of a long-header packet (RFC 9000 §17.2), and where its packet number starts. */
export interface LongHeader {
  /** Packet type (0 Initial, 1 0-RTT, 2 Handshake, 3 Retry). */
  type: number;
  version: number;
  dcid: Buffer;
  scid: Buffer;
  /** Offset of the packet number (Initial/0-RTT/Handshake only). */
  pnOffset: number;
  /** Offset just past this packet (several may share a datagram, RFC 9000 §12.2). */
  end: number;
}

/** Parses the long header at `offset`, or returns undefined for a short-header packet. */
export function parseLongHeader(datagram: Buffer, offset = 0): LongHeader | undefined {
  if ((datagram[offset]! & 0x80) === 0) return undefined;
  const type = (datagram[offset]! >> 4) & 0x3;
  const version = datagram.readUInt32BE(offset + 1);
  let p = offset + 5;
  const dcid = datagram.subarray(p + 1, p + 1 + datagram[p]!);
  p += 1 + dcid.length;
  const scid = datagram.subarray(p + 1, p + 1 + datagram[p]!);
  p += 1 + scid.length;
  if (type === 0) {
    const [tokenLength, afterToken] = readVarint(datagram, p);
    p = afterToken + tokenLength;
  }
  const [length, pnOffset] = readVarint(datagram, p);
  return { type, version, dcid: Buffer.from(dcid), scid: Buffer.from(scid), pnOffset, end: pnOffset + length };
}

/** The header protection mask: AES-ECB of the ciphertext sample 4 bytes past the packet number (RFC 9001 §5.4.2-3). */
function headerMask(packet: Buffer, pnOffset: number, hp: Buffer): Buffer {
  const sample = packet.subarray(pnOffset + SAMPLE_OFFSET, pnOffset + SAMPLE_OFFSET + SAMPLE_LENGTH);
  return createCipheriv('aes-128-ecb', hp, null).setAutoPadding(false).update(sample);
}

/** AEAD nonce: the IV XORed with the packet number, right-aligned (RFC 9001 §5.3). */
function nonce(iv: Buffer, packetNumber: number): Buffer {
  const n = Buffer.from(iv);
  for (let i = 0; i < 4; i++) n[n.length - 1 - i]! ^= (packetNumber >>> (8 * i)) & 0xff;
  return n;
}

/** Builds one protected Initial packet (RFC 9000 §17.2.2, RFC 9001 §5) carrying `payload` (frames). */
export function sealInitial(options: {
  keys: InitialKeys;
  dcid: Buffer;
  scid: Buffer;
  packetNumber: number;
  payload: Buffer;
}): Buffer {
  const { keys, dcid, scid, packetNumber } = options;
  const pnLength = 1;
  // The header protection sample needs 4 + 16 bytes after the packet number's start: pad short payloads.
  const minPayload = SAMPLE_OFFSET + SAMPLE_LENGTH - pnLength - TAG_LENGTH;
  const payload =
    options.payload.length >= minPayload
      ? options.payload
      : Buffer.concat([options.payload, Buffer.alloc(minPayload - options.payload.length, Frame.PADDING)]);
  const header = Buffer.concat([
    Buffer.from([INITIAL_FIRST_BYTE | (pnLength - 1)]),
    Buffer.from([QUIC_V1 >>> 24, (QUIC_V1 >> 16) & 0xff, (QUIC_V1 >> 8) & 0xff, QUIC_V1 & 0xff]),
    Buffer.from([dcid.length]),
    dcid,
    Buffer.from([scid.length]),
    scid,
    varint(0), // no token: only a client echoes one (RFC 9000 §17.2.2)
    varint(pnLength + payload.length + TAG_LENGTH),
    Buffer.from([packetNumber & 0xff]),
  ]);
  const gcm = createCipheriv('aes-128-gcm', keys.key, nonce(keys.iv, packetNumber));
  gcm.setAAD(header);
  const packet = Buffer.concat([header, gcm.update(payload), gcm.final(), gcm.getAuthTag()]);
  // Long header: the mask hides the low 4 bits of the first byte and the packet number (RFC 9001 §5.4.1).
  const pnOffset = header.length - pnLength;
  const mask = headerMask(packet, pnOffset, keys.hp);
  packet[0]! ^= mask[0]! & 0x0f;
  for (let i = 0; i < pnLength; i++) packet[pnOffset + i]! ^= mask[1 + i]!;
  return packet;
}

/**
 * Removes the protection of the Initial packet at `offset` of `datagram` and returns its frames, or undefined when it
 * does not authenticate with `keys`. Packet numbers are taken as sent (truncated): enough for a connection's first
 * few packets.
 */
export function openInitial(
  datagram: Buffer,
  keys: InitialKeys,
  offset = 0,
): { packetNumber: number; payload: Buffer } | undefined {
  const header = parseLongHeader(datagram, offset);
  if (header === undefined || header.type !== 0) return undefined;
  const packet = Buffer.from(datagram.subarray(offset, header.end));
  const pnOffset = header.pnOffset - offset;
  const mask = headerMask(packet, pnOffset, keys.hp);
  packet[0]! ^= mask[0]! & 0x0f;
  const pnLength = (packet[0]! & 0x03) + 1;
  let packetNumber = 0;
  for (let i = 0; i < pnLength; i++) {
    packet[pnOffset + i]! ^= mask[1 + i]!;
    packetNumber = packetNumber * 256 + packet[pnOffset + i]!;
  }
  const aad = packet.subarray(0, pnOffset + pnLength);
  const gcm = createDecipheriv('aes-128-gcm', keys.key, nonce(keys.iv, packetNumber));
  gcm.setAAD(aad);
  gcm.setAuthTag(packet.subarray(packet.length - TAG_LENGTH));
  try {
    return {
      packetNumber,
      payload: Buffer.concat([gcm.update(packet.subarray(aad.length, packet.length - TAG_LENGTH)), gcm.final()]),
    };
  } catch {
    return undefined;
  }
}

/** A CONNECTION_CLOSE frame (RFC 9000 §19.19). */
export interface ConnectionClose {
  errorCode: number;
  frameType: number;
  reason: string;
}

/**
 * Finds the transport CONNECTION_CLOSE among Initial-space frames (the only other ones there are PADDING, PING, ACK
 * and CRYPTO, RFC 9000 §12.4); undefined when there is none or an unexpected frame comes first.
 */
export function findConnectionClose(payload: Buffer): ConnectionClose | undefined {
  let p = 0;
  while (p < payload.length) {
    const type = payload[p++]!;
    if (type === Frame.PADDING || type === Frame.PING) continue;
    if (type === Frame.ACK || type === Frame.ACK_ECN) {
      let rangeCount: number;
      [, p] = readVarint(payload, p); // largest acknowledged
      [, p] = readVarint(payload, p); // ack delay
      [rangeCount, p] = readVarint(payload, p);
      [, p] = readVarint(payload, p); // first range
      for (let i = 0; i < 2 * rangeCount + (type === Frame.ACK_ECN ? 3 : 0); i++) [, p] = readVarint(payload, p);
    } else if (type === Frame.CRYPTO) {
      let length: number;
      [, p] = readVarint(payload, p); // offset
      [length, p] = readVarint(payload, p);
      p += length;
    } else if (type === Frame.CONNECTION_CLOSE) {
      let errorCode: number;
      let frameType: number;
      let reasonLength: number;
      [errorCode, p] = readVarint(payload, p);
      [frameType, p] = readVarint(payload, p);
      [reasonLength, p] = readVarint(payload, p);
      return { errorCode, frameType, reason: payload.subarray(p, p + reasonLength).toString('utf8') };
    } else {
      return undefined;
    }
  }
  return undefined;
}

/** A fresh server connection ID (any length up to 20 works, RFC 9000 §17.2). */
export function randomConnectionId(): Buffer {
  return randomBytes(8);
}
