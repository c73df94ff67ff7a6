/**
 * LogFlusher: the durability of one partition log, and its recovery point (everything below it is
 * fdatasync'ed; recovery rescans from the segment holding it).
 *
 * Group commit: an append that asks for sync (acks=all with gregor.flush.acks.all) waits for an fdatasync
 * round covering it. One round runs at a time; appends arriving meanwhile wait for the next, which covers
 * them all, so concurrent sync appends share fsyncs. A round fdatasyncs the active segment's .log, every
 * segment not yet wholly below the recovery point (with the indexes of segments sealed since), then the
 * directory when files came or went; then the recovery point moves to the log end the round saw, unless a
 * truncation happened meanwhile. A failed fdatasync takes the log offline: after it, the state of the page
 * cache is unknown (Linux may drop the dirty pages).
 *
 * flush.messages and flush.ms (and every roll, as Kafka) start rounds in the background. fdatasync calls of
 * all partitions share the LogManager's limiter, so they never fill the libuv thread pool.
 */
import type { FileHandleCache } from './file-handles.js';
import type { StorageFs } from './fs.js';
import type { Limiter } from './limiter.js';
import type { LocalLog } from './local-log.js';
import type { StorageLogger } from './logger.js';
import type { StorageObserver } from './observer.js';

/** What a LogFlusher works with (the LogManager's context). */
export interface FlusherContext {
  fs: StorageFs;
  handles: FileHandleCache;
  logger: StorageLogger;
  syncLimiter: Limiter;
  clock: () => number;
  counters: { fsyncs: number };
  /** Times fsyncs, when set. */
  observer?: StorageObserver | undefined;
}

export class LogFlusher {
  private recoveryPointValue: number;
  private syncing: Promise<void> | null = null;
  private appendedRecords = 0;
  private flushedRecords = 0;
  private lastFlushMs: number;

  constructor(
    private readonly ctx: FlusherContext,
    private readonly local: LocalLog,
    recoveryPoint: number,
  ) {
    this.recoveryPointValue = recoveryPoint;
    this.lastFlushMs = ctx.clock();
  }

  /**
   * Everything below this offset is fdatasync'ed, and so are the indexes of every segment before the one
   * holding it (recovery rescans from that segment on).
   */
  get recoveryPoint(): number {
    let rp = this.recoveryPointValue;
    for (const s of this.local.segments) if (s.needsIndexSync && s.baseOffset < rp) rp = s.baseOffset;
    return rp;
  }

  /** Records appended but not yet fdatasync'ed. */
  get unflushedMessages(): number {
    return this.appendedRecords - this.flushedRecords;
  }

  /** Counts appended records (flush.messages compares unflushedMessages with it). */
  appended(records: number): void {
    this.appendedRecords += records;
  }

  /** The log was truncated to `logEndOffset`: the recovery point is at most there. */
  truncated(logEndOffset: number): void {
    this.recoveryPointValue = Math.min(this.recoveryPointValue, logEndOffset);
  }

  /** flush.ms: flushes when the oldest unflushed append is older than flush.ms. */
  maybeFlushByTime(now: number): void {
    if (!this.local.usable || this.unflushedMessages === 0) return;
    if (now - this.lastFlushMs >= this.local.config.flushMs) this.flushInBackground();
  }

  flushInBackground(): void {
    this.syncTo(this.local.logEndOffset).catch((err: unknown) => {
      this.ctx.logger.error({ topic: this.local.topic, partition: this.local.partition, err: (err as Error).message }, 'background flush failed');
    });
  }

  /** Resolves once every offset below `offset` is fdatasync'ed; concurrent callers share fsync rounds. */
  async syncTo(offset: number): Promise<void> {
    while (this.recoveryPointValue < offset && offset <= this.local.logEndOffset) {
      if (this.local.offline) throw this.local.offline;
      if (this.syncing) {
        await this.syncing.catch(() => undefined);
        continue;
      }
      this.syncing = this.syncRound().finally(() => {
        this.syncing = null;
      });
      await this.syncing;
    }
    if (this.local.offline) throw this.local.offline;
  }

  /**
   * At close: fdatasync of everything, then the active segment's indexes trimmed and made durable (the
   * indexes are trusted after a clean shutdown).
   */
  async flushForClose(): Promise<void> {
    await this.syncTo(this.local.logEndOffset);
    const active = this.local.active;
    if (!active.sealed) {
      active.seal();
      await this.ctx.syncLimiter.run(() => this.fdatasyncFiles(active.paths));
    }
  }

  /** One group-commit round: fdatasync of every segment not yet covered by the recovery point. */
  private async syncRound(): Promise<void> {
    const local = this.local;
    const target = local.logEndOffset;
    const records = this.appendedRecords;
    const generation = local.truncations;
    const active = local.active;
    const segs = local.segments.filter((s) => s === active || s.needsIndexSync || s.nextOffset > this.recoveryPointValue);
    const syncDir = local.dirDirty;
    local.dirDirty = false;
    try {
      await this.ctx.syncLimiter.run(async () => {
        for (const seg of segs) {
          await this.fdatasyncFiles(seg === active ? seg.dataPaths : seg.paths, () => local.segments.includes(seg));
          if (seg !== active) seg.needsIndexSync = false;
        }
        if (syncDir) await this.ctx.fs.fsyncDir(local.dir);
      });
    } catch (err) {
      if (syncDir) local.dirDirty = true;
      throw local.goOffline('fdatasync failed', err);
    }
    this.lastFlushMs = this.ctx.clock();
    if (generation === local.truncations) {
      this.recoveryPointValue = Math.max(this.recoveryPointValue, target);
      this.flushedRecords = Math.max(this.flushedRecords, records);
    }
  }

  /** fdatasync of each file, skipped once `live()` turns false (the segment was deleted meanwhile). */
  private async fdatasyncFiles(paths: readonly string[], live: () => boolean = () => true): Promise<void> {
    const { fs, handles } = this.ctx;
    for (const path of paths) {
      if (!live()) return;
      const handle = handles.pin(path);
      try {
        this.ctx.counters.fsyncs++;
        const started = this.ctx.observer ? performance.now() : 0;
        await fs.fdatasync(handle.fd);
        this.ctx.observer?.fsync((performance.now() - started) / 1000);
      } finally {
        handles.unpin(handle);
      }
    }
  }
}
