/** DNS over a byte stream (TCP, TLS): each message is preceded by its length as a big-endian u16 (RFC 1035 §4.2.2). */

/** Prefixes one encoded DNS message with its length. */
export function frameDnsMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(2 + message.length);
  out.writeUInt16BE(message.length, 0);
  out.set(message, 2);
  return out;
}

/** Reassembles length-prefixed DNS messages from arbitrarily split chunks. */
export class DnsStreamDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  /** Adds a chunk and returns every message it completed (without the length prefix). */
  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const messages: Buffer[] = [];
    while (this.buffered.length >= 2) {
      const length = this.buffered.readUInt16BE(0);
      if (this.buffered.length < 2 + length) break;
      messages.push(this.buffered.subarray(2, 2 + length));
      this.buffered = this.buffered.subarray(2 + length);
    }
    return messages;
  }
}
