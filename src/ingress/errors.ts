/** Errors raised while validating ingress rules (PROTOCOL.md §10.3). */
import { CftunnelError } from '../errors.js';

/** The ingress configuration is invalid; `message` is cloudflared's wording for the first problem found. */
export class IngressConfigError extends CftunnelError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_INGRESS_INVALID', message, { retryable: false, ...options });
  }
}
