/**
 * The BROKER_LOGGER config resource (KIP-412): the broker's log levels,
 * described with DescribeConfigs and changed with IncrementalAlterConfigs, by
 * log4j level name, and never stored (a restart restores the configured
 * level), as in Kafka. Gregor has one logger, Kafka's "root"; its level is the
 * pino logger's (gregor.log.level at start).
 */
import type { Logger } from '../logger.js';

/** Kafka's Log4jController.ROOT_LOGGER. */
export const ROOT_LOGGER = 'root';

/** Kafka's LogLevelConfig.VALID_LOG_LEVELS, sorted as its error message lists them. */
export const VALID_LOG_LEVELS: readonly string[] = ['DEBUG', 'ERROR', 'FATAL', 'INFO', 'TRACE', 'WARN'];

const LOG4J_OF_PINO: Readonly<Record<string, string>> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'FATAL',
  silent: 'OFF',
};

/** The broker's loggers with their log4j level names. */
export function brokerLoggers(logger: Logger): Array<[name: string, level: string]> {
  return [[ROOT_LOGGER, LOG4J_OF_PINO[logger.level] ?? logger.level.toUpperCase()]];
}

export function loggerExists(name: string): boolean {
  return name === ROOT_LOGGER;
}

/** Sets a logger's level by its log4j name (one of VALID_LOG_LEVELS). */
export function setLoggerLevel(logger: Logger, name: string, level: string): void {
  if (name === ROOT_LOGGER) logger.level = level.toLowerCase();
}
