/**
 * LogCleanerManager: log compaction (Kafka's LogCleaner and LogCleanerManager) for every log whose
 * cleanup.policy includes 'compact'. One background loop per log directory, started by the LogManager; the
 * cleaning itself is the Cleaner's (cleaner.ts, steps 2 to 4):
 *
 * 1. Choose: for each compacted log, the dirty part runs from its cleaner checkpoint (the first offset not
 *    yet cleaned; the log start when it has none) to the first uncleanable offset (Kafka's
 *    firstUncleanableDirtyOffset): the active segment, the segment holding the first unstable offset (the
 *    LSO: the first offset of the earliest ongoing transaction, asked of the host's `firstUnstableOffset`
 *    when a log has something to clean), or the first segment with a record younger than min.compaction.lag.ms. The log whose dirty bytes are the
 *    largest share of it is cleaned once that share exceeds min.cleanable.dirty.ratio, or at once when a
 *    dirty segment began longer ago than max.compaction.lag.ms. Nothing to clean: wait log.cleaner.backoff.ms.
 * 2. Map, 3. Clean, 4. Swap: the Cleaner maps the dirty part, writes each group of segments into a
 *    `.cleaned` segment and swaps it in.
 * 5. Checkpoint: `cleaner-offset-checkpoint` (Kafka's format) records the end of the map. A log's entry is
 *    written before its first swap, so that recovery knows its offsets may have gaps.
 *
 * Cleanings run one at a time, in the order asked (the loop's passes and cleanNow). A cleaning is abandoned
 * (its files removed) when the log is closed, deleted, truncated or loses one of the segments being cleaned
 * meanwhile, or the manager stops; an unexpected failure (a corrupt batch) marks the log uncleanable until
 * restart, as Kafka does.
 */
import { CheckpointWriter, formatOffsetCheckpoint } from './checkpoint-file.js';
import { resolveCleanerOptions, type CleanerOptions } from './cleaner-config.js';
import { Cleaner, CleaningAborted, type CleanerContext, type CleanerStats, type CleaningPlan, type CleaningResult } from './cleaner.js';
import { isCompacted } from './config.js';
import type { PartitionLog } from './partition-log.js';
import type { LogSegment } from './segment.js';

export const CLEANER_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';

/**
 * A log's first unstable offset (Kafka's UnifiedLog.firstUnstableOffset, as the LSO: the first offset of its
 * earliest ongoing transaction, else the high watermark). The broker's producer state answers it.
 */
export type FirstUnstableOffset = (log: PartitionLog) => Promise<number>;

/** What the LogManager gives its cleaner. */
export interface CleanerHost {
  ctx: CleanerContext;
  logDir: string;
  logs(): Iterable<PartitionLog>;
  /** Without it no offset is unstable (every closed segment may be cleaned). */
  firstUnstableOffset?: FirstUnstableOffset;
}

export class LogCleanerManager {
  readonly stats: CleanerStats = {
    runs: 0,
    bytesRead: 0,
    bytesWritten: 0,
    bytesReclaimed: 0,
    recordsRemoved: 0,
    segmentsCleaned: 0,
    aborted: 0,
    failed: 0,
    uncleanablePartitions: 0,
    maxDirtyRatio: 0,
    lastCleaningMs: 0,
    throttledMs: 0,
    cleaning: false,
  };
  private readonly opts: CleanerOptions;
  private readonly cleaner: Cleaner;
  /**
   * Each log's first dirty offset, and the log's truncation count when it was recorded. Kept per log object:
   * a log deleted and created again under the same name starts without one.
   */
  private readonly checkpoints = new Map<PartitionLog, { offset: number; truncations: number }>();
  private readonly writer: CheckpointWriter;
  private readonly uncleanable = new WeakSet<PartitionLog>();
  private queue: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private stopping = false;

  constructor(
    private readonly host: CleanerHost,
    options: Partial<CleanerOptions> = {},
  ) {
    this.opts = resolveCleanerOptions(options);
    this.cleaner = new Cleaner(host.ctx, this.opts, this.stats);
    this.writer = new CheckpointWriter(host.ctx.fs, `${host.logDir}/${CLEANER_CHECKPOINT_FILE}`, () => formatOffsetCheckpoint(this.liveCheckpoints()));
  }

  get options(): Readonly<CleanerOptions> {
    return this.opts;
  }

  /** Takes the checkpoint of a log found at start. */
  adopt(log: PartitionLog, offset: number): void {
    this.checkpoints.set(log, { offset, truncations: log.truncationCount });
  }

  /** Declares what the checkpoint file holds now (read at start). */
  assumeWritten(content: string | null): void {
    this.writer.assumeWritten(content);
  }

