/** A throwaway tunnel identity for `cftunnel demo`: random like `cloudflared tunnel create` makes them (§1.1). */
import { randomBytes, randomUUID } from 'node:crypto';

/** Secret length `cloudflared tunnel create` generates (docs/protocol.md §1.1). */
export const DEMO_SECRET_BYTES = 32;

/** A fresh random token: 32-byte secret, random tunnel UUID, random 32-hex-digit account tag. */
export function generateDemoToken(): string {
  const doc = {
    a: randomBytes(16).toString('hex'),
    t: randomUUID(),
    s: randomBytes(DEMO_SECRET_BYTES).toString('base64'),
  };
  return Buffer.from(JSON.stringify(doc)).toString('base64');
}
