/** Holder for the tunnel secret that never reveals it through logging, inspection or JSON. */
import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * The tunnel secret (docs/protocol.md §1.1 `s`). The bytes live in a private field; `String()`, `JSON.stringify` and
 * `util.inspect` all show `[redacted]`. Use {@link TunnelSecret.bytes} to get them for `TunnelAuth.tunnelSecret`.
 */
export class TunnelSecret {
  readonly #bytes: Buffer;

  constructor(bytes: Uint8Array) {
    this.#bytes = Buffer.from(bytes);
  }

  /** A copy of the raw secret bytes. */
  bytes(): Buffer {
    return Buffer.from(this.#bytes);
  }

  /** Number of secret bytes (32 for secrets made by `cloudflared tunnel create`). */
  get length(): number {
    return this.#bytes.length;
  }

  /** Constant-time comparison with other bytes. */
  equals(other: Uint8Array): boolean {
    if (other.length !== this.#bytes.length) return false;
    let diff = 0;
    for (let i = 0; i < other.length; i++) diff |= other[i]! ^ this.#bytes[i]!;
    return diff === 0;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `TunnelSecret ${REDACTED}`;
  }
}
