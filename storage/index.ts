/**
 * storage/: Gregor's log, in Kafka's on-disk layout. The broker uses only what this module exports.
 *
 * <log.dir>/.lock                                the log directory's lock (log-dir-lock.ts): a kernel lock held by the
 *                                                 LogManager's descriptor while it is open; holds the holder's pid
 * <log.dir>/meta.properties                      version, cluster.id, node.id, directory.id (written only into an
 *                                                 empty directory; data without it is refused)
 * <log.dir>/recovery-point-offset-checkpoint     Kafka text checkpoints (version, count, "topic partition offset")
 * <log.dir>/log-start-offset-checkpoint
 * <log.dir>/cleaner-offset-checkpoint            per compacted log, the offset below which it has been cleaned
 * <log.dir>/.kafka_cleanshutdown                 clean-shutdown marker (skips the recovery rescan)
 * <log.dir>/<topic>-<partition>/00000000000000000000.{log,index,timeindex}
 * <log.dir>/<topic>-<partition>/partition.metadata, leader-epoch-checkpoint
 * <log.dir>/<topic>-<partition>/00000000000000000000.txnindex  aborted transactions whose ABORT marker is in that
 *                                                 segment (transaction-index.ts, Kafka's layout), only once it has one
 * <log.dir>/<topic>-<partition>/<20-digit offset>.snapshot  producer state (src/produce/producer-snapshot.ts),
 *                                                 deleted with the segment starting at that offset
 * <log.dir>/<topic>-<partition>/<base>.{log,index,timeindex}.{cleaned,swap}  a cleaned segment being swapped in
 *                                                 (cleaner.ts, segment-swap.ts; load completes or drops it)
 * <log.dir>/<topic>-<partition>.<uuid>-delete/   a deleted partition, removed in the background
 * <log.dir>/<topic>-<partition>.<uuid>-stray/    a partition the broker's metadata does not explain, kept for the
 *                                                 operator and never removed (LogManager.markStray)
 *
 * Nothing in these files is trusted to destroy data: a checkpoint value the log cannot have (a log start or
 * recovery point beyond the log end, epochs not increasing or not the batches', a cleaner offset outside the
 * log) is logged and replaced by what the log says (log-loader.ts), and an index entry is checked against the
 * batch header it points to before a read relies on it (segment.ts: scan and rebuild on a mismatch).
 *
 * Where each concept lives (Kafka's class in brackets where there is one):
 *   log-manager.ts        LogManager [LogManager]: the log directory, its checkpoints, timers, shared caches
 *   log-dir-lock.ts       the exclusive lock of the log directory [LogManager.lockLogDirs, FileLock]
 *   partition-log.ts      PartitionLog [UnifiedLog]: offsets, leader epochs, append, read, truncation
 *   log-loader.ts         loading a partition directory at start, recovery [LogLoader]
 *   local-log.ts          LocalLog [LocalLog]: the segment list and its files: roll, truncate, delete, read
 *   log-flusher.ts        fdatasync rounds (group commit), the recovery point, flush.ms/flush.messages
 *   retention.ts          which old segments retention.ms, retention.bytes and DeleteRecords delete
 *   append-batches.ts     the batches of an append (parsed here or given by the produce path)
 *   segment.ts            LogSegment [LogSegment]: one .log and its indexes (index-file.ts) [OffsetIndex, TimeIndex],
 *                         transaction-index.ts its aborted transactions [TransactionIndex]
 *   file-region.ts        whole batches left in a .log for a response to stream, its file pinned [FileRecords slice]
 *   segment-swap.ts       the crash-safe swap of cleaned segments, and its completion at load
 *   log-cleaner-manager.ts  compaction: which log, when, its cleaner checkpoint [LogCleanerManager]
 *   cleaner.ts            one cleaning: map, clean, swap [Cleaner] (offset-map.ts, producer-last-batches.ts,
 *                         cleaned-transactions.ts [CleanedTransactionMetadata], cleaner-config.ts; batches
 *                         rewritten by protocol/records/batch-filter.ts)
 *   batch-cache.ts        recently appended batches in memory, for tailing reads
 *   leader-epoch-cache.ts [LeaderEpochFileCache]; checkpoint-file.ts the checkpoint formats
 *   fs.ts, faulty-fs.ts   the file-system seam, and its fault-injecting test double
 */
export { DEFAULT_LOG_CONFIG, effectiveSegmentMs, isCompacted, isDeleting, resolveLogConfig } from './config.js';
export type { LogConfig } from './config.js';
export { OffsetOutOfRangeError, StorageError } from './errors.js';
export { writeFileAtomic } from './checkpoint-file.js';
export { segmentFileName } from './segment.js';
export { nodeFs } from './fs.js';
export { LockUnavailableError } from './fs.js';
export type { StorageFs, FileStat, OpenFlags } from './fs.js';
export { FaultyFs } from './faulty-fs.js';
export type { FaultOp, FaultCode } from './faulty-fs.js';
export { PartitionLog } from './partition-log.js';
export type { AppendInfo, AppendOptions, ReadResult, SendReadResult } from './partition-log.js';
export type { FileRegion } from './file-region.js';
export type { AbortedTxn } from './transaction-index.js';
export type { AppendBatch } from './append-batches.js';
export type { TimestampOffset, RecordTimestampLookup } from './local-log.js';
export type { StorageLogger } from './logger.js';
export { LogManager } from './log-manager.js';
export type { LogManagerOptions, LogManagerStats, TopicLogConfigs } from './log-manager.js';
export { DEFAULT_CLEANER_OPTIONS, resolveCleanerOptions } from './cleaner-config.js';
export type { CleanerOptions } from './cleaner-config.js';
export type { FirstUnstableOffset } from './log-cleaner-manager.js';
export type { StorageObserver } from './observer.js';
