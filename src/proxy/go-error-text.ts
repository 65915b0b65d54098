/**
 * Renders Node socket errors the way Go's net package prints them, so `OriginError` messages read like
 * cloudflared's (`dial tcp 127.0.0.1:9: connect: connection refused`, docs/protocol.md §7.3).
 */
import { joinHostPort } from '../util/host-port.js';

/** Go's syscall error strings for the errno codes a dial commonly fails with. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'cannot assign requested address',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'broken pipe',
};

interface SysError {
  code?: string;
  syscall?: string;
  address?: string;
  port?: number;
  hostname?: string;
  message?: string;
  errors?: unknown[];
  cause?: unknown;
}

/** Where the connection was going: a TCP host:port or a unix socket path. */
export type DialTarget = { network: 'tcp'; host: string; port: number } | { network: 'unix'; path: string };

/** Unwraps AggregateError (happy eyeballs) and undici wrappers down to the errno-carrying error. */
function rootError(err: unknown): SysError {
  let e = err as SysError;
  for (let i = 0; i < 5 && e !== null && typeof e === 'object'; i++) {
    if (Array.isArray(e.errors) && e.errors.length > 0) e = e.errors[e.errors.length - 1] as SysError;
    else if (e.code === undefined && e.cause !== undefined) e = e.cause as SysError;
    else break;
  }
  return e ?? {};
}

/** Go-style text for a failed origin round trip. */
export function goErrorText(err: unknown, target: DialTarget): string {
  const e = rootError(err);
  const code = e.code ?? '';
  const dest = target.network === 'unix' ? target.path : joinHostPort(e.address ?? target.host, e.port ?? target.port);
  const dial = `dial ${target.network} ${dest}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `dial ${target.network}: lookup ${e.hostname ?? (target.network === 'tcp' ? target.host : target.path)}: no such host`;
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'CFT_ERR_ORIGIN_CONNECT_TIMEOUT') return `${dial}: i/o timeout`;
  if (e.syscall === 'connect' && ERRNO_TEXT[code] !== undefined) return `${dial}: connect: ${ERRNO_TEXT[code]}`;
  if (ERRNO_TEXT[code] !== undefined) return `read ${target.network} ${dest}: read: ${ERRNO_TEXT[code]}`;
  if (code === 'UND_ERR_SOCKET') return 'EOF';
  // node:http refuses a header value with CR, LF or NUL before anything is written; Go's transport does the same.
  if (code === 'ERR_INVALID_CHAR') {
    const name = /\["?([^"\]]*)"?\]/.exec(e.message ?? '')?.[1];
    // Go checks the Host header on its own, with its own text.
    if (name?.toLowerCase() === 'host') return 'http: invalid Host header';
    if (name !== undefined) return `net/http: invalid header field value for ${JSON.stringify(name)}`;
  }
  if (code === 'ERR_INVALID_HTTP_TOKEN') {
    const token = /\["?([^"\]]*)"?\]/.exec(e.message ?? '')?.[1];
    if (token !== undefined && e.message?.startsWith('Header name') === true)
      return `net/http: invalid header field name ${JSON.stringify(token)}`;
    if (token !== undefined && e.message?.startsWith('Method') === true)
      return `net/http: invalid method ${JSON.stringify(token)}`;
  }
  return e.message ?? String(err);
}
