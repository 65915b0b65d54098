/** The benchmark harness's one failure kind. */
import { CftunnelError } from '../../src/errors.js';

/** A benchmark could not run (a child failed, a transfer came back short, bad command line). */
export class BenchError extends CftunnelError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CFT_ERR_BENCH', message, { retryable: false, ...options });
  }
}
