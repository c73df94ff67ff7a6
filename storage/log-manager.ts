import type { LogConfig } from './config.js';
import type { StorageFs } from './fs.js';
import type { PartitionLog } from './partition-log.js';

export interface StorageLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
}
export interface LogManagerOptions {
  logDir: string;
  nodeId: number;
  defaults: LogConfig;
  fs?: StorageFs;
  logger?: StorageLogger;
  /** log.retention.check.interval.ms, default 300000. */
  retentionCheckIntervalMs?: number;
  /** Bytes of recently appended batches kept in memory for tailing reads, default 64 MiB. */
  cacheBytes?: number;
  /** Open file descriptors kept by the handle cache, default 1000. */
  maxOpenFiles?: number;
}
export interface LogManagerStats {
  cacheHits: number;
  cacheMisses: number;
  openFiles: number;
}

export class LogManager {
  readonly clusterId: string = '';
  readonly logDir: string = '';
  static open(_opts: LogManagerOptions): Promise<LogManager> { throw new Error('not implemented'); }
  existingLogs(): PartitionLog[] { throw new Error('not implemented'); }
  getLog(_topic: string, _partition: number): PartitionLog | undefined { throw new Error('not implemented'); }
  createLog(_topic: string, _partition: number, _topicId: string, _config?: Partial<LogConfig>): Promise<PartitionLog> { throw new Error('not implemented'); }
  deleteLog(_topic: string, _partition: number): Promise<void> { throw new Error('not implemented'); }
  allLogs(): Iterable<PartitionLog> { throw new Error('not implemented'); }
  stats(): LogManagerStats { throw new Error('not implemented'); }
  close(): Promise<void> { throw new Error('not implemented'); }
}
