/** Errors raised while validating ingress rules (docs/protocol.md §10.3). */
import { CftunnelError } from '../errors.js';

/** The ingress configuration is invalid; `message` is cloudflared's wording for the first problem found. */
export class IngressConfigError extends CftunnelError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_INGRESS_INVALID', message, { retryable: false, ...options });
  }
}

/** A rule names a service cftunnel deliberately does not implement (e.g. `socks-proxy`). */
export class UnsupportedServiceError extends CftunnelError {
  constructor(service: string) {
    super('CFT_ERR_INGRESS_UNSUPPORTED_SERVICE', `${service} is not supported by cftunnel`, { retryable: false });
  }
}
