/**
 * LogManager: one log directory. Owns meta.properties, the log-dir checkpoints
 * (recovery-point-offset-checkpoint, log-start-offset-checkpoint), the clean-shutdown marker, every
 * PartitionLog, and what they share: the batch cache, the file-handle cache, the read buffer pool, the
 * fsync limiter, and the timers for retention, flush.ms and checkpoints.
 *
 * Start, in two steps (open does both): openDir locks the directory (log-dir-lock.ts: a second broker on it
 * is refused) and reads meta.properties (refuse a different node.id, or data without the file); loadLogs,
 * given each topic's config overrides (recovery rebuilds indexes by segment.index.bytes and
 * index.interval.bytes, and a compacted log may have offset gaps: they must be the topic's own, not the
 * broker defaults), notes whether the last shutdown was clean (`.kafka_cleanshutdown`), loads every
 * `<topic>-<partition>` directory (recovering after an unclean shutdown), removes `*-delete` directories in
 * the background, leaves `*-stray` ones alone (with a warning), removes the marker, writes the checkpoints,
 * and starts the timers and the cleaner. The broker reads its topic metadata (checked against the cluster id
 * of meta.properties) between the two, as Kafka's LogManager.startup gets the topic configs from the
 * metadata it has loaded.
 * Delete: rename to `-delete` (a batch: one directory fsync, one checkpoint write), then remove in the
 * background, one directory at a time. Stray (the broker's metadata does not explain a directory): rename to
 * `-stray` and keep it.
 * Close: flush and close every log, write the checkpoints, then the marker; release the lock.
 */
import { randomUUID } from 'node:crypto';
import { BatchCache } from './batch-cache.js';
import { BufferPool } from './buffer-pool.js';
import { CheckpointWriter, formatOffsetCheckpoint, readOffsetCheckpoint, readPartitionMetadata } from './checkpoint-file.js';
import { resolveLogConfig, type LogConfig } from './config.js';
import { StorageError, storageError } from './errors.js';
import { FileHandleCache } from './file-handles.js';
import { FileRegion } from './file-region.js';
import { nodeFs, type StorageFs } from './fs.js';
import { Limiter } from './limiter.js';
import { lockLogDir, type LogDirLock } from './log-dir-lock.js';
import { loadOrCreateMetaProperties } from './meta-properties.js';
import type { StorageObserver } from './observer.js';
import type { CleanerOptions } from './cleaner-config.js';
import { CLEANER_CHECKPOINT_FILE, LogCleanerManager, type FirstUnstableOffset } from './log-cleaner-manager.js';
import { noopLogger, type StorageLogger } from './logger.js';
import type { RecordTimestampLookup } from './local-log.js';
import { PartitionLog, type LogContext } from './partition-log.js';

export interface LogManagerOptions {
  logDir: string;
  nodeId: number;
  defaults: LogConfig;
  fs?: StorageFs;
  logger?: StorageLogger;
  /** log.retention.check.interval.ms, default 300000. */
  retentionCheckIntervalMs?: number;
  /** Bytes of recently appended batches kept in memory for tailing reads, default 64 MiB (0 disables). */
  cacheBytes?: number;
  /** Open file descriptors kept by the handle cache, default 1000. */
  maxOpenFiles?: number;
  /** log.flush.offset.checkpoint.interval.ms: how often the checkpoints are written, default 60000. */
  checkpointIntervalMs?: number;
  /** How often flush.ms is checked, default 1000. */
  flushCheckIntervalMs?: number;
  /** fdatasync calls running at once across all partitions, default 2 (the libuv pool has 4 threads). */
  maxConcurrentSyncs?: number;
  /** Exact record look-up for ListOffsets by timestamp (see RecordTimestampLookup). */
  findRecordByTimestamp?: RecordTimestampLookup;
  /** Wall clock (ms), default Date.now. */
  clock?: () => number;
  /** Topic-level overrides of `defaults` for logs found at open (recovery and retention use them); see loadLogs. */
  topicConfig?: TopicLogConfigs;
  /** Times fsyncs, appends and reads (the broker's metrics). */
  observer?: StorageObserver;
  /** The log cleaner (compaction of cleanup.policy=compact logs): the broker's log.cleaner.* settings. */
  cleaner?: Partial<CleanerOptions>;
  /**
   * A log's first unstable offset (its last stable offset: the first offset of its earliest ongoing
   * transaction, else the high watermark), which the cleaner never cleans up to (see FirstUnstableOffset).
   * Without it every closed segment may be cleaned (a broker without transactions).
   */
  firstUnstableOffset?: FirstUnstableOffset;
}

