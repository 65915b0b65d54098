/**
 * The `originRequest` options a library user writes (docs/protocol.md §10.5), typed so that a misspelt key
 * (`noTlsVerify` for `noTLSVerify`) fails to compile. The names and units are those of the configuration JSON the
 * dashboard pushes: durations are whole seconds. Every field is optional; an unset field inherits the top-level
 * `originRequest` value, then cloudflared's default (§10.4).
 */

/** `access`: validate Cloudflare Access JWTs on requests before they reach the origin (§10.5, §10.6). */
export interface AccessOptions {
  /** Reject requests without a valid `Cf-Access-Jwt-Assertion` (403). Default false. */
  readonly required?: boolean;
  /** Access team name (`<team>.cloudflareaccess.com`); needed when `audTag` is set. */
  readonly teamName?: string;
  /** Accepted audience tags of the Access application. */
  readonly audTag?: readonly string[];
  /** `fed` selects FedRAMP Access; empty otherwise. */
  readonly environment?: string;
}

/** One `ipRules` entry: which destinations a `socks-proxy` rule may reach (§10.5). */
export interface IpRuleOptions {
  /** CIDR, e.g. `10.0.0.0/8`. */
  readonly prefix: string;
  /** Ports the rule covers; empty means all. */
  readonly ports?: readonly number[];
  /** Allow (true) or deny (false, the default) matching destinations. */
  readonly allow?: boolean;
}

/** Options of requests to an origin (cloudflared's `originRequest`, docs/protocol.md §10.5). */
export interface OriginRequestOptions {
  /** Seconds to wait for the TCP connection to the origin (HTTP and TCP-over-WebSocket services). Default 30. */
  readonly connectTimeout?: number;
  /** Seconds to wait for the TLS handshake with the origin. Default 10. */
  readonly tlsTimeout?: number;
  /** TCP keep-alive period, in seconds, of origin connections. Default 30. */
  readonly tcpKeepAlive?: number;
  /** Disable dual-stack racing (RFC 6555 "happy eyeballs") when dialling the origin. Default false. */
  readonly noHappyEyeballs?: boolean;
  /** Most idle pooled connections to keep (in total and per host). Default 100. */
  readonly keepAliveConnections?: number;
  /** Seconds an idle pooled connection is kept. Default 90. */
  readonly keepAliveTimeout?: number;
  /** Replaces the `Host` header sent to the origin; the visitor's host goes in `X-Forwarded-Host`. */
  readonly httpHostHeader?: string;
  /** TLS server name (SNI) and certificate name expected from an HTTPS origin. */
  readonly originServerName?: string;
  /** Use the request's `Host` as the TLS server name (cloudflared 2024+). Default false. */
  readonly matchSNItoHost?: boolean;
  /** Path of a PEM bundle trusted, in addition to the system roots, for the origin's certificate. */
  readonly caPool?: string;
  /** Skip verifying the origin's TLS certificate (self-signed development servers). Default false. */
  readonly noTLSVerify?: boolean;
  /** Never send chunked request bodies to the origin (for servers that cannot read them). Default false. */
  readonly disableChunkedEncoding?: boolean;
  /** Make the rule a bastion: the destination comes from each request's `Cf-Access-Jump-Destination`. */
  readonly bastionMode?: boolean;
  /** Legacy; accepted and unused (as in cloudflared). */
  readonly proxyAddress?: string;
  /** Legacy; accepted and unused (as in cloudflared). */
  readonly proxyPort?: number;
  /** `socks` handles TCP-over-WebSocket streams as SOCKS5 (cftunnel refuses `socks-proxy` services). */
  readonly proxyType?: '' | 'socks';
  /** Access rules of a `socks-proxy` rule. */
  readonly ipRules?: readonly IpRuleOptions[];
  /** Try HTTP/2 to an HTTPS origin. Default false. */
  readonly http2Origin?: boolean;
  /** Require a valid Cloudflare Access token. */
  readonly access?: AccessOptions;
}
