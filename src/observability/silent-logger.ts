/**
 * The library's default logger: says nothing. A silent pino instance would do the same, but loading pino and its
 * transports costs a library user who never logs several MB of RSS; the connector only ever calls the four level
 * methods below (and `child`, kept for pino compatibility).
 */
import type { Logger } from 'pino';

const ignore = (): void => undefined;

const silent = {
  level: 'silent',
  fatal: ignore,
  error: ignore,
  warn: ignore,
  info: ignore,
  debug: ignore,
  trace: ignore,
  silent: ignore,
  isLevelEnabled: (): boolean => false,
  child: (): Logger => silentLogger,
};

/** A logger that drops everything (only the methods the connector calls are real). */
export const silentLogger: Logger = silent as unknown as Logger;
