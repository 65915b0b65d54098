/**
 * Tunnel credentials from a token (docs/protocol.md §1.1, §1.2) or a credentials file (§1.3).
 */
import { readFile } from 'node:fs/promises';
import { decodeStdBase64 } from './base64.js';
import { TokenError, TokenFileError } from './errors.js';
import { readStringFields } from './json-fields.js';
import { TunnelSecret } from './secret.js';
import { formatUuid, parseUuid } from './uuid.js';

/** Everything the connector needs to authenticate a tunnel. Safe to log: the secret shows as `[redacted]`. */
export interface TunnelCredentials {
  /** Account tag (`TunnelAuth.accountTag`). */
  accountTag: string;
  /** Tunnel UUID, canonical lower-case form. */
  tunnelId: string;
  /** Tunnel UUID as the 16 raw bytes sent in `registerConnection`. */
  tunnelIdBytes: Buffer;
  /** Tunnel secret; call `.bytes()` to get the raw bytes. */
  tunnelSecret: TunnelSecret;
  /** Region endpoint (HEAD only, e.g. `fed`); absent when empty. */
  endpoint?: string;
}

/** Prefix cloudflared-style messages use for credentials-file problems. */
const CREDENTIALS_PREFIX = 'Tunnel credentials file is not valid.';

interface RawCredentials {
  account?: string;
  tunnel?: string;
  secret?: string;
  endpoint?: string;
}

function buildCredentials(raw: RawCredentials, prefix: string | undefined): TunnelCredentials {
  // cloudflared itself does not check presence (the edge rejects later); failing early gives a clearer error.
  if (!raw.account) throw new TokenError('missing-field', 'The account tag is missing.', prefix);
  if (!raw.tunnel) throw new TokenError('missing-field', 'The tunnel ID is missing.', prefix);
  if (!raw.secret) throw new TokenError('missing-field', 'The tunnel secret is missing.', prefix);
  const idBytes = parseUuid(raw.tunnel);
  if (idBytes === null) throw new TokenError('bad-uuid', 'The tunnel ID is not a valid UUID.', prefix);
  const secretBytes = decodeStdBase64(raw.secret);
  if (secretBytes === null) {
    throw new TokenError('bad-secret', 'The tunnel secret is not valid standard base64.', prefix);
  }
  const creds: TunnelCredentials = {
    accountTag: raw.account,
    tunnelId: formatUuid(idBytes),
    tunnelIdBytes: idBytes,
    tunnelSecret: new TunnelSecret(secretBytes),
  };
  secretBytes.fill(0);
  if (raw.endpoint) creds.endpoint = raw.endpoint;
  return creds;
}

/**
 * Decodes a tunnel token: padded standard base64 of JSON `{"a","t","s","e"?}` (docs/protocol.md §1.1).
 *
 * @throws {TokenError} `CFT_ERR_TOKEN_INVALID`; the message starts with `Provided Tunnel token is not valid.`
 */
export function parseToken(token: string): TunnelCredentials {
  const json = decodeStdBase64(token);
  if (json === null) throw new TokenError('not-base64', 'It is not padded standard base64.');
  const f = readStringFields(json.toString('utf8'), ['a', 't', 's', 'e']);
  return buildCredentials({ account: f.a, tunnel: f.t, secret: f.s, endpoint: f.e }, undefined);
}

/** Reads a token file; surrounding whitespace is trimmed (docs/protocol.md §1.2). */
export async function readTokenFile(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    throw new TokenFileError(`Failed to read token file: ${(err as Error).message}`, err);
  }
}

/** Options for {@link parseCredentialsFile}. */
export interface CredentialsFileOptions {
  /** Tunnel UUID given on the command line; replaces the file's `TunnelID` (docs/protocol.md §1.3). */
  tunnelId?: string;
}

/**
 * Parses credentials-file JSON `{"AccountTag","TunnelSecret","TunnelID","Endpoint"}` (Go field names, matched
 * case-insensitively; docs/protocol.md §1.3).
 *
 * @throws {TokenError} `CFT_ERR_TOKEN_INVALID` with the prefix `Tunnel credentials file is not valid.`
 */
export function parseCredentialsFile(json: string, options: CredentialsFileOptions = {}): TunnelCredentials {
  const f = readStringFields(json, ['AccountTag', 'TunnelSecret', 'TunnelID', 'Endpoint'], CREDENTIALS_PREFIX);
  return buildCredentials(
    { account: f.AccountTag, tunnel: options.tunnelId ?? f.TunnelID, secret: f.TunnelSecret, endpoint: f.Endpoint },
    CREDENTIALS_PREFIX,
  );
}

/** Reads and parses a credentials file (see {@link parseCredentialsFile}). */
export async function readCredentialsFile(
  path: string,
  options: CredentialsFileOptions = {},
): Promise<TunnelCredentials> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TokenFileError(`Failed to read credentials file: ${(err as Error).message}`, err);
  }
  return parseCredentialsFile(text, options);
}
