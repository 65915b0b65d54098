/**
 * Reads string members of a JSON object the way Go's `encoding/json` fills a struct (docs/protocol.md §1.1, §1.3):
 * member names match case-insensitively, unknown members are ignored, `null` leaves the field unset, a later
 * duplicate wins, and a non-string value for a known field is an error.
 */
import { TokenError } from './errors.js';

/** Parses `text` as a JSON object and returns the named string fields (absent or null ones omitted). */
export function readStringFields<K extends string>(
  text: string,
  names: readonly K[],
  prefix?: string,
): Partial<Record<K, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The SyntaxError text quotes the input, which holds the secret: drop it.
    throw new TokenError('not-json', 'It is not valid JSON.', prefix);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TokenError('not-object', 'It is not a JSON object.', prefix);
  }
  const byLower = new Map(names.map((n) => [n.toLowerCase(), n] as const));
  const out: Partial<Record<K, string>> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const field = byLower.get(key.toLowerCase());
    if (field === undefined || value === null) continue;
    if (typeof value !== 'string') {
      throw new TokenError('bad-field-type', `Field "${field}" must be a string.`, prefix);
    }
    out[field] = value;
  }
  return out;
}
