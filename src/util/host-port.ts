/**
 * `host:port` with Go's `net.SplitHostPort` / `net.JoinHostPort` rules, which cloudflared applies to `--edge`,
 * `--metrics`, origin flags and the ingress host test (docs/protocol.md §10.1 step 1). One implementation for all.
 */

/** A parsed `host:port` with a numeric port. `host` has no brackets and may be empty (Go's "all interfaces"). */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Go's `net.SplitHostPort`: the host (brackets removed) and the port text, or undefined where Go returns an error
 * (missing port, too many colons, a stray `[` or `]`). The port is not checked: it may be empty or a service name.
 */
export function splitGoHostPort(text: string): { host: string; port: string } | undefined {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return undefined;
  let host: string;
  let hostStart = 0;
  let portStart = 0;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0 || end + 1 !== colon) return undefined;
    host = text.slice(1, end);
    hostStart = 1;
    portStart = end + 1;
  } else {
    host = text.slice(0, colon);
    // An unbracketed IPv6 literal is ambiguous: Go rejects it ("too many colons in address").
    if (host.includes(':')) return undefined;
  }
  if (text.indexOf('[', hostStart) >= 0 || text.indexOf(']', portStart) >= 0) return undefined;
  return { host, port: text.slice(colon + 1) };
}

/**
 * `host:port` / `[v6]:port` with a decimal port in 0..65535, or undefined (Go also accepts service names;
 * cloudflared's flags never need them).
 */
export function splitHostPort(value: string): HostPort | undefined {
  const parts = splitGoHostPort(value);
  if (parts === undefined || !/^\d{1,5}$/.test(parts.port)) return undefined;
  const port = Number(parts.port);
  if (port > 65535) return undefined;
  return { host: parts.host, port };
}

/** Go's `net.JoinHostPort`: IPv6 literals (any host with a colon) get brackets. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
