/** Go `net.IP` byte forms used on the wire (docs/protocol.md §6.6 `originLocalIp`). */
import net from 'node:net';

/** 16-byte form of an IP address: IPv4 as IPv4-mapped IPv6 (`::ffff:a.b.c.d`), as Go's `net.IP` stores it. */
export function ipTo16Bytes(address: string): Buffer {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const out = Buffer.alloc(16);
  if (net.isIPv4(bare)) {
    out[10] = 0xff;
    out[11] = 0xff;
    bare.split('.').forEach((part, i) => (out[12 + i] = Number(part)));
    return out;
  }
  if (!net.isIPv6(bare)) throw new TypeError(`not an IP address: ${address}`);
  const mapped = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  let text = bare;
  if (mapped) {
    const v4 = mapped[2]!.split('.').map(Number);
    text = `${mapped[1]}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? headParts
      : [...headParts, ...Array(8 - headParts.length - tailParts.length).fill('0'), ...tailParts];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
