/**
 * The HTTP/2 transport's limit on origin statuses (§8.5). cloudflared relays any 3-digit final status on both
 * transports; node:http2 refuses to send a `:status` outside 200-599 (`ERR_HTTP2_STATUS_INVALID`), so over HTTP/2
 * such a response is answered as an origin failure (502) with an error that says why.
 */
import type { OriginResponse } from './types.js';
import { OriginError } from './errors.js';

/** Whether node:http2 can send `status` as a response's `:status` (101 is sent as 200, §8.5). */
export function http2CarriesStatus(status: number): boolean {
  return status === 101 || (status >= 200 && status <= 599);
}

/**
 * Passes `res` on when node:http2 can carry its status; otherwise releases the origin response (body or upgraded
 * socket) and throws an {@link OriginError} naming the status.
 */
export function requireHttp2Status(res: OriginResponse): OriginResponse {
  if (http2CarriesStatus(res.status)) return res;
  res.body?.destroy();
  res.socket?.destroy();
  throw new OriginError(
    `origin status ${res.status} cannot be sent over HTTP/2: node:http2 only carries 200-599 (the QUIC transport relays it)`,
  );
}
