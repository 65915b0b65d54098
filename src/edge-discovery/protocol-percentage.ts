/**
 * The protocol-percentage TXT record and the per-account bucket that picks QUIC or HTTP/2 from it (docs/protocol.md §3.2).
 */
import type { TunnelProtocol } from '../transport/protocol.js';
import { ProtocolPercentageError } from './errors.js';
import type { EdgeResolver } from './resolver.js';

/** TXT record holding the percentages (§3.2). */
export const PROTOCOL_PERCENTAGE_RECORD = 'protocol-v2.argotunnel.com';
/** Candidate order for percentage selection; the first is also the default (§3.2). */
export const PROTOCOL_PRIORITY: readonly TunnelProtocol[] = ['quic', 'http2'];
/** FNV-1a 32-bit parameters (§3.2). */
const FNV32_OFFSET_BASIS = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;
/** Buckets per account (§3.2). */
const BUCKETS = 100;

/** One entry of the TXT record's JSON array. */
export interface ProtocolPercentage {
  protocol: string;
  /** Accounts whose bucket is below this value use the protocol (0..100 in practice; any int32 accepted). */
  percentage: number;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * Parses the record's JSON with the leniency of Go's `encoding/json` into `[]{protocol string; percentage int32}`:
 * `null` is an empty list, missing or `null` members are zero values, member names match case-insensitively, unknown
 * members are ignored; wrong types and
 * non-int32 percentages are errors.
 */
export function parseProtocolPercentages(text: string): ProtocolPercentage[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ProtocolPercentageError(`invalid protocol percentage record: ${(cause as Error).message}`, { cause });
  }
  if (value === null) return [];
  if (!Array.isArray(value)) throw new ProtocolPercentageError('invalid protocol percentage record: not a JSON array');
  return value.map((item: unknown, i) => {
    if (item === null) return { protocol: '', percentage: 0 };
    if (typeof item !== 'object' || Array.isArray(item))
      throw new ProtocolPercentageError(`invalid protocol percentage record: entry ${i} is not an object`);
    // Go matches member names case-insensitively and a later duplicate overwrites an earlier one.
    let protocol: unknown = null;
    let percentage: unknown = null;
    for (const [key, v] of Object.entries(item)) {
      if (key.toLowerCase() === 'protocol') protocol = v;
      else if (key.toLowerCase() === 'percentage') percentage = v;
    }
    if (protocol !== null && typeof protocol !== 'string')
      throw new ProtocolPercentageError(`invalid protocol percentage record: entry ${i} protocol is not a string`);
    if (
      percentage !== null &&
      (typeof percentage !== 'number' ||
        !Number.isInteger(percentage) ||
        percentage < INT32_MIN ||
        percentage > INT32_MAX)
    ) {
      throw new ProtocolPercentageError(`invalid protocol percentage record: entry ${i} percentage is not an int32`);
    }
    return { protocol: (protocol as string | null) ?? '', percentage: (percentage as number | null) ?? 0 };
  });
}

/**
 * Looks up and parses the TXT record. Only the first record counts; its character-strings are joined, as Go's
 * `LookupTXT` does. Rejects with {@link ProtocolPercentageError}.
 */
export async function fetchProtocolPercentages(
  resolver: Pick<EdgeResolver, 'resolveTxt'>,
): Promise<ProtocolPercentage[]> {
  let records: string[][];
  try {
    records = await resolver.resolveTxt(PROTOCOL_PERCENTAGE_RECORD);
  } catch (cause) {
    throw new ProtocolPercentageError(`lookup of ${PROTOCOL_PERCENTAGE_RECORD} failed: ${(cause as Error).message}`, {
      cause,
    });
  }
  const first = records[0];
  if (!first)
    throw new ProtocolPercentageError(
      `No TXT record found for ${PROTOCOL_PERCENTAGE_RECORD} to determine connection protocol`,
    );
  return parseProtocolPercentages(first.join(''));
}

/** The percentage of `protocol` (names compared case-insensitively; the first match wins; absent = 0). */
export function percentageOf(percentages: readonly ProtocolPercentage[], protocol: string): number {
  const wanted = protocol.toLowerCase();
  return percentages.find((p) => p.protocol.toLowerCase() === wanted)?.percentage ?? 0;
}

/** FNV-1a 32-bit hash of the UTF-8 bytes of `data`. */
export function fnv1a32(data: string | Uint8Array): number {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let hash = FNV32_OFFSET_BASIS;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, FNV32_PRIME) >>> 0;
  return hash;
}

/** The account's bucket 0..99: `fnv1a_32(accountTag) mod 100` (§3.2, also §14.3). */
export function protocolBucket(accountTag: string): number {
  return fnv1a32(accountTag) % BUCKETS;
}

/**
 * The first protocol of {@link PROTOCOL_PRIORITY} whose percentage is strictly greater than the account's bucket; QUIC
 * when none is, or when the lookup failed (`percentages` undefined).
 */
export function selectByPercentage(
  percentages: readonly ProtocolPercentage[] | undefined,
  accountTag: string,
): TunnelProtocol {
  if (percentages) {
    const bucket = protocolBucket(accountTag);
    for (const protocol of PROTOCOL_PRIORITY) if (percentageOf(percentages, protocol) > bucket) return protocol;
  }
  return PROTOCOL_PRIORITY[0]!;
}
