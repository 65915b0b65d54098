/** Shared setup for the QUIC transport tests: certificates, a loopback server and a connected client. */
import { once } from 'node:events';
import { generateEdgeCertificates, type EdgeCertificates } from '../../../src/local-edge/certs.js';
import {
  connectQuic,
  listenQuic,
  type QuicClientOptions,
  type QuicConnection,
  type QuicServer,
  type QuicServerOptions,
  type QuicStream,
} from '../../../src/transport/quic/index.js';

let certs: Promise<EdgeCertificates> | undefined;

/** One CA + leaf per test process (generation is slow-ish). */
export function edgeCerts(): Promise<EdgeCertificates> {
  certs ??= generateEdgeCertificates();
  return certs;
}

/** A listening server, a connected client and the server's side of that connection. */
export interface QuicPair {
  server: QuicServer;
  client: QuicConnection;
  serverConn: QuicConnection;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 and connects a client to it. */
export async function quicPair(
  clientOptions: Partial<QuicClientOptions> = {},
  serverOptions: Partial<QuicServerOptions> = {},
): Promise<QuicPair> {
  const c = await edgeCerts();
  const server = await listenQuic({ host: '127.0.0.1', port: 0, cert: c.certPem, key: c.keyPem, ...serverOptions });
  const accepted = once(server, 'connection') as Promise<[QuicConnection]>;
  const client = await connectQuic({
    host: '127.0.0.1',
    port: server.address().port,
    serverName: 'quic.cftunnel.com',
    ca: c.caPem,
    ...clientOptions,
  });
  // If the client gives up first (tiny idle timeouts on a loaded machine), fail instead of waiting forever.
  const clientClosed = once(client, 'close').then(([err]: unknown[]) => {
    throw err instanceof Error ? err : new Error('client closed before the server accepted');
  });
  const [serverConn] = await Promise.race([accepted, clientClosed]);
  clientClosed.catch(() => undefined);
  return {
    server,
    client,
    serverConn,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

/** Reads a stream to its end without destroying it (unlike `for await`, which would reset the writable side). */
export function readAll(stream: QuicStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Echoes every peer-initiated stream of `conn` back to the sender. */
export function echoStreams(conn: QuicConnection): void {
  conn.on('stream', (s: QuicStream) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
}
