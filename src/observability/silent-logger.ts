/**
 * The library's default logger: says nothing. A silent pino instance would do the same, but loading pino and its
 * transports costs a library user who never logs several MB of RSS.
 */
import type { TunnelLogger } from '../util/logger.js';

const ignore = (): void => undefined;

/** A logger that drops everything. */
export const silentLogger: TunnelLogger = {
  error: ignore,
  warn: ignore,
  info: ignore,
  debug: ignore,
  child: (): TunnelLogger => silentLogger,
};