  /** The cleaner checkpoint of a log: below it, the log has been cleaned. */
  checkpointOf(log: PartitionLog): number | undefined {
    return this.checkpoints.get(log)?.offset;
  }

  /** Starts the background loop (when log.cleaner.enable). */
  start(): void {
    if (!this.opts.enable || this.loop !== null || this.stopping) return;
    this.loop = (async () => {
      while (!this.stopping) {
        let cleaned = 0;
        try {
          cleaned = await this.cleanNow({ force: false });
        } catch (err) {
          this.host.ctx.logger.error({ err: (err as Error).message }, 'log cleaner pass failed');
        }
        if (cleaned === 0 && !this.stopping) await this.pause(this.opts.backoffMs);
      }
    })();
  }

  /** Stops the loop; a cleaning in progress is abandoned at its next step. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.cleaner.stop();
    this.wake?.();
    await this.loop;
    await this.queue.catch(() => undefined);
  }

  /** Forgets a deleted log's checkpoint. */
  async forget(log: PartitionLog): Promise<void> {
    if (this.checkpoints.delete(log)) await this.writeCheckpoint();
  }

  /**
   * One pass: with `log`, cleans that log (if compacted and it has a closed dirty part); otherwise the
   * dirtiest compacted log over its min.cleanable.dirty.ratio (or past max.compaction.lag.ms), or with
   * `force` every compacted log with a dirty part. Returns the number of logs cleaned.
   */
  cleanNow(opts: { force?: boolean; log?: PartitionLog } = {}): Promise<number> {
    const run = this.queue.then(() => this.pass(opts.force === true, opts.log));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async pass(force: boolean, only: PartitionLog | undefined): Promise<number> {
    if (this.stopping) return 0;
    const now = this.host.ctx.clock();
    const plans: CleaningPlan[] = [];
    let maxRatio = 0;
    for (const log of only ? [only] : [...this.host.logs()]) {
      if (!log.usable || !isCompacted(log.currentConfig) || this.uncleanable.has(log)) continue;
      let plan = this.planFor(log, now, only !== undefined);
      if (plan === null) continue;
      // (asked only of a log with something to clean: the answer may load its producer state)
      const unstable = this.host.firstUnstableOffset;
      if (unstable !== undefined) {
        let firstUnstable: number;
        try {
          firstUnstable = await unstable(log);
        } catch (err) {
          // (that log waits for a later pass; the others are cleaned)
          this.host.ctx.logger.warn({ topic: log.topic, partition: log.partition, err: (err as Error).message }, 'no last stable offset for the log cleaner');
          continue;
        }
        if (!log.usable) continue;
        plan = this.planFor(log, now, only !== undefined, firstUnstable);
        if (plan === null) continue;
        plan.stable = true;
      }
      maxRatio = Math.max(maxRatio, plan.ratio);
      if (force || only !== undefined || plan.needNow || plan.ratio > log.currentConfig.minCleanableDirtyRatio) plans.push(plan);
    }
    if (only === undefined) this.stats.maxDirtyRatio = maxRatio;
    plans.sort((a, b) => b.ratio - a.ratio);
    const chosen = force || only !== undefined ? plans : plans.slice(0, 1);
    let cleaned = 0;
    for (const plan of chosen) {
      if (this.stopping) break;
      if (await this.cleanLog(plan)) cleaned++;
    }
    return cleaned;
  }

  /**
   * The dirty part of `log` (null when it has none that may be cleaned now; with `whole`, when it has no
   * closed segment at all: a log cleaned on request is cleaned again, which removes expired tombstones).
   */
  planFor(log: PartitionLog, now: number, whole = false, firstUnstable = Number.POSITIVE_INFINITY): CleaningPlan | null {
    const config = log.currentConfig;
    const segs = log.segmentList;
    const active = segs[segs.length - 1] as LogSegment;
    const checkpoint = this.checkpoints.get(log);
    let firstDirty = checkpoint?.offset ?? log.logStartOffset;
    // (as Kafka) a checkpoint outside the log is reset to the log start; so is one of a log truncated since:
    // records appended again below it were never mapped
    if (firstDirty < log.logStartOffset || firstDirty > log.logEndOffset || (checkpoint !== undefined && checkpoint.truncations !== log.truncationCount)) {
      firstDirty = log.logStartOffset;
    }
    let firstUncleanable = active.baseOffset;
    // the segment holding the first unstable offset and those after it: an ongoing transaction's records
    // must neither be removed nor remove others (its outcome is not known yet)
    for (const seg of segs) {
      if (seg === active || seg.baseOffset >= firstUncleanable) break;
      if (seg.nextOffset > firstUnstable) {
        firstUncleanable = seg.baseOffset;
        break;
      }
    }
    if (config.minCompactionLagMs > 0) {
      for (const seg of segs) {
        if (seg === active || seg.nextOffset <= firstDirty) continue;
        if (seg.largestTimestamp(this.host.ctx.clock) > now - config.minCompactionLagMs) {
          firstUncleanable = Math.min(firstUncleanable, seg.baseOffset);
          break;
        }
      }
    }
    firstUncleanable = Math.max(firstUncleanable, firstDirty);
    let cleanBytes = 0;
    let dirtyBytes = 0;
    let needNow = false;
    for (const seg of segs) {
      if (seg === active) break;
      if (seg.nextOffset <= firstDirty) {
        cleanBytes += seg.size;
      } else if (seg.baseOffset < firstUncleanable) {
        dirtyBytes += seg.size;
        if (!needNow && config.maxCompactionLagMs < Number.MAX_SAFE_INTEGER && seg.size > 0) {
          const first = seg.headerAt(0);
          if (first !== null && first.maxTimestamp > 0 && first.maxTimestamp < now - config.maxCompactionLagMs) needNow = true;
        }
      }
    }
    if (dirtyBytes === 0 && !(whole && cleanBytes > 0)) return null;
    return { log, firstDirty, firstUncleanable, cleanBytes, dirtyBytes, ratio: dirtyBytes / (cleanBytes + dirtyBytes), needNow };
  }

  private async cleanLog(plan: CleaningPlan): Promise<boolean> {
    const { log } = plan;
    const logger = this.host.ctx.logger;
    const started = performance.now();
    this.stats.cleaning = true;
    try {
      const result = await this.runCleaner(plan);
      this.stats.runs++;
      this.stats.lastCleaningMs = performance.now() - started;
      logger.info(
        {
          topic: log.topic,
          partition: log.partition,
          dirty: [plan.firstDirty, result.endOffset],
          bytesRead: result.bytesRead,
          bytesBefore: result.bytesBefore,
          bytesAfter: result.bytesAfter,
          recordsRead: result.recordsRead,
          recordsKept: result.recordsKept,
          ms: Math.round(this.stats.lastCleaningMs),
        },
        'log cleaner cleaned a log',
      );
      return true;
    } catch (err) {
      if (err instanceof CleaningAborted || !log.usable) {
        this.stats.aborted++;
        logger.info({ topic: log.topic, partition: log.partition, reason: (err as Error).message }, 'log cleaning abandoned');
        return false;
      }
      this.stats.failed++;
      this.uncleanable.add(log);
      this.stats.uncleanablePartitions++;
      logger.warn({ topic: log.topic, partition: log.partition, err: (err as Error).message }, 'log cleaning failed: the log is not cleaned again until restart');
      return false;
    } finally {
      this.stats.cleaning = false;
      this.stats.throttledMs = this.cleaner.throttledMs;
    }
  }

  /**
   * Runs the Cleaner on `plan` and moves the log's cleaner checkpoint to the end of its map. Recovery must
   * know that the log's offsets may have gaps (its checkpoint entry) before the first swap: the entry is
   * written then.
   */
  private async runCleaner(plan: CleaningPlan): Promise<CleaningResult> {
    const { log } = plan;
    const truncations = log.truncationCount;
    const entry = this.checkpoints.get(log) ?? { offset: plan.firstDirty, truncations };
    const beforeSwap = async (): Promise<void> => {
      if (this.checkpoints.has(log)) return;
      if (!log.usable) throw new CleaningAborted('the log was closed');
      this.checkpoints.set(log, entry);
      await this.writeCheckpoint();
    };
    const result = await this.cleaner.clean(plan, truncations, beforeSwap);
    if (!this.checkpoints.has(log) && log.usable) this.checkpoints.set(log, entry);
    if (this.checkpoints.get(log) === entry) {
      entry.offset = entry.truncations === truncations ? Math.max(entry.offset, result.endOffset) : result.endOffset;
      entry.truncations = truncations;
      await this.writeCheckpoint();
    }
    return result;
  }


  private liveCheckpoints(): { topic: string; partition: number; offset: number }[] {
    const out: { topic: string; partition: number; offset: number }[] = [];
    for (const log of this.host.logs()) {
      const e = this.checkpoints.get(log);
      if (e) out.push({ topic: log.topic, partition: log.partition, offset: e.offset });
    }
    return out;
  }

  /** Writes cleaner-offset-checkpoint with every live log's entry (when it differs from the file). */
  async writeCheckpoint(): Promise<void> {
    await this.writer.write();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
