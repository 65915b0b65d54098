/**
 * The local edge's QUIC side (docs/protocol.md §5-§7): accepts connector connections, serves registration on the first
 * client-opened stream, and opens a data stream per visitor request and an RPC stream per configuration push.
 */
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { decodeConnectResponse, encodeConnectRequest, type Metadata } from '../capnp/connect-codec.js';
import {
  DATA_STREAM_SIGNATURE,
  DATA_STREAM_VERSION,
  RPC_STREAM_SIGNATURE,
  readStreamPreamble,
} from '../wire/preamble.js';
import {
  METADATA_HTTP_HEADER,
  METADATA_HTTP_HOST,
  METADATA_HTTP_METHOD,
  METADATA_HTTP_STATUS,
} from '../wire/metadata.js';
import { CloudflaredClient } from '../rpc/tunnel/cloudflared-client.js';
import { serveRegistration } from '../rpc/tunnel/registration-server.js';
import { listenQuic, type QuicConnection, type QuicServer, type QuicStream } from '../transport/quic/index.js';
import { EdgeSideConnection } from './edge-connection.js';
import type { EdgeRouter } from './router.js';
import { registrationHandlers } from './registration.js';
import type { ConfigPushResult, TunnelRequest, TunnelResponse } from './types.js';

/** The running QUIC listener. */
export interface QuicSide {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the QUIC listener of the local edge. */
export async function startQuicSide(
  edge: EdgeRouter,
  options: { host: string; port: number; cert: string; key: string },
): Promise<QuicSide> {
  const server: QuicServer = await listenQuic({ ...options, alpn: ['argotunnel'] });
  server.on('connection', (conn: QuicConnection) => new EdgeQuicConnection(conn, edge));
  return { port: server.address().port, close: () => server.close() };
}

const HEADER_PREFIX = `${METADATA_HTTP_HEADER}:`;

/** ConnectRequest metadata for a visitor request, sorted by key like the reference edge (vectors MANIFEST). */
function requestMetadata(req: TunnelRequest): Metadata[] {
  if (req.type === 'tcp') return [{ key: 'FlowID', val: randomUUID() }];
  const meta: Metadata[] = req.headers.map(([name, val]) => ({ key: `${HEADER_PREFIX}${name}`, val }));
  if (req.type === 'websocket')
    meta.push({ key: `${HEADER_PREFIX}Cf-Cloudflared-Proxy-Connection-Upgrade`, val: 'websocket' });
  meta.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  meta.push({ key: METADATA_HTTP_METHOD, val: req.method }, { key: METADATA_HTTP_HOST, val: req.host });
  return meta;
}

class EdgeQuicConnection extends EdgeSideConnection {
  private controlSeen = false;

  constructor(
    private readonly quic: QuicConnection,
    private readonly edge: EdgeRouter,
  ) {
    super('quic', `${quic.remoteAddress.address}:${quic.remoteAddress.port}`);
    edge.track(this);
    quic.on('stream', (stream: QuicStream) => this.onStream(stream));
    quic.once('close', () => this.markClosed());
  }

  private onStream(stream: QuicStream): void {
    stream.on('error', () => undefined);
    if (this.controlSeen) {
      // Connector-opened streams other than the control stream are datagram-v2 session RPCs (§14.1): not served.
      stream.reset(0);
      return;
    }
    this.controlSeen = true;
    // §6.5: the first connector-opened stream is the control stream, no preamble.
    const rpc = serveRegistration(stream, registrationHandlers(this.edge, this));
    void rpc.closed.then(() => {
      if (!stream.destroyed) stream.end();
      // A connector following HEAD keeps an unregistered connection open for its whole grace period (§5.3). Once it
      // has also ended its control session there is nothing left to route to it, so the edge closes the connection.
      if (this.unregistered && !this.quic.closed) void this.quic.close(0, '');
    });
  }

  async send(req: TunnelRequest): Promise<TunnelResponse> {
    const stream = await this.quic.openStream();
    stream.on('error', () => undefined);
    const dest = req.type === 'tcp' ? (req.dest ?? '') : `http://${req.host}${req.path}`;
    stream.write(
      Buffer.concat([
        DATA_STREAM_SIGNATURE,
        DATA_STREAM_VERSION,
        encodeConnectRequest({ dest, type: req.type, metadata: requestMetadata(req) }),
      ]),
    );
    if (req.body !== null) req.body.pipe(stream);
    else stream.end();
    // A visitor that leaves before the response cancels the stream (RESET_STREAM + STOP_SENDING), as an edge does.
    const cancel = (): void => {
      stream.destroy();
    };
    req.signal?.addEventListener('abort', cancel, { once: true });
    if (req.signal?.aborted === true) cancel();
    let res;
    try {
      const preamble = await readStreamPreamble(stream);
      if (preamble.kind !== 'data') throw new Error('connector answered with a non-data preamble');
      // Header values as byte strings: bytes that are no UTF-8 reach the visitor unchanged (§7.3).
      res = decodeConnectResponse(preamble.frame, { byteStringValues: true });
    } finally {
      req.signal?.removeEventListener('abort', cancel);
    }
    const wire = { protocol: 'quic' as const, connectResponse: res };
    if (res.error !== '') {
      stream.destroy();
      return { ok: false, error: res.error, wire };
    }
    let status = req.type === 'tcp' ? 200 : 0;
    const headers: Array<[string, string]> = [];
    for (const { key, val } of res.metadata) {
      if (key === METADATA_HTTP_STATUS) status = Number(val);
      else if (key.startsWith(HEADER_PREFIX)) headers.push([key.slice(HEADER_PREFIX.length), val]);
    }
    return { ok: true, status, headers, stream: stream as Duplex, wire };
  }

  async pushConfig(version: number, config: string): Promise<ConfigPushResult> {
    const stream = await this.quic.openStream();
    stream.on('error', () => undefined);
    stream.write(RPC_STREAM_SIGNATURE);
    const client = new CloudflaredClient(stream);
    try {
      const result = await client.updateConfiguration(version, Buffer.from(config, 'utf8'), { timeoutMs: 10_000 });
      return {
        connectionId: this.info?.id ?? '',
        connIndex: this.info?.connIndex ?? -1,
        protocol: 'quic',
        latestAppliedVersion: result.latestAppliedVersion,
        err: result.err,
      };
    } finally {
      await client.rpc.close();
    }
  }

  drop(): void {
    void this.quic.close(0, '');
    // Unroutable at once: the QUIC 'close' event only follows the draining period.
    this.markClosed();
  }
}
