/** `--edge-ip-version` (docs/protocol.md §2.4). */
import { isIPv4, isIPv6 } from 'node:net';
import { EdgeDiscoveryOptionError } from './errors.js';

/** Which edge address families to use: only IPv4, only IPv6, or the system preference with the other as fallback. */
export type EdgeIpVersion = '4' | '6' | 'auto';

/** Default at cloudflared HEAD (TUN-10383); 2023.7.3 defaulted to `4` (§2.4). */
export const DEFAULT_EDGE_IP_VERSION: EdgeIpVersion = 'auto';

/** Parses a flag value; anything but `4`, `6` or `auto` is a start-up error with cloudflared's text. */
export function parseEdgeIpVersion(value: string): EdgeIpVersion {
  if (value === '4' || value === '6' || value === 'auto') return value;
  throw new EdgeDiscoveryOptionError(`invalid value for edge-ip-version: ${value}`);
}

/** Outcome of {@link ipVersionForBindAddress}. */
export interface IpVersionForBind {
  ipVersion: EdgeIpVersion;
  /** Set when the bind address contradicted an explicit version; cloudflared logs it as `Overriding edge-ip-version`. */
  warning: string | undefined;
}

/**
 * `--edge-bind-address` forces the family of the bind address (§2.4). The address must be an IP literal; checking
 * that it can be bound is the caller's job.
 */
export function ipVersionForBindAddress(ipVersion: EdgeIpVersion, bindAddress: string | undefined): IpVersionForBind {
  if (!bindAddress) return { ipVersion, warning: undefined };
  if (isIPv4(bindAddress)) {
    return {
      ipVersion: '4',
      warning: ipVersion === '6' ? 'IPv4 bind address is specified, but edge-ip-version is IPv6' : undefined,
    };
  }
  if (isIPv6(bindAddress)) {
    return {
      ipVersion: '6',
      warning: ipVersion === '4' ? 'IPv6 bind address is specified, but edge-ip-version is IPv4' : undefined,
    };
  }
  throw new EdgeDiscoveryOptionError(`invalid value for edge-bind-address: ${bindAddress}`);
}
