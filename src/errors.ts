/**
 * Error base class shared by every layer of cftunnel.
 *
 * Each failure has a stable `code` (never reworded once published), a `retryable` flag telling the supervisor
 * whether trying again can help, and the underlying `cause`. Messages never contain secrets.
 */

/** Options accepted by {@link CftunnelError} and its subclasses. */
export interface CftunnelErrorOptions {
  /** Whether retrying the operation (for example reconnecting) may succeed. Defaults to `false`. */
  retryable?: boolean;
  /** The lower-level error that caused this one. */
  cause?: unknown;
}

/**
 * Base class of every error cftunnel throws or emits.
 *
 * How a message composes with its cause: `message` says what failed at this level only, and the full text is the
 * chain `message: cause message: …`, which is what loggers print (pino's `err` serializer appends every cause) and
 * what {@link errorText} returns. A message written Go-style, ending with `: <cause message>`, loses that suffix
 * here, so that no rendering ever repeats a cause's text.
 */
export class CftunnelError extends Error {
  /** Stable machine-readable code, e.g. `CFT_ERR_TOKEN_INVALID`. */
  readonly code: string;
  /** Whether retrying the operation may succeed. */
  readonly retryable: boolean;

  /**
   * The message as the call site composed it, cause text included (Go's `errors.Wrap` text): what cloudflared puts
   * on the wire, e.g. in `ConnectResponse.error` (docs/protocol.md §11). Not enumerable, so loggers do not repeat it.
   */
  declare readonly wrappedMessage: string;

  constructor(code: string, message: string, options: CftunnelErrorOptions = {}) {
    super(withoutCauseText(message, options.cause), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    Object.defineProperty(this, 'wrappedMessage', { value: message, enumerable: false });
  }
}

/** The text sent to the edge for a failed request: {@link CftunnelError.wrappedMessage}, else the message. */
export function wireText(err: unknown): string {
  if (err instanceof CftunnelError) return err.wrappedMessage;
  return messageOf(err) ?? String(err);
}

function messageOf(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string'
    ? (value as { message: string }).message
    : undefined;
}

/** `message` without a trailing `: <cause's message>` (the renderer adds the cause). */
function withoutCauseText(message: string, cause: unknown): string {
  const causeText = messageOf(cause);
  if (causeText === undefined || causeText === '') return message;
  if (message === causeText) return message;
  const suffix = `: ${causeText}`;
  return message.endsWith(suffix) && message.length > suffix.length ? message.slice(0, -suffix.length) : message;
}

/**
 * The text of an error with its causes, `message: cause: …`, as pino's `err` serializer renders it: what the CLI
 * prints and what a log line shows. A cause whose text is already part of the text so far is not repeated.
 */
export function errorText(err: unknown): string {
  let text = messageOf(err) ?? String(err);
  const seen = new Set<unknown>([err]);
  let cause = (err as { cause?: unknown } | null | undefined)?.cause;
  while (cause !== undefined && cause !== null && !seen.has(cause)) {
    seen.add(cause);
    const part = messageOf(cause) ?? String(cause);
    if (part !== '' && !text.includes(part)) text = `${text}: ${part}`;
    cause = (cause as { cause?: unknown }).cause;
  }
  return text;
}

/** True when `err` is a {@link CftunnelError} with the given code. */
export function hasErrorCode(err: unknown, code: string): boolean {
  return err instanceof CftunnelError && err.code === code;
}
