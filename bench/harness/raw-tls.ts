/**
 * The raw `node:tls` baseline's tiny protocol: the client sends one op byte and a 64-bit length, then the server
 * streams that many bytes (download) or swallows them and answers one byte (upload).
 */

/** Op byte + big-endian u64 byte count. */
export const RAW_TLS_HEADER_BYTES = 9;

/** Op byte values. */
export enum RawTlsOp {
  Download = 0x44,
  Upload = 0x55,
}

/** The header for `op` of `bytes`. */
export function rawTlsHeader(op: RawTlsOp, bytes: number): Buffer {
  const header = Buffer.alloc(RAW_TLS_HEADER_BYTES);
  header[0] = op;
  header.writeBigUInt64BE(BigInt(bytes), 1);
  return header;
}
