/**
 * UUID text forms accepted by Go's `github.com/google/uuid.Parse`, which cloudflared uses for the token's `t`
 * (docs/protocol.md §1.1): canonical 36 chars, `urn:uuid:` + canonical, `{` canonical `}`, and 32 bare hex digits.
 */

const HEX = /^[0-9a-fA-F]+$/;
/** Dash positions of the canonical 8-4-4-4-12 form. */
const DASHES = [8, 13, 18, 23];

/** Parses any Go `uuid.Parse` form into 16 bytes, or returns `null` when `text` is not a UUID. */
export function parseUuid(text: string): Buffer | null {
  let s = text;
  if (s.length === 36 + 9) {
    if (s.slice(0, 9).toLowerCase() !== 'urn:uuid:') return null;
    s = s.slice(9);
  } else if (s.length === 36 + 2) {
    if (s[0] !== '{' || s[37] !== '}') return null;
    s = s.slice(1, 37);
  } else if (s.length === 32) {
    return HEX.test(s) ? Buffer.from(s, 'hex') : null;
  }
  if (s.length !== 36) return null;
  for (const i of DASHES) if (s[i] !== '-') return null;
  const hex = s.slice(0, 8) + s.slice(9, 13) + s.slice(14, 18) + s.slice(19, 23) + s.slice(24);
  return HEX.test(hex) ? Buffer.from(hex, 'hex') : null;
}

/** Formats 16 bytes as the canonical lower-case `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` form. */
export function formatUuid(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`a UUID has 16 bytes, got ${bytes.length}`);
  const h = Buffer.from(bytes).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