/** A topic's overrides of the log defaults, undefined for none. */
export type TopicLogConfigs = (topic: string) => Partial<LogConfig> | undefined;

export interface LogManagerStats {
  /** Batches served from the batch cache. */
  cacheHits: number;
  /** Reads that went to a segment file. */
  cacheMisses: number;
  cacheBytes: number;
  cachedBatches: number;
  openFiles: number;
  /** Files opened by the handle cache since start. */
  fileOpens: number;
  fsyncs: number;
  partitions: number;
  offlinePartitions: number;
  /** Log cleaner: cleanings done, bytes read, written and reclaimed, records removed, dirtiest ratio seen. */
  cleanerRuns: number;
  cleanerBytesRead: number;
  cleanerBytesWritten: number;
  cleanerBytesReclaimed: number;
  cleanerRecordsRemoved: number;
  cleanerMaxDirtyRatio: number;
  cleanerUncleanablePartitions: number;
  /** Milliseconds the last cleaning took. */
  cleanerLastCleaningMs: number;
}

/** The periods of the timers loadLogs starts. */
interface TimerIntervals {
  readonly retentionCheckMs: number;
  readonly checkpointMs: number;
  readonly flushCheckMs: number;
}

const RECOVERY_POINT_FILE = 'recovery-point-offset-checkpoint';
const LOG_START_FILE = 'log-start-offset-checkpoint';
const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
/** Directories renamed between two turns of the event loop when many partitions are deleted at once. */
const RENAMES_PER_TURN = 500;

