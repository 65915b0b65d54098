/**
 * DNS-over-TLS SRV lookup, the fallback when the system resolver cannot answer the edge SRV query (docs/protocol.md §2.2).
 * One query on one TLS connection, length-prefixed like DNS over TCP, under one overall deadline.
 */
import { randomInt } from 'node:crypto';
import tls from 'node:tls';
import type dnsPacket from 'dns-packet';
import { lazyRequire } from '../util/lazy-require.js';
import { DnsStreamDecoder, frameDnsMessage } from './dns-stream.js';
import { DnsOverTlsError } from './errors.js';
import type { SrvRecord } from './resolver.js';
import { orderSrvRecords } from './srv.js';

/** DNS wire encoding is needed only when SRV discovery falls back to DNS over TLS (docs/protocol.md §2). */
const loadDnsPacket = lazyRequire<typeof dnsPacket>('dns-packet');

/** DoT server cloudflared falls back to (§2.2). */
export const DOT_DEFAULT_HOST = '1.1.1.1';
/** DoT port (§2.2). */
export const DOT_DEFAULT_PORT = 853;
/** TLS name verified on the DoT server's certificate (§2.2). */
export const DOT_SERVER_NAME = 'cloudflare-dns.com';
/** Overall deadline of the DoT fallback: connect, handshake, query and answer (§2.2). */
export const DOT_TIMEOUT_MS = 15_000;
/** EDNS(0) UDP payload size Go's resolver advertises in its queries; harmless over a stream, kept for a like query. */
const EDNS_PAYLOAD_SIZE = 1232;

/** Where and how to reach the DoT server. Every field defaults to cloudflared's value. */
export interface DnsOverTlsOptions {
  host?: string;
  port?: number;
  /** Name sent as SNI and verified against the certificate. */
  servername?: string;
  /** Trust anchors replacing Node's root store (tests use their own CA). */
  ca?: string | Buffer | Array<string | Buffer>;
  timeoutMs?: number;
  /** Random source for the weighted SRV order. */
  random?: () => number;
}

/** Builds the wire query for `name`/SRV with recursion desired. */
function encodeQuery(id: number, name: string): Buffer {
  const wire = loadDnsPacket();
  return wire.encode({
    type: 'query',
    id,
    flags: wire.RECURSION_DESIRED,
    questions: [{ type: 'SRV', class: 'IN', name }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: EDNS_PAYLOAD_SIZE,
        flags: 0,
        options: [],
      } as unknown as dnsPacket.Answer,
    ],
  });
}

function srvFromAnswer(name: string, packet: dnsPacket.Packet & { rcode?: string }): SrvRecord[] {
  if (packet.rcode !== undefined && packet.rcode !== 'NOERROR') {
    throw new DnsOverTlsError(`DNS-over-TLS lookup of ${name} answered ${packet.rcode}`);
  }
  const records: SrvRecord[] = [];
  for (const answer of packet.answers ?? []) {
    // CNAME records may precede the SRV records in the answer; only SRV data matters here.
    if (answer.type !== 'SRV') continue;
    const { target, port, priority, weight } = answer.data;
    records.push({ name: target.replace(/\.$/, ''), port, priority: priority ?? 0, weight: weight ?? 0 });
  }
  return records;
}

/**
 * Looks up SRV records of `name` over DNS-over-TLS. Resolves with the records in Go's order (possibly none); rejects
 * with {@link DnsOverTlsError} on connection, TLS, timeout or DNS errors.
 */
export function lookupSrvOverTls(name: string, options: DnsOverTlsOptions = {}): Promise<SrvRecord[]> {
  const host = options.host ?? DOT_DEFAULT_HOST;
  const port = options.port ?? DOT_DEFAULT_PORT;
  const id = randomInt(0, 0x10000);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      servername: options.servername ?? DOT_SERVER_NAME,
      ca: options.ca,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
    const decoder = new DnsStreamDecoder();
    const timer = setTimeout(
      () => finish(new DnsOverTlsError(`DNS-over-TLS lookup of ${name} via ${host}:${port} timed out`)),
      options.timeoutMs ?? DOT_TIMEOUT_MS,
    );
    let settled = false;
    function finish(err: Error | undefined, records?: SrvRecord[]): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(orderSrvRecords(records ?? [], options.random));
    }
    socket.once('secureConnect', () => socket.write(frameDnsMessage(encodeQuery(id, name))));
    socket.on('data', (chunk: Buffer) => {
      for (const message of decoder.push(chunk)) {
        let packet: ReturnType<typeof dnsPacket.decode>;
        try {
          packet = loadDnsPacket().decode(message);
        } catch (cause) {
          finish(new DnsOverTlsError(`DNS-over-TLS lookup of ${name}: malformed answer`, { cause }));
          return;
        }
        if (packet.id !== id || packet.type !== 'response') continue;
        try {
          finish(undefined, srvFromAnswer(name, packet));
        } catch (err) {
          finish(err as Error);
        }
        return;
      }
    });
    socket.once('error', (cause) =>
      finish(
        new DnsOverTlsError(`DNS-over-TLS lookup of ${name} via ${host}:${port} failed: ${cause.message}`, { cause }),
      ),
    );
    socket.once('close', () =>
      finish(new DnsOverTlsError(`DNS-over-TLS server ${host}:${port} closed the connection without answering`)),
    );
  });
}
