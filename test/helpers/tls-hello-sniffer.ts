/**
 * A loopback TCP relay that reads, without altering, the plaintext TLS 1.3 hellos of every connection it carries:
 * the groups the client lists (`supported_groups`) and sends key shares for, and the group the server's ServerHello
 * selects (`key_share`). Enough to see which key exchange a connector offers and which one was negotiated.
 */
import net from 'node:net';
import { once } from 'node:events';

/** IANA TLS group codepoints used in the tests. */
export const GROUP = { X25519MLKEM768: 0x11ec, P256: 0x0017, X25519: 0x001d } as const;

/** What one connection's hellos said. */
export interface ObservedHellos {
  /** `supported_groups` of the ClientHello, in the client's order of preference. */
  supportedGroups: number[];
  /** Groups the ClientHello carries a key share for. */
  keyShareGroups: number[];
  /** The group of the ServerHello's `key_share` (the negotiated one), once it was seen. */
  selectedGroup: number | undefined;
}

const EXT_SUPPORTED_GROUPS = 0x000a;
const EXT_KEY_SHARE = 0x0033;

/** The first handshake message of a byte stream, once the whole record arrived (undefined while incomplete). */
function firstHandshake(bytes: Buffer): { type: number; body: Buffer } | undefined {
  if (bytes.length < 5) return undefined;
  if (bytes[0] !== 0x16) throw new Error(`not a TLS handshake record (content type ${bytes[0]})`);
  const recordLength = bytes.readUInt16BE(3);
  if (bytes.length < 5 + recordLength) return undefined;
  const record = bytes.subarray(5, 5 + recordLength);
  const length = record.readUIntBE(1, 3);
  return { type: record[0]!, body: record.subarray(4, 4 + length) };
}

/** The extensions of a ClientHello (`client`) or ServerHello body. */
function extensions(body: Buffer, client: boolean): Map<number, Buffer> {
  let o = 2 + 32; // legacy_version, random
  o += 1 + body[o]!; // legacy_session_id
  if (client) {
    o += 2 + body.readUInt16BE(o); // cipher_suites
    o += 1 + body[o]!; // legacy_compression_methods
  } else {
    o += 2 + 1; // cipher_suite, legacy_compression_method
  }
  const end = o + 2 + body.readUInt16BE(o);
  o += 2;
  const out = new Map<number, Buffer>();
  while (o + 4 <= end) {
    const type = body.readUInt16BE(o);
    const len = body.readUInt16BE(o + 2);
    out.set(type, body.subarray(o + 4, o + 4 + len));
    o += 4 + len;
  }
  return out;
}

function parseClientHello(body: Buffer): Pick<ObservedHellos, 'supportedGroups' | 'keyShareGroups'> {
  const ext = extensions(body, true);
  const supportedGroups: number[] = [];
  const groups = ext.get(EXT_SUPPORTED_GROUPS);
  if (groups) for (let o = 2; o + 2 <= 2 + groups.readUInt16BE(0); o += 2) supportedGroups.push(groups.readUInt16BE(o));
  const keyShareGroups: number[] = [];
  const shares = ext.get(EXT_KEY_SHARE);
  if (shares) {
    for (let o = 2; o + 4 <= 2 + shares.readUInt16BE(0);) {
      keyShareGroups.push(shares.readUInt16BE(o));
      o += 4 + shares.readUInt16BE(o + 2);
    }
  }
  return { supportedGroups, keyShareGroups };
}

function parseServerHello(body: Buffer): number | undefined {
  const share = extensions(body, false).get(EXT_KEY_SHARE);
  return share === undefined ? undefined : share.readUInt16BE(0);
}

/** A running sniffer. */
export interface TlsHelloSniffer {
  readonly port: number;
  /** One entry per connection whose ClientHello was complete, in arrival order. */
  readonly hellos: ObservedHellos[];
  close(): Promise<void>;
}

/** Starts a relay on 127.0.0.1:0 to `target`. */
export async function startTlsHelloSniffer(target: { host: string; port: number }): Promise<TlsHelloSniffer> {
  const hellos: ObservedHellos[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    let observed: ObservedHellos | undefined;
    let fromClient = Buffer.alloc(0);
    let fromServer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      if (observed === undefined) {
        fromClient = Buffer.concat([fromClient, chunk]);
        const hello = firstHandshake(fromClient);
        if (hello?.type === 1) {
          observed = { ...parseClientHello(hello.body), selectedGroup: undefined };
          hellos.push(observed);
        }
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (observed !== undefined && observed.selectedGroup === undefined && fromServer.length < 1 << 16) {
        fromServer = Buffer.concat([fromServer, chunk]);
        const hello = firstHandshake(fromServer);
        if (hello?.type === 2) observed.selectedGroup = parseServerHello(hello.body);
      }
      client.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    hellos,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
