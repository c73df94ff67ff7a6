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
  /** cleanup.policy: 'delete', 'compact' or both ('compact,delete'); see isCompacted/isDeleting. */
  cleanupPolicy: string;
  /** min.cleanable.dirty.ratio: the log cleaner compacts a log once its dirty part is this share of it. */
  minCleanableDirtyRatio: number;
  /** delete.retention.ms: how long tombstones stay after the segment holding them was cleaned. */
  deleteRetentionMs: number;
  /** min.compaction.lag.ms: records younger than this are not compacted. */
  minCompactionLagMs: number;
  /** max.compaction.lag.ms: records older than this are compacted whatever the dirty ratio (rolls the active segment too). */
  maxCompactionLagMs: number;
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
  minCleanableDirtyRatio: 0.5,
  deleteRetentionMs: DAY_MS,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
});

const POLICIES = new Set(['compact', 'delete']);

function policies(config: Pick<LogConfig, 'cleanupPolicy'>): string[] {
  return config.cleanupPolicy.split(',').map((p) => p.trim());
}

/** cleanup.policy includes 'compact': the log cleaner keeps the latest record per key. */
export function isCompacted(config: Pick<LogConfig, 'cleanupPolicy'>): boolean {
  return policies(config).includes('compact');
}

/** cleanup.policy includes 'delete': retention.ms and retention.bytes delete old segments. */
export function isDeleting(config: Pick<LogConfig, 'cleanupPolicy'>): boolean {
  return policies(config).includes('delete');
}

/** segment.ms as appends apply it: a compacted log also rolls by max.compaction.lag.ms (as Kafka's maxSegmentMs). */
export function effectiveSegmentMs(config: LogConfig): number {
  return isCompacted(config) ? Math.min(config.segmentMs, config.maxCompactionLagMs) : config.segmentMs;
}

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
  for (const p of policies(config)) {
    if (p !== '' && !POLICIES.has(p)) throw new RangeError(`log config cleanupPolicy must list 'compact' and/or 'delete', got ${JSON.stringify(config.cleanupPolicy)}`);
  }
  const ratio = config.minCleanableDirtyRatio;
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) throw new RangeError(`log config minCleanableDirtyRatio must be in [0, 1], got ${String(ratio)}`);
  for (const key of ['deleteRetentionMs', 'minCompactionLagMs'] as const) {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`log config ${key} must be a number >= 0, got ${String(v)}`);
  }
  if (typeof config.maxCompactionLagMs !== 'number' || !Number.isFinite(config.maxCompactionLagMs) || config.maxCompactionLagMs < 1) {
    throw new RangeError(`log config maxCompactionLagMs must be a number >= 1, got ${String(config.maxCompactionLagMs)}`);
  }
  return config;
}
