/**
 * The quick-tunnel service call (docs/protocol.md §20.2): `POST <service>/tunnel` with no body answers credentials
 * for a fresh account-less tunnel and the hostname it is published on.
 */
import { CftunnelError } from '../errors.js';
import { decodeStdBase64, formatUuid, parseUuid, TunnelSecret, type TunnelCredentials } from '../token/index.js';
import {
  QuickTunnelRateLimitedError,
  QuickTunnelRefusedError,
  QuickTunnelResponseError,
  QuickTunnelUnreachableError,
  type QuickTunnelServiceMessage,
} from './errors.js';
import { goJsonMember as member, isPlainObject } from '../util/go-json.js';

/** cloudflared's default `--quick-service`. */
export const DEFAULT_QUICK_SERVICE_URL = 'https://api.trycloudflare.com';
/** cloudflared's timeout for the whole request, headers and TLS handshake included (§20.2). */
export const QUICK_SERVICE_TIMEOUT_MS = 15_000;
/** Longest answer read: the real one is a few hundred bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** Longest piece of an unexpected answer quoted in an error. */
const EXCERPT_CHARS = 200;

/** What the service granted. */
export interface QuickTunnelGrant {
  /** Credentials to run the tunnel with (the secret never shows in logs). */
  credentials: TunnelCredentials;
  /** Hostname as the service sent it (what `/quicktunnel` of the metrics server reports). */
  hostname: string;
  /** Public URL: `https://` + hostname. */
  url: string;
  /** The tunnel's name at the service (informational). */
  name: string;
}

/** Options of {@link requestQuickTunnel}. */
export interface RequestQuickTunnelOptions {
  /** Base URL of the service (`--quick-service`); default {@link DEFAULT_QUICK_SERVICE_URL}. */
  serviceUrl?: string;
  /** `User-Agent` header. */
  userAgent: string;
  /** Default {@link QUICK_SERVICE_TIMEOUT_MS}. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** An excerpt of an unexpected answer, safe to show: a `secret` member is masked even in broken JSON. */
function excerpt(body: string): string {
  const masked = body.replace(/("secret"\s*:\s*")[^"]*("?)/gi, '$1[redacted]$2').trim();
  return masked.length > EXCERPT_CHARS ? `${masked.slice(0, EXCERPT_CHARS)}…` : masked;
}

function serviceMessages(value: unknown): QuickTunnelServiceMessage[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isPlainObject).map((e) => {
    const code = member(e, 'code');
    const message = member(e, 'message');
    return {
      code: typeof code === 'number' ? code : undefined,
      message: typeof message === 'string' ? message : JSON.stringify(e),
    };
  });
}

function retryAfter(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

async function readCapped(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Turns the service's JSON document into a grant, or throws what is wrong with it. */
export function parseQuickTunnelAnswer(status: number, body: string): QuickTunnelGrant {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    // The SyntaxError text quotes the input, which may hold a secret: only the masked excerpt is shown.
    throw new QuickTunnelResponseError(status, `the answer is not JSON: ${JSON.stringify(excerpt(body))}`);
  }
  if (!isPlainObject(doc)) throw new QuickTunnelResponseError(status, 'the answer is not a JSON object');
  if (member(doc, 'success') !== true)
    throw new QuickTunnelRefusedError(status, serviceMessages(member(doc, 'errors')));
  const result = member(doc, 'result');
  if (!isPlainObject(result)) throw new QuickTunnelResponseError(status, '"result" is missing');
  const field = (name: string): string => {
    const value = member(result, name);
    if (typeof value !== 'string' || value === '')
      throw new QuickTunnelResponseError(status, `"result.${name}" is missing or not a string`);
    return value;
  };
  const idBytes = parseUuid(field('id'));
  if (idBytes === null) throw new QuickTunnelResponseError(status, 'failed to parse quick Tunnel ID');
  const secret = decodeStdBase64(field('secret'));
  if (secret === null) throw new QuickTunnelResponseError(status, '"result.secret" is not standard base64');
  const hostname = field('hostname');
  const name = member(result, 'name');
  const credentials: TunnelCredentials = {
    accountTag: field('account_tag'),
    tunnelId: formatUuid(idBytes),
    tunnelIdBytes: idBytes,
    tunnelSecret: new TunnelSecret(secret),
  };
  secret.fill(0);
  return {
    credentials,
    hostname,
    url: hostname.startsWith('https://') ? hostname : `https://${hostname}`,
    name: typeof name === 'string' ? name : '',
  };
}

/**
 * Asks the quick-tunnel service for a tunnel.
 *
 * @throws {QuickTunnelUnreachableError} no answer (connection refused, DNS, TLS, timeout).
 * @throws {QuickTunnelRateLimitedError} HTTP 429.
 * @throws {QuickTunnelResponseError} not JSON, or JSON without usable credentials.
 * @throws {QuickTunnelRefusedError} `"success": false` (the service's `errors` are in the message).
 * @throws {CftunnelError} `CFT_ERR_ABORTED` when `signal` aborted the request.
 */
export async function requestQuickTunnel(options: RequestQuickTunnelOptions): Promise<QuickTunnelGrant> {
  const base = (options.serviceUrl ?? DEFAULT_QUICK_SERVICE_URL).replace(/\/+$/, '');
  const timeout = AbortSignal.timeout(options.timeoutMs ?? QUICK_SERVICE_TIMEOUT_MS);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  let res: Response;
  let body: string;
  try {
    res = await fetch(`${base}/tunnel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': options.userAgent },
      signal,
      redirect: 'error',
    });
    body = await readCapped(res);
  } catch (err) {
    if (options.signal?.aborted)
      throw new CftunnelError('CFT_ERR_ABORTED', 'the quick Tunnel request was aborted', {
        cause: options.signal.reason,
      });
    throw new QuickTunnelUnreachableError(base, err);
  }
  if (res.status === 429) {
    let text = body;
    try {
      const doc: unknown = JSON.parse(body);
      if (isPlainObject(doc))
        text = serviceMessages(member(doc, 'errors'))
          .map((e) => e.message)
          .join('; ');
    } catch {
      // A plain-text body (Cloudflare's `error code: 1015`) is quoted as is.
    }
    throw new QuickTunnelRateLimitedError(base, retryAfter(res.headers.get('retry-after')), excerpt(text));
  }
  return parseQuickTunnelAnswer(res.status, body);
}
