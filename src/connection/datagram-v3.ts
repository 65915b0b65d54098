/**
 * The part of datagram v3 (docs/protocol.md §14.2) a connector without private-network routing needs: recognise a
 * UDP session registration and refuse it with v3's own registration response, so the edge learns at once that the
 * flow will not be served instead of waiting for a response that never comes.
 */

/** First byte of a v3 UDP session registration (edge → connector). */
export const V3_SESSION_REGISTRATION = 0x00;
/** First byte of a v3 UDP session registration response (connector → edge). */
export const V3_SESSION_REGISTRATION_RESPONSE = 0x03;

/** `responseType` values of a registration response (§14.2). */
export const V3_RESPONSE = {
  ok: 0x00,
  destinationUnreachable: 0x01,
  unableToBindSocket: 0x02,
  tooManyActiveFlows: 0x03,
  errorWithMessage: 0xff,
} as const;

const FLAG_IPV6 = 0x01;
/** type, flags, port, idle hint, then the 16-byte request id. */
const REQUEST_ID_OFFSET = 6;
const REQUEST_ID_LENGTH = 16;
/** Registration header length for an IPv4 / IPv6 destination (§14.2). */
const REGISTRATION_HEADER_V4 = REQUEST_ID_OFFSET + REQUEST_ID_LENGTH + 4;
const REGISTRATION_HEADER_V6 = REQUEST_ID_OFFSET + REQUEST_ID_LENGTH + 16;
/** type, responseType, request id, u16 error length. */
const RESPONSE_HEADER_LENGTH = 2 + REQUEST_ID_LENGTH + 2;
/** v3 datagrams carry at most 1280 bytes after their header; the error text of a response shares that room. */
const MAX_RESPONSE_LENGTH = 1280;

/**
 * The request id of a v3 UDP session registration, or `undefined` when `datagram` is not a well-formed one (other
 * datagram types, truncated headers); those are dropped, as cloudflared drops datagrams it cannot parse.
 */
export function v3RegistrationRequestId(datagram: Buffer): Buffer | undefined {
  if (datagram.length < REGISTRATION_HEADER_V4 || datagram[0] !== V3_SESSION_REGISTRATION) return undefined;
  const ipv6 = (datagram[1]! & FLAG_IPV6) !== 0;
  if (ipv6 && datagram.length < REGISTRATION_HEADER_V6) return undefined;
  return datagram.subarray(REQUEST_ID_OFFSET, REQUEST_ID_OFFSET + REQUEST_ID_LENGTH);
}

/** Encodes a registration response: `0x03, responseType, requestId(16), errLen(u16 BE), errMsg` (§14.2). */
export function encodeV3RegistrationResponse(requestId: Buffer, responseType: number, message = ''): Buffer {
  let text = Buffer.from(message, 'utf8');
  const room = MAX_RESPONSE_LENGTH - RESPONSE_HEADER_LENGTH;
  if (text.length > room) text = text.subarray(0, room);
  const out = Buffer.alloc(RESPONSE_HEADER_LENGTH + text.length);
  out[0] = V3_SESSION_REGISTRATION_RESPONSE;
  out[1] = responseType;
  requestId.copy(out, 2, 0, REQUEST_ID_LENGTH);
  out.writeUInt16BE(text.length, 2 + REQUEST_ID_LENGTH);
  text.copy(out, RESPONSE_HEADER_LENGTH);
  return out;
}
