/**
 * Structured logging with pino: JSON lines, or pretty output when stdout is a TTY.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, pretty = process.stdout.isTTY === true): Logger {
  if (pretty) {
    return pino({ level, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l' } } });
  }
  return pino({ level });
}
