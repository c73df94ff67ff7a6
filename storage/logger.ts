/**
 * StorageLogger: the logging storage/ does, in pino's shape (an object of fields, then a message); the
 * broker passes its own logger. Without one, storage logs nothing (noopLogger).
 */
export interface StorageLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
}

export const noopLogger: StorageLogger = { info() {}, warn() {}, error() {} };
