/**
 * storage/: Gregor's log, in Kafka's on-disk layout. The broker uses only what this module exports.
 *
 * <log.dir>/meta.properties                      version, cluster.id, node.id, directory.id
 * <log.dir>/recovery-point-offset-checkpoint     Kafka text checkpoints (version, count, "topic partition offset")
 * <log.dir>/log-start-offset-checkpoint
 * <log.dir>/cleaner-offset-checkpoint            per compacted log, the offset below which it has been cleaned
 * <log.dir>/.kafka_cleanshutdown                 clean-shutdown marker (skips the recovery rescan)
 * <log.dir>/<topic>-<partition>/00000000000000000000.{log,index,timeindex}
 * <log.dir>/<topic>-<partition>/partition.metadata, leader-epoch-checkpoint
 * <log.dir>/<topic>-<partition>/<20-digit offset>.snapshot  producer state (src/produce/producer-snapshot.ts),
 *                                                 deleted with the segment starting at that offset
 * <log.dir>/<topic>-<partition>/<base>.{log,index,timeindex}.{cleaned,swap}  a cleaned segment being swapped in
 *                                                 (cleaner.ts, segment-swap.ts; load completes or drops it)
 * <log.dir>/<topic>-<partition>.<uuid>-delete/   a deleted partition, removed in the background
 */
export { DEFAULT_LOG_CONFIG, effectiveSegmentMs, isCompacted, isDeleting, resolveLogConfig } from './config.js';
export type { LogConfig } from './config.js';
export { OffsetOutOfRangeError, StorageError } from './errors.js';
export { writeFileAtomic } from './checkpoint-file.js';
export { segmentFileName } from './segment.js';
export { nodeFs } from './fs.js';
export type { StorageFs, FileStat, OpenFlags } from './fs.js';
export { FaultyFs } from './faulty-fs.js';
export type { FaultOp, FaultCode } from './faulty-fs.js';
export { PartitionLog } from './partition-log.js';
export type { AppendInfo, AppendOptions, ReadResult } from './partition-log.js';
export type { AppendBatch } from './append-batches.js';
export type { TimestampOffset, RecordTimestampLookup } from './local-log.js';
export type { StorageLogger } from './logger.js';
export { LogManager } from './log-manager.js';
export type { LogManagerOptions, LogManagerStats } from './log-manager.js';
export { DEFAULT_CLEANER_OPTIONS, resolveCleanerOptions } from './cleaner-config.js';
export type { CleanerOptions } from './cleaner-config.js';
export type { StorageObserver } from './observer.js';
