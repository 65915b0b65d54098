/**
 * TCP-over-WebSocket services (docs/protocol.md §10.2, §10.8): `ssh://`, `rdp://`, `smb://`, `tcp://` and any other
 * non-HTTP scheme dial a fixed destination; `bastion` takes it per request from `Cf-Access-Jump-Destination`.
 */
import net from 'node:net';
import { pipeline } from 'node:stream';
import { ORIGIN_REQUEST_DEFAULTS, type OriginRequestConfig } from '../ingress/origin-request.js';
import { originDialOptions } from './dial-options.js';
import { OriginError, OriginRequestCancelledError } from './errors.js';
import { goErrorText } from './go-error-text.js';
import type { OriginRequest, OriginResponse, OriginService } from './types.js';
import { acceptWebSocket, upgradeResponseHeaders } from './websocket-server.js';
import { headerValue } from '../util/headers.js';

/** Header carrying a bastion's destination (§10.2). */
export const JUMP_DESTINATION_HEADER = 'cf-access-jump-destination';

/** A bastion request without a usable destination. */
export class BastionDestinationError extends OriginError {
  constructor(detail: string) {
    super(detail);
  }
}

/** `host:port` from a jump-destination value: scheme and path stripped (§10.2). */
export function bastionDestination(value: string): { host: string; port: number } {
  let rest = value.trim();
  const scheme = rest.indexOf('://');
  if (scheme >= 0) rest = rest.slice(scheme + 3);
  const slash = rest.indexOf('/');
  if (slash >= 0) rest = rest.slice(0, slash);
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(rest);
  if (m === null || m[1] === '')
    throw new BastionDestinationError(
      `invalid ${JUMP_DESTINATION_HEADER} ${JSON.stringify(value)}: missing port in address`,
    );
  return { host: m[1]!, port: Number(m[2]) };
}

/** Where the service sends its TCP connections. */
export type TcpDestination = { host: string; port: number | undefined } | 'bastion';

/** One TCP-over-WebSocket origin. */
export class TcpOverWebSocketService implements OriginService {
  private readonly options: OriginRequestConfig;
  private readonly live = new Set<net.Socket>();

  constructor(
    private readonly destination: TcpDestination,
    options: Partial<OriginRequestConfig> = {},
  ) {
    this.options = { ...ORIGIN_REQUEST_DEFAULTS, ...options };
  }

  private resolve(req: OriginRequest): { host: string; port: number } {
    if (this.destination !== 'bastion') {
      const { host, port } = this.destination;
      if (port === undefined) throw new OriginError(`address ${host}: missing port in address`);
      return { host, port };
    }
    const value = headerValue(req.headers, JUMP_DESTINATION_HEADER);
    if (value === undefined || value === '')
      throw new BastionDestinationError(`no ${JUMP_DESTINATION_HEADER} header in the request`);
    return bastionDestination(value);
  }

  private dial(host: string, port: number, signal: AbortSignal): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host,
        port,
        ...originDialOptions(this.options),
      });
      const fail = (err: Error): void => {
        socket.destroy();
        signal.removeEventListener('abort', onAbort);
        reject(
          err instanceof OriginRequestCancelledError
            ? err
            : new OriginError(goErrorText(err, { network: 'tcp', host, port }), err),
        );
      };
      const onAbort = (): void => fail(new OriginRequestCancelledError(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('timeout', () => fail(Object.assign(new Error('i/o timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })));
      socket.once('error', fail);
      socket.once('connect', () => {
        signal.removeEventListener('abort', onAbort);
        socket.off('error', fail);
        socket.setTimeout(0);
        resolve(socket);
      });
    });
  }

  async roundTrip(req: OriginRequest, signal: AbortSignal): Promise<OriginResponse> {
    if (signal.aborted) throw new OriginRequestCancelledError(signal.reason);
    const { host, port } = this.resolve(req);
    const tcp = await this.dial(host, port, signal);
    this.live.add(tcp);
    tcp.once('close', () => this.live.delete(tcp));
    const session = acceptWebSocket();
    // Either side ending tears the other down; errors only end the session.
    pipeline(session.payload, tcp, () => undefined);
    pipeline(tcp, session.payload, () => undefined);
    return {
      status: 101,
      headers: upgradeResponseHeaders(headerValue(req.headers, 'sec-websocket-key') ?? ''),
      body: null,
      socket: session.edge,
    };
  }

  close(): Promise<void> {
    for (const s of this.live) s.destroy();
    this.live.clear();
    return Promise.resolve();
  }
}
