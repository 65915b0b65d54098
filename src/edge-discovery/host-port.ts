/** `host:port` parsing with Go's `net.SplitHostPort` rules, used for `--edge` and `--metrics` values. */

/** A parsed `host:port`. `host` has no brackets and may be empty (Go's "all interfaces"). */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Splits `host:port` / `[v6]:port`. Returns undefined when the value is not of that form or the port is not a
 * decimal number in 0..65535 (Go also accepts service names; cloudflared's flags never need them).
 */
export function splitHostPort(value: string): HostPort | undefined {
  let host: string;
  let portText: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0 || value[close + 1] !== ':') return undefined;
    host = value.slice(1, close);
    portText = value.slice(close + 2);
  } else {
    const colon = value.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = value.slice(0, colon);
    portText = value.slice(colon + 1);
    // An unbracketed IPv6 literal is ambiguous: Go rejects it ("too many colons in address").
    if (host.includes(':')) return undefined;
  }
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  return { host, port };
}

/** Formats an address for messages and URLs: IPv6 literals get brackets. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
