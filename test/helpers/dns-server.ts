/**
 * A loopback DNS server for tests, built on dns-packet: UDP and TCP on one port (for Node's resolver via
 * `setServers(['127.0.0.1:PORT'])`), or DNS-over-TLS. It serves the SRV/TXT/A/AAAA records of a mutable zone, answers
 * SERVFAIL for chosen names, NXDOMAIN for unknown names, and records every question.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import dnsPacket from 'dns-packet';
import { DnsStreamDecoder, frameDnsMessage } from '../../src/edge-discovery/dns-stream.js';

/** One SRV record's data. */
export interface SrvData {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

/** Records by owner name (case-insensitive, no trailing dot). */
export interface DnsZone {
  srv?: Record<string, SrvData[]>;
  /** One array of character-strings per TXT record. */
  txt?: Record<string, string[][]>;
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  /** Names answered with SERVFAIL whatever the type. */
  servfail?: string[];
}

/** A question the server received. */
export interface DnsQuestion {
  name: string;
  type: string;
  transport: 'udp' | 'tcp' | 'tls';
}

/** A running test DNS server. */
export interface DnsTestServer {
  readonly port: number;
  /** `127.0.0.1:PORT`, for `Resolver.setServers`. */
  readonly server: string;
  /** Replace or edit to change answers. */
  zone: DnsZone;
  readonly questions: DnsQuestion[];
  close(): Promise<void>;
}

const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const UDP_LIMIT = 512;
const TRUNCATED = 1 << 9;

function norm(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

function lookupIn<T>(table: Record<string, T[]> | undefined, name: string): T[] | undefined {
  if (!table) return undefined;
  for (const [key, value] of Object.entries(table)) if (norm(key) === name) return value;
  return undefined;
}

function answersFor(zone: DnsZone, name: string, type: string): { rcode: number; answers: dnsPacket.Answer[] } {
  if (zone.servfail?.some((n) => norm(n) === name)) return { rcode: RCODE_SERVFAIL, answers: [] };
  const srv = lookupIn(zone.srv, name);
  const txt = lookupIn(zone.txt, name);
  const a = lookupIn(zone.a, name);
  const aaaa = lookupIn(zone.aaaa, name);
  if (!srv && !txt && !a && !aaaa) return { rcode: RCODE_NXDOMAIN, answers: [] };
  const base = { name, ttl: 60, class: 'IN' as const };
  const answers: dnsPacket.Answer[] = [];
  if (type === 'SRV')
    for (const r of srv ?? [])
      answers.push({
        ...base,
        type: 'SRV',
        data: { target: r.target, port: r.port, priority: r.priority ?? 1, weight: r.weight ?? 1 },
      });
  if (type === 'TXT') for (const r of txt ?? []) answers.push({ ...base, type: 'TXT', data: r });
  if (type === 'A') for (const r of a ?? []) answers.push({ ...base, type: 'A', data: r });
  if (type === 'AAAA') for (const r of aaaa ?? []) answers.push({ ...base, type: 'AAAA', data: r });
  return { rcode: 0, answers };
}

function respond(
  server: { zone: DnsZone; questions: DnsQuestion[] },
  query: Buffer,
  transport: DnsQuestion['transport'],
): Buffer | undefined {
  let packet;
  try {
    packet = dnsPacket.decode(query);
  } catch {
    return undefined;
  }
  const question = packet.questions?.[0];
  if (!question) return undefined;
  const name = norm(question.name);
  server.questions.push({ name, type: question.type, transport });
  const { rcode, answers } = answersFor(server.zone, name, question.type);
  const flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcode;
  const reply = { type: 'response' as const, id: packet.id, flags, questions: [question], answers };
  const encoded = dnsPacket.encode(reply);
  if (transport !== 'udp' || encoded.length <= UDP_LIMIT) return encoded;
  return dnsPacket.encode({ ...reply, flags: flags | TRUNCATED, answers: [] });
}

function serveStream(
  state: { zone: DnsZone; questions: DnsQuestion[] },
  socket: net.Socket,
  transport: 'tcp' | 'tls',
): void {
  const decoder = new DnsStreamDecoder();
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    for (const message of decoder.push(chunk)) {
      const reply = respond(state, message, transport);
      if (reply) socket.write(frameDnsMessage(reply));
    }
  });
}

function trackSockets(server: net.Server): () => void {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return () => {
    for (const s of sockets) s.destroy();
  };
}

async function closeServer(server: net.Server, destroyAll: () => void): Promise<void> {
  destroyAll();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Starts a UDP+TCP DNS server on 127.0.0.1 (one port for both). */
export async function startDnsServer(zone: DnsZone = {}): Promise<DnsTestServer> {
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket('udp4');
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const port = udp.address().port;
    const tcp = net.createServer();
    const destroyAll = trackSockets(tcp);
    try {
      tcp.listen(port, '127.0.0.1');
      await once(tcp, 'listening');
    } catch (err) {
      udp.close();
      if (attempt < 10 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw err;
    }
    const state: DnsTestServer = {
      port,
      server: `127.0.0.1:${port}`,
      zone,
      questions: [],
      close: async () => {
        await Promise.all([closeServer(tcp, destroyAll), new Promise<void>((resolve) => udp.close(() => resolve()))]);
      },
    };
    udp.on('message', (msg, rinfo) => {
      const reply = respond(state, msg, 'udp');
      if (reply) udp.send(reply, rinfo.port, rinfo.address);
    });
    tcp.on('connection', (socket) => serveStream(state, socket, 'tcp'));
    return state;
  }
}

/** Starts a DNS-over-TLS server on 127.0.0.1 with the given certificate. */
export async function startDnsOverTlsServer(
  zone: DnsZone,
  credentials: { certPem: string; keyPem: string },
): Promise<DnsTestServer> {
  const server = tls.createServer({ cert: credentials.certPem, key: credentials.keyPem });
  const destroyAll = trackSockets(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const state: DnsTestServer = {
    port,
    server: `127.0.0.1:${port}`,
    zone,
    questions: [],
    close: () => closeServer(server, destroyAll),
  };
  server.on('secureConnection', (socket) => serveStream(state, socket, 'tls'));
  return state;
}
