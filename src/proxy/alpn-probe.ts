/**
 * Which protocol an https origin picks by ALPN when offered `h2` and `http/1.1` (§10.5 `http2Origin`). Origins that
 * answer `http/1.1` are sent through node:http rather than undici, whose HTTP/1 parser can throw uncatchably from a
 * socket 'end' handler under backpressure (nodejs/undici#5360).
 */
import { connect, type ConnectionOptions } from 'node:tls';

/** Where and how to dial the origin for the probe (the same trust settings as its requests). */
export interface AlpnProbeOptions {
  host?: string;
  port?: number;
  path?: string;
  servername?: string;
  ca: string[];
  rejectUnauthorized: boolean;
  /** Bound on TCP + TLS, milliseconds; 0 for none. */
  timeoutMs: number;
}

/** The negotiated ALPN protocol (`'h2'`, `'http/1.1'`), `false` when none was, `null` when the dial failed. */
export function probeAlpn(o: AlpnProbeOptions): Promise<string | false | null> {
  return new Promise((resolve) => {
    const options: ConnectionOptions = {
      ALPNProtocols: ['h2', 'http/1.1'],
      ca: o.ca,
      rejectUnauthorized: o.rejectUnauthorized,
      ...(o.servername !== undefined ? { servername: o.servername } : {}),
      ...(o.path !== undefined ? { path: o.path } : { host: o.host, port: o.port }),
    };
    const socket = connect(options, () => {
      const alpn = socket.alpnProtocol ?? false;
      socket.destroy();
      resolve(alpn);
    });
    if (o.timeoutMs > 0) socket.setTimeout(o.timeoutMs, () => socket.destroy());
    socket.once('error', () => resolve(null));
    socket.once('close', () => resolve(null));
  });
}
