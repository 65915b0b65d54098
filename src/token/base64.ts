/**
 * Strict standard base64 as Go's `base64.StdEncoding` decodes it (docs/protocol.md §1.1): `+/` alphabet, `=` padding
 * required, CR and LF ignored. Node's own decoder silently accepts URL-safe and unpadded input, so validate first.
 */

const STD_PADDED = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes padded standard base64, or returns `null` when Go's StdEncoding would reject it. */
export function decodeStdBase64(text: string): Buffer | null {
  const s = text.replace(/[\r\n]/g, '');
  if (!STD_PADDED.test(s)) return null;
  return Buffer.from(s, 'base64');
}
