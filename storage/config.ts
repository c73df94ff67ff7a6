/**
 * LogConfig: the per-partition log settings, named after Kafka's topic-level configs (in the comments).
 * Every limit of storage/ is one of these or an option of LogManager.open.
 */
export interface LogConfig {
  /** segment.bytes: roll the active segment when appending would make it larger. */
  segmentBytes: number;
  /** segment.ms: roll the active segment when its first batch is older than this. */
  segmentMs: number;
  /** segment.index.bytes: preallocated size of each .index/.timeindex; a full index rolls the segment. */
  segmentIndexBytes: number;
  /** index.interval.bytes: bytes of log between two offset/time index entries. */
  indexIntervalBytes: number;
  /** retention.ms: delete old segments whose newest record is older than this; -1 = unlimited. */
  retentionMs: number;
  /** retention.bytes: delete old segments while the log is larger than this; -1 = unlimited. */
  retentionBytes: number;
  /** flush.messages (log.flush.interval.messages): fdatasync after this many unflushed messages. */
  flushMessages: number;
  /** flush.ms (log.flush.interval.ms): fdatasync when the oldest unflushed message is this old. */
  flushMs: number;
  /** file.delete.delay.ms: how long deleted segments stay on disk (renamed *.deleted) before removal. */
  fileDeleteDelayMs: number;
  /** cleanup.policy: 'delete' (compaction comes later). */
  cleanupPolicy: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_LOG_CONFIG: LogConfig = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * DAY_MS,
  segmentIndexBytes: 10 * 1024 * 1024,
  indexIntervalBytes: 4096,
  retentionMs: 7 * DAY_MS,
  retentionBytes: -1,
  flushMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
  fileDeleteDelayMs: 60_000,
  cleanupPolicy: 'delete',
});

/** Merges overrides onto a base config and rejects values that cannot work. */
export function resolveLogConfig(base: LogConfig, overrides: Partial<LogConfig> = {}): LogConfig {
  const config: LogConfig = { ...base };
  for (const [key, value] of Object.entries(overrides) as [keyof LogConfig, unknown][]) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  const positive: (keyof LogConfig)[] = ['segmentBytes', 'segmentMs', 'flushMessages', 'flushMs'];
  for (const key of positive) {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 1) throw new RangeError(`log config ${key} must be a number >= 1, got ${String(v)}`);
  }
  if (config.segmentBytes < 14 || config.segmentBytes > 0x7fffffff) throw new RangeError(`log config segmentBytes must be in [14, 2^31-1], got ${config.segmentBytes}`);
  if (!Number.isInteger(config.segmentIndexBytes) || config.segmentIndexBytes < 8) throw new RangeError(`log config segmentIndexBytes must be an integer >= 8, got ${config.segmentIndexBytes}`);
  if (!Number.isInteger(config.indexIntervalBytes) || config.indexIntervalBytes < 0) throw new RangeError(`log config indexIntervalBytes must be an integer >= 0, got ${config.indexIntervalBytes}`);
  for (const key of ['retentionMs', 'retentionBytes'] as const) {
    const v = config[key];
    if (!Number.isFinite(v) || (v < 0 && v !== -1)) throw new RangeError(`log config ${key} must be >= 0 or -1, got ${v}`);
  }
  if (!Number.isFinite(config.fileDeleteDelayMs) || config.fileDeleteDelayMs < 0) throw new RangeError(`log config fileDeleteDelayMs must be >= 0, got ${config.fileDeleteDelayMs}`);
  if (typeof config.cleanupPolicy !== 'string') throw new RangeError('log config cleanupPolicy must be a string');
  return config;
}