function key(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be an integer >= 1, got ${value}`);
  return value;
}

export class LogManager {
  readonly clusterId: string;
  readonly logDir: string;
  readonly nodeId: number;
  readonly directoryId: string;
  private readonly logs = new Map<string, PartitionLog>();
  private readonly found: PartitionLog[] = [];
  private readonly ctx: LogContext;
  private readonly handles: FileHandleCache;
  private readonly cache: BatchCache;
  private readonly defaults: LogConfig;
  private readonly intervals: TimerIntervals;
  private readonly recoveryCheckpoint: CheckpointWriter;
  private readonly logStartCheckpoint: CheckpointWriter;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly pendingDeletes = new Map<NodeJS.Timeout, string[]>();
  /** `-delete` directories queued for removal; those before `removalsDone` are removed. */
  private readonly removals: string[] = [];
  private removalsDone = 0;
  /** The background removal, while it runs. */
  private removing: Promise<void> | null = null;
  private retentionRunning: Promise<void> | null = null;
  private readonly cleaner: LogCleanerManager;
  /** loadLogs has run (the logs are loaded, the timers and the cleaner started). */
  private loaded = false;
  private closed = false;

  private constructor(
    private readonly fs: StorageFs,
    private readonly logger: StorageLogger,
    opts: LogManagerOptions,
    meta: { clusterId: string; directoryId: string },
    private readonly lock: LogDirLock,
    intervals: TimerIntervals,
  ) {
    this.intervals = intervals;
    this.logDir = opts.logDir;
    this.nodeId = opts.nodeId;
    this.clusterId = meta.clusterId;
    this.directoryId = meta.directoryId;
    this.defaults = resolveLogConfig(opts.defaults);
    this.handles = new FileHandleCache(fs, opts.maxOpenFiles ?? 1000);
    this.cache = new BatchCache(opts.cacheBytes ?? 64 * 1024 * 1024);
    this.ctx = {
      fs,
      handles: this.handles,
      pool: new BufferPool(),
      cache: this.cache,
      logger,
      syncLimiter: new Limiter(opts.maxConcurrentSyncs ?? 2),
      clock: opts.clock ?? Date.now,
      findRecordByTimestamp: opts.findRecordByTimestamp,
      checkpointsChanged: () => this.writeCheckpoints(),
      scheduleDelete: (paths, delayMs) => this.scheduleDelete(paths, delayMs),
      counters: { fsyncs: 0 },
      observer: opts.observer,
    };
    this.recoveryCheckpoint = new CheckpointWriter(fs, `${this.logDir}/${RECOVERY_POINT_FILE}`, () =>
      formatOffsetCheckpoint([...this.logs.values()].map((l) => ({ topic: l.topic, partition: l.partition, offset: l.recoveryPoint }))),
    );
    this.logStartCheckpoint = new CheckpointWriter(fs, `${this.logDir}/${LOG_START_FILE}`, () =>
      formatOffsetCheckpoint([...this.logs.values()].map((l) => ({ topic: l.topic, partition: l.partition, offset: l.logStartOffset }))),
    );
    this.cleaner = new LogCleanerManager(
      { ctx: this.ctx, logDir: this.logDir, logs: () => this.logs.values(), ...(opts.firstUnstableOffset ? { firstUnstableOffset: opts.firstUnstableOffset } : {}) },
      opts.cleaner,
    );
  }

  /** Opens the log directory and loads its logs with `opts.topicConfig` (openDir, then loadLogs). */
  static async open(opts: LogManagerOptions): Promise<LogManager> {
    const manager = await LogManager.openDir(opts);
    await manager.loadLogs(opts.topicConfig);
    return manager;
  }

  /**
   * The first step of the start: locks the directory and reads (or writes) meta.properties, so the cluster id
   * is known. No log is loaded yet, nothing is written but meta.properties; loadLogs follows (close before it
   * only releases the lock).
   */
  static async openDir(opts: LogManagerOptions): Promise<LogManager> {
    const fs = opts.fs ?? nodeFs;
    const logger = opts.logger ?? noopLogger;
    if (typeof opts.logDir !== 'string' || opts.logDir === '') throw new RangeError('logDir must be a non-empty path');
    if (!Number.isInteger(opts.nodeId) || opts.nodeId < 0) throw new RangeError(`nodeId must be an integer >= 0, got ${opts.nodeId}`);
    const intervals = {
      retentionCheckMs: positiveInt('retentionCheckIntervalMs', opts.retentionCheckIntervalMs ?? 300_000),
      checkpointMs: positiveInt('checkpointIntervalMs', opts.checkpointIntervalMs ?? 60_000),
      flushCheckMs: positiveInt('flushCheckIntervalMs', opts.flushCheckIntervalMs ?? 1000),
    };
    let meta;
    let lock: LogDirLock | undefined;
    try {
      fs.mkdir(opts.logDir);
      lock = lockLogDir(fs, opts.logDir, logger);
      meta = await loadOrCreateMetaProperties(fs, opts.logDir, opts.nodeId);
    } catch (err) {
      lock?.release();
      if (err instanceof StorageError) throw err;
      throw storageError(`opening log directory ${opts.logDir}`, err);
    }
    return new LogManager(fs, logger, opts, meta, lock, intervals);
  }

  /**
   * The second step of the start (Kafka's LogManager.startup): loads every partition directory, each with
   * its topic's overrides of the defaults (`topicConfig`), then starts the retention, checkpoint and flush
   * timers and the cleaner. Once; a failure releases the directory (the manager is closed).
   */
  async loadLogs(topicConfig?: TopicLogConfigs): Promise<void> {
    if (this.closed) throw new StorageError(`log manager of ${this.logDir} is closed`);
    if (this.loaded) throw new StorageError(`the logs of ${this.logDir} are loaded already`);
    this.loaded = true;
    try {
      await this.loadDirectories(topicConfig);
    } catch (err) {
      this.closed = true;
      this.handles.closeAll();
      this.lock.release();
      throw storageError(`loading logs in ${this.logDir}`, err);
    }
    const { retentionCheckMs, checkpointMs, flushCheckMs } = this.intervals;
    const logger = this.logger;
    this.timers.push(
      setInterval(() => void this.checkRetention(), retentionCheckMs),
      setInterval(() => void this.writeCheckpoints().catch((err: unknown) => logger.error({ err: (err as Error).message }, 'writing checkpoints failed')), checkpointMs),
      setInterval(() => this.checkFlushMs(), flushCheckMs),
    );
    for (const t of this.timers) t.unref();
    this.cleaner.start();
  }

  private async loadDirectories(topicConfig: TopicLogConfigs | undefined): Promise<void> {
    const { fs, logger } = this;
    const marker = `${this.logDir}/${CLEAN_SHUTDOWN_FILE}`;
    const cleanShutdown = fs.stat(marker) !== null;
    const readCheckpoint = (file: string): Map<string, number> => {
      try {
        return readOffsetCheckpoint(fs, `${this.logDir}/${file}`);
      } catch (err) {
        logger.warn({ file, err: (err as Error).message }, 'unreadable checkpoint file, ignoring it');
        return new Map();
      }
    };
    const recoveryPoints = readCheckpoint(RECOVERY_POINT_FILE);
    const cleanerOffsets = readCheckpoint(CLEANER_CHECKPOINT_FILE);
    const logStarts = readCheckpoint(LOG_START_FILE);
    const currentText = (file: string): string | null => {
      const path = `${this.logDir}/${file}`;
      return fs.stat(path) === null ? null : fs.readFile(path).toString('utf8');
    };
    this.recoveryCheckpoint.assumeWritten(currentText(RECOVERY_POINT_FILE));
    this.cleaner.assumeWritten(currentText(CLEANER_CHECKPOINT_FILE));
    this.logStartCheckpoint.assumeWritten(currentText(LOG_START_FILE));
    // A clean shutdown is only trusted with its recovery points.
    const trustClean = cleanShutdown && fs.stat(`${this.logDir}/${RECOVERY_POINT_FILE}`) !== null;
    const started = this.ctx.clock();
    let recovered = 0;
    let cleanerCheckpointFixed = false;
    const strays: string[] = [];
    for (const name of fs.readdir(this.logDir).sort()) {
      const path = `${this.logDir}/${name}`;
      if (name.endsWith('.tmp')) {
        fs.unlink(path);
        continue;
      }
      const stat = fs.stat(path);
      if (!stat?.isDirectory) continue;
      if (name.endsWith('-delete')) {
        this.removeInBackground(path);
        continue;
      }
      if (name.endsWith('-stray')) {
        strays.push(name);
        continue;
      }
      const m = /^(.+)-(\d+)$/.exec(name);
      if (!m || !TOPIC_NAME.test(m[1] as string)) {
        logger.warn({ dir: path }, 'ignoring a directory that is not <topic>-<partition>');
        continue;
      }
      const topic = m[1] as string;
      const partition = Number(m[2]);
      const topicId = readPartitionMetadata(fs, `${path}/partition.metadata`) ?? '';
      const config = resolveLogConfig(this.defaults, topicConfig?.(topic));
      const log = await PartitionLog.load(this.ctx, path, topic, partition, topicId, config, {
        cleanShutdown: trustClean,
        recoveryPoint: recoveryPoints.get(name),
        logStartOffset: logStarts.get(name),
        compacted: cleanerOffsets.has(name),
      });
      let cleanedTo = cleanerOffsets.get(name);
      if (cleanedTo !== undefined && (cleanedTo < log.logStartOffset || cleanedTo > log.logEndOffset)) {
        // (as Kafka's LogCleanerManager) a cleaner checkpoint outside the log: cleaning restarts at the log start
        logger.warn(
          { topic, partition, cleanerCheckpoint: cleanedTo, logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset },
          'cleaner-offset-checkpoint outside the log: cleaning restarts at the log start',
        );
        cleanedTo = log.logStartOffset;
        cleanerCheckpointFixed = true;
      }
      if (cleanedTo !== undefined) this.cleaner.adopt(log, cleanedTo);
      if (!trustClean) recovered++;
      this.logs.set(name, log);
      this.found.push(log);
    }
    if (strays.length > 0) {
      logger.warn(
        { logDir: this.logDir, strays: strays.length, dirs: strays.slice(0, 20) },
        'stray partition directories are kept here, not served and never removed by the broker: move one back to <topic>-<partition> once gregor-metadata.json has that topic with the id in its partition.metadata, read it with a broker of its own, or remove it when it is not needed (README: Durability and limits)',
      );
    }
    if (cleanShutdown) {
      fs.unlink(marker);
      await fs.fsyncDir(this.logDir);
    }
    await this.writeCheckpoints();
    if (cleanerCheckpointFixed) await this.cleaner.writeCheckpoint();
    logger.info({ logDir: this.logDir, partitions: this.logs.size, cleanShutdown: trustClean, recovered, ms: this.ctx.clock() - started }, 'log directory loaded');
  }

  /** Partitions found on disk at open, recovered. */
  existingLogs(): PartitionLog[] {
    return this.found.filter((l) => this.logs.get(key(l.topic, l.partition)) === l);
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(key(topic, partition));
  }

  allLogs(): Iterable<PartitionLog> {
    return this.logs.values();
  }

  /**
   * Hands the buffers of PartitionLog.read results back for reuse, and releases the file regions of
   * readForSend results, once nothing reads or keeps them any more (a fetch response written to its socket,
   * or its connection closed). Cached batches among them are left alone.
   */
  releaseReadBuffers(chunks: Iterable<Buffer | FileRegion>): void {
    for (const c of chunks) {
      if (c instanceof FileRegion) c.release();
      else this.ctx.pool.release(c);
    }
  }

  /**
   * Creates `<topic>-<partition>` with partition.metadata and an empty first segment. Returns the existing
   * log when it already exists with the same topic id (or none); a different topic id is an error.
   */
  async createLog(topic: string, partition: number, topicId: string, config?: Partial<LogConfig>): Promise<PartitionLog> {
    this.checkOpen();
    if (!TOPIC_NAME.test(topic) || topic === '.' || topic === '..') throw new RangeError(`invalid topic name ${JSON.stringify(topic)}`);
    if (!Number.isInteger(partition) || partition < 0) throw new RangeError(`invalid partition ${partition}`);
    const existing = this.logs.get(key(topic, partition));
    if (existing) {
      if (existing.topicId !== '' && topicId !== '' && existing.topicId !== topicId) {
        throw new StorageError(`log ${key(topic, partition)} exists with topic id ${existing.topicId}, not ${topicId}`);
      }
      if (config) existing.updateConfig(config);
      return existing;
    }
    const merged = resolveLogConfig(this.defaults, config);
    const log = await PartitionLog.create(this.ctx, `${this.logDir}/${key(topic, partition)}`, topic, partition, topicId, merged);
    this.logs.set(key(topic, partition), log);
    try {
      await this.fs.fsyncDir(this.logDir);
    } catch (err) {
      throw storageError(`creating log ${key(topic, partition)}`, err);
    }
    return log;
  }

  /** Deletes one partition (deleteLogs). */
  deleteLog(topic: string, partition: number): Promise<void> {
    return this.deleteLogs([{ topic, partition }]);
  }

  /**
   * Deletes partitions (Kafka's asyncDelete of a batch): each directory is renamed to
   * `<topic>-<partition>.<uuid>-delete`, one fsync of the log dir makes the renames durable, the log-dir
   * checkpoints (and the cleaner's) are written once for the batch, and the directories are removed in the
   * background, one at a time. A crash after a rename leaves a `-delete` directory that the next start removes;
   * before it, a live one. Resolves once the renames are durable; throws StorageError after renaming what it
   * could when some directory could not be renamed. Partitions without a log are skipped.
   */
  async deleteLogs(partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>): Promise<void> {
    const { moved, failure } = await this.moveAside(partitions, 'delete');
    for (const dir of moved) this.removeInBackground(dir);
    if (failure) throw failure;
  }

  /**
   * Moves partitions aside as strays (Kafka's `-stray` logs, KAFKA-14616): each directory is renamed to
   * `<topic>-<partition>.<uuid>-stray` and kept, untouched, for the operator; the broker no longer serves it
   * and never removes it. Batched as deleteLogs. Resolves to the new paths.
   */
  async markStray(partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>): Promise<string[]> {
    const { moved, failure } = await this.moveAside(partitions, 'stray');
    if (failure) throw failure;
    return moved;
  }

  /**
   * Renames the partitions' directories to `<topic>-<partition>.<uuid>-<suffix>`, yielding to the event loop
   * every RENAMES_PER_TURN renames (a deletion of many thousand partitions must not stall requests), then
   * one fsync of the log dir and one write of each checkpoint. Resolves to the new paths, in the order of
   * `partitions` (those without a log skipped), and the StorageError of what failed.
   */
  private async moveAside(
    partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>,
    suffix: 'delete' | 'stray',
  ): Promise<{ moved: string[]; failure?: StorageError }> {
    this.checkOpen();
    const moved: string[] = [];
    const released: PartitionLog[] = [];
    const failures: string[] = [];
    let failure: unknown;
    for (const { topic, partition } of partitions) {
      const name = key(topic, partition);
      const log = this.logs.get(name);
      if (!log) continue;
      this.logs.delete(name);
      log.release();
      released.push(log);
      const to = `${this.logDir}/${name}.${randomUUID().replaceAll('-', '')}-${suffix}`;
      try {
        this.fs.rename(log.dir, to);
        moved.push(to);
      } catch (err) {
        failures.push(name);
        failure ??= err;
      }
      if (released.length % RENAMES_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    if (released.length === 0) return { moved };
    try {
      if (moved.length > 0) await this.fs.fsyncDir(this.logDir);
      await Promise.all([this.writeCheckpoints(), ...released.map((l) => this.cleaner.forget(l))]);
    } catch (err) {
      failure ??= err;
    }
    if (failure === undefined) return { moved };
    const verb = suffix === 'delete' ? 'deleting' : 'moving aside';
    const what = failures.length > 0 ? `${verb} ${failures.slice(0, 5).join(', ')}${failures.length > 5 ? ` and ${failures.length - 5} more` : ''}` : `${verb} ${released.length} logs`;
    return { moved, failure: storageError(what, failure) };
  }

  /**
   * Runs the log cleaner now: on `topic`-`partition` whatever its dirty ratio (min.compaction.lag.ms and the
   * active segment still hold), or without arguments on every compacted log with a dirty part. Resolves to
   * the number of logs cleaned, after any cleaning already in progress.
   */
  async cleanNow(topic?: string, partition?: number): Promise<number> {
    this.checkOpen();
    if (topic === undefined) return this.cleaner.cleanNow({ force: true });
    const log = this.logs.get(key(topic, partition ?? 0));
    return log ? this.cleaner.cleanNow({ log }) : 0;
  }

  /** One pass of the background cleaner now: the dirtiest compacted log over its ratio (or past max.compaction.lag.ms). */
  async runCleanerPass(): Promise<number> {
    this.checkOpen();
    return this.cleaner.cleanNow({ force: false });
  }

  /** The log cleaner's checkpoint of a log (below it the log has been cleaned), if it has one. */
  cleanerCheckpoint(topic: string, partition: number): number | undefined {
    const log = this.logs.get(key(topic, partition));
    return log ? this.cleaner.checkpointOf(log) : undefined;
  }

  stats(): LogManagerStats {
    let offline = 0;
    for (const l of this.logs.values()) if (l.offlineError) offline++;
    return {
      cacheHits: this.cache.hits,
      cacheMisses: this.cache.misses,
      cacheBytes: this.cache.bytes,
      cachedBatches: this.cache.batches,
      openFiles: this.handles.openFiles,
      fileOpens: this.handles.opens,
      fsyncs: this.ctx.counters.fsyncs,
      partitions: this.logs.size,
      offlinePartitions: offline,
      cleanerRuns: this.cleaner.stats.runs,
      cleanerBytesRead: this.cleaner.stats.bytesRead,
      cleanerBytesWritten: this.cleaner.stats.bytesWritten,
      cleanerBytesReclaimed: this.cleaner.stats.bytesReclaimed,
      cleanerRecordsRemoved: this.cleaner.stats.recordsRemoved,
      cleanerMaxDirtyRatio: this.cleaner.stats.maxDirtyRatio,
      cleanerUncleanablePartitions: this.cleaner.stats.uncleanablePartitions,
      cleanerLastCleaningMs: this.cleaner.stats.lastCleaningMs,
    };
  }

  /** Runs retention on every log now (the timer calls this every retentionCheckIntervalMs). */
  async checkRetention(): Promise<void> {
    if (this.closed) return;
    if (this.retentionRunning) return this.retentionRunning;
    const run = (async () => {
      for (const log of [...this.logs.values()]) {
        try {
          const deleted = await log.applyRetention();
          if (deleted > 0) this.logger.info({ topic: log.topic, partition: log.partition, segments: deleted, logStartOffset: log.logStartOffset }, 'retention deleted segments');
        } catch (err) {
          this.logger.error({ topic: log.topic, partition: log.partition, err: (err as Error).message }, 'retention failed');
        }
      }
    })();
    // Cleared only after assignment: with no logs the run finishes synchronously.
    this.retentionRunning = run;
    await run;
    if (this.retentionRunning === run) this.retentionRunning = null;
  }

  private checkFlushMs(): void {
    const now = this.ctx.clock();
    for (const log of this.logs.values()) log.maybeFlushByTime(now);
  }

  /** Writes recovery-point-offset-checkpoint and log-start-offset-checkpoint (atomically). */
  async writeCheckpoints(): Promise<void> {
    try {
      await Promise.all([this.recoveryCheckpoint.write(), this.logStartCheckpoint.write()]);
    } catch (err) {
      throw storageError('writing checkpoints', err);
    }
  }

  private scheduleDelete(paths: string[], delayMs: number): void {
    if (paths.length === 0) return;
    const timer = setTimeout(() => {
      this.pendingDeletes.delete(timer);
      this.unlinkAll(paths);
    }, delayMs);
    timer.unref();
    this.pendingDeletes.set(timer, paths);
  }

  private unlinkAll(paths: readonly string[]): void {
    for (const p of paths) {
      try {
        this.fs.unlink(p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn({ path: p, err: (err as Error).message }, 'removing a deleted segment file failed');
      }
    }
  }

  /**
   * Queues a `-delete` directory for removal. Removals run in the background one directory at a time (the
   * rate a single thread of the pool removes files at: a deletion of many partitions never takes the pool
   * from fsyncs and reads), in the order they were queued; close stops them after the current one, and the
   * next start removes what is left.
   */
  private removeInBackground(path: string): void {
    this.removals.push(path);
    this.removing ??= this.runRemovals();
  }

  private async runRemovals(): Promise<void> {
    while (!this.closed && this.removalsDone < this.removals.length) {
      const path = this.removals[this.removalsDone++] as string;
      try {
        await this.fs.rm(path);
      } catch (err) {
        this.logger.warn({ path, err: (err as Error).message }, 'removing a deleted log directory failed');
      }
      if (this.removalsDone === this.removals.length) {
        this.removals.length = 0;
        this.removalsDone = 0;
      }
    }
    this.removing = null;
  }

  /** Deleted partition directories not yet removed (renamed `-delete`, queued for the background removal). */
  get pendingRemovals(): number {
    return this.removals.length - this.removalsDone;
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError(`log manager of ${this.logDir} is closed`);
    if (!this.loaded) throw new StorageError(`the logs of ${this.logDir} are not loaded yet (loadLogs)`);
  }

  /** Flushes and closes every log, writes the checkpoints and then the clean-shutdown marker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.loaded) {
      // opened, never loaded: nothing to flush, and no checkpoint or marker may be written for logs not read
      this.handles.closeAll();
      this.lock.release();
      return;
    }
    for (const t of this.timers) clearInterval(t);
    await this.cleaner.stop();
    if (this.retentionRunning) await this.retentionRunning;
    const failures: unknown[] = [];
    for (const log of this.logs.values()) {
      try {
        await log.close();
      } catch (err) {
        failures.push(err);
      }
    }
    for (const [timer, paths] of this.pendingDeletes) {
      clearTimeout(timer);
      this.unlinkAll(paths);
    }
    this.pendingDeletes.clear();
    // the background removal stops after its current directory; the next start removes the rest
    await this.removing;
    try {
      await this.writeCheckpoints();
      if (failures.length === 0) {
        const marker = `${this.logDir}/${CLEAN_SHUTDOWN_FILE}`;
        const fd = this.fs.open(marker, 'w+');
        this.fs.close(fd);
        await this.fs.fsyncDir(this.logDir);
      }
    } catch (err) {
      failures.push(err);
    } finally {
      this.handles.closeAll();
      this.lock.release();
    }
    if (failures.length > 0) {
      this.logger.error({ logDir: this.logDir, failures: failures.map((f) => (f as Error).message) }, 'unclean close: recovery will run at the next start');
      throw storageError(`closing ${this.logDir}`, failures[0]);
    }
  }
}
