/** Typed errors for token and credentials parsing. Messages never quote the token or the secret. */
import { CftunnelError } from '../errors.js';

/** Why a token or credentials document was rejected. */
export type TokenErrorReason =
  'not-base64' | 'not-json' | 'not-object' | 'bad-field-type' | 'bad-uuid' | 'bad-secret' | 'missing-field';

/** cloudflared's usage error for any token decode failure (docs/protocol.md §1.1). */
export const INVALID_TOKEN_MESSAGE = 'Provided Tunnel token is not valid.';

/** A tunnel token (or credentials JSON) could not be decoded. Never carries a `cause`: causes may quote input. */
export class TokenError extends CftunnelError {
  /** Machine-readable reason, e.g. `not-base64`. */
  readonly reason: TokenErrorReason;

  constructor(reason: TokenErrorReason, detail: string, prefix: string = INVALID_TOKEN_MESSAGE) {
    super('CFT_ERR_TOKEN_INVALID', `${prefix} ${detail}`, { retryable: false });
    this.reason = reason;
  }
}

/** A token file or credentials file could not be read. */
export class TokenFileError extends CftunnelError {
  constructor(message: string, cause: unknown) {
    super('CFT_ERR_TOKEN_FILE', message, { retryable: false, cause });
  }
}
