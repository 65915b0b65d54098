/** Errors of the metrics server (docs/protocol.md §13.1). */
import { CftunnelError } from '../errors.js';

/** The `--metrics` value is not a `host:port` address. */
export class MetricsAddressError extends CftunnelError {
  constructor(address: string) {
    super('CFT_ERR_METRICS_ADDRESS', `invalid metrics address ${JSON.stringify(address)}: expected host:port`, {
      retryable: false,
    });
  }
}

/** The metrics server could not listen. Fatal for an explicit address, as in cloudflared. */
export class MetricsListenError extends CftunnelError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_METRICS_LISTEN', message, { retryable: false, ...options });
  }
}
