/**
 * Cloudflare Access enforcement for rules with `originRequest.access.required` (docs/protocol.md §10.6): the
 * `Cf-Access-Jwt-Assertion` token must verify against the team's JWKS, with issuer = team URL, and carry one of the
 * rule's audience tags. Missing token or wrong audience ⇒ 403 from the connector; a token that does not verify ⇒
 * proxy error (§11).
 */
import type { createRemoteJWKSet } from 'jose';
import { CftunnelError } from '../errors.js';
import type { AccessConfig } from '../ingress/origin-request.js';
import type { OriginRequest, OriginResponse, OriginService } from './types.js';
import { headerValue } from '../util/headers.js';

/** Request header carrying the Access token (§10.6). */
export const ACCESS_JWT_HEADER = 'cf-access-jwt-assertion';
/** Path of the team's signing keys under the team URL (§10.6). */
export const ACCESS_CERTS_PATH = '/cdn-cgi/access/certs';
/** Status answered for a missing token or a foreign audience (§10.6). */
export const ACCESS_FORBIDDEN_STATUS = 403;
/** Name cloudflared gives the middleware in its error text (`ingress/middleware/jwtvalidator.go`). */
const VALIDATOR_NAME = 'AccessJWTValidator';

/** The team URL (issuer) of an Access team (§10.6; `fed` environment → FedRAMP domain). */
export function defaultAccessTeamUrl(teamName: string, environment: string): string {
  return environment === 'fed'
    ? `https://${teamName}.fed.cloudflareaccess.com`
    : `https://${teamName}.cloudflareaccess.com`;
}

/** The Access token did not verify (bad signature, expired, wrong issuer, unreachable key set, …). */
export class AccessTokenError extends CftunnelError {
  constructor(cause: unknown) {
    super(
      'CFT_ERR_ACCESS_TOKEN',
      `error while processing middleware handler ${VALIDATOR_NAME}: ${(cause as Error).message}`,
      {
        retryable: false,
        cause,
      },
    );
  }
}

/** Wraps an origin so that only requests with a valid Access token reach it. */
export class AccessProtectedService implements OriginService {
  private readonly issuer: string;
  private readonly certsUrl: URL;
  /** jose is loaded with the first token to check: only Access-protected rules need it. */
  private verifier:
    Promise<{ keys: ReturnType<typeof createRemoteJWKSet>; jwtVerify: typeof import('jose').jwtVerify }> | undefined;

  constructor(
    private readonly inner: OriginService,
    private readonly access: AccessConfig,
    teamUrl: string,
  ) {
    this.issuer = teamUrl;
    this.certsUrl = new URL(`${teamUrl}${ACCESS_CERTS_PATH}`);
  }

  private loadVerifier(): NonNullable<AccessProtectedService['verifier']> {
    this.verifier ??= import('jose').then((jose) => ({
      keys: jose.createRemoteJWKSet(this.certsUrl),
      jwtVerify: jose.jwtVerify,
    }));
    return this.verifier;
  }

  async roundTrip(req: OriginRequest, signal: AbortSignal): Promise<OriginResponse> {
    const token = headerValue(req.headers, ACCESS_JWT_HEADER) ?? '';
    if (token === '') return { status: ACCESS_FORBIDDEN_STATUS, headers: [], body: null };
    let audience: string[];
    try {
      const { keys, jwtVerify } = await this.loadVerifier();
      const { payload } = await jwtVerify(token, keys, { issuer: this.issuer });
      audience = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    } catch (err) {
      throw new AccessTokenError(err);
    }
    if (!audience.some((a) => this.access.audTag.includes(a)))
      return { status: ACCESS_FORBIDDEN_STATUS, headers: [], body: null };
    return this.inner.roundTrip(req, signal);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
