/**
 * The logger shape the library accepts: pino's level methods. A pino (or bunyan-style) logger fits as is, and so
 * does any object with these methods; the connector calls only the four level methods, with either a message or a
 * bindings object followed by a message.
 */

/** One level method: `log(message)` or `log({ connIndex, err, … }, message)`. */
export interface LogMethod {
  (message: string): void;
  (bindings: Record<string, unknown>, message?: string): void;
}

/** Any logger with pino's method shape (`debug`, `info`, `warn`, `error`, and optionally `child`). */
export interface TunnelLogger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  /** Not called by the connector; listed so pino-style loggers are recognised by shape. */
  child?(bindings: Record<string, unknown>): TunnelLogger;
}
