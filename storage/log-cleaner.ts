/**
 * LogCleaner: log compaction (Kafka's LogCleaner, LogCleanerManager and Cleaner) for every log whose
 * cleanup.policy includes 'compact'. One background loop per log directory, started by the LogManager:
 *
 * 1. Choose: for each compacted log, the dirty part runs from its cleaner checkpoint (the first offset not
 *    yet cleaned; the log start when it has none) to the first uncleanable offset: the active segment, or the
 *    first segment with a record younger than min.compaction.lag.ms. The log whose dirty bytes are the
 *    largest share of it is cleaned once that share exceeds min.cleanable.dirty.ratio, or at once when a
 *    dirty segment began longer ago than max.compaction.lag.ms. Nothing to clean: wait log.cleaner.backoff.ms.
 * 2. Map: read the dirty part, putting each record's key → offset into the OffsetMap (offset-map.ts,
 *    at most log.cleaner.dedupe.buffer.size bytes; when it fills, this round cleans up to where it stopped).
 * 3. Clean: every closed segment up to the end of the map, in groups of consecutive segments that fit in one
 *    segment (segment.bytes, segment.index.bytes, 2^31 relative offsets), each group into one new segment
 *    `<base>.*.cleaned` keeping a record when it is the latest of its key (or past the map's end), and a
 *    tombstone (null value) only until its batch's delete horizon. A batch is copied as it is when it keeps
 *    every record; otherwise the kept records' bytes are copied into a batch with the same header (base
 *    offset and timestamp, last offset delta, producer id, epoch and base sequence, attributes, partition
 *    leader epoch, codec), so records keep their offsets and timestamps. A kept batch holding tombstones
 *    without a horizon is rebuilt with one (Kafka 3.x: the delete-horizon attribute, baseTimestamp = now +
 *    delete.retention.ms, record timestamps kept); tombstones go in a cleaning after it. A batch that
 *    loses every record is dropped, except the last batch of a producer active within producer.id.expiration.ms
 *    and the last batch of a group, kept empty (header only) so the producer's sequence and epoch and the
 *    segment's end offset survive. Control batches are kept. Records without a key are dropped (as Kafka).
 *    Transactional records do not enter the map (there is no transaction index yet to tell aborted ones):
 *    a later non-transactional record of their key removes them, they never remove one.
 * 4. Swap: the new segment replaces the group (segment-swap.ts, PartitionLog.replaceWithCleaned): crash-safe,
 *    and atomic for readers. Then `cleaner-offset-checkpoint` (Kafka's format) records the end of the map.
 *
 * The cleaner never blocks produce or fetch: segment reads are asynchronous (the thread pool), work is cut
 * into slices of a few milliseconds with a turn of the event loop between them, reads and writes are
 * throttled to log.cleaner.io.max.bytes.per.second, and the only synchronous section of a swap is a few
 * renames. A cleaning is abandoned (and its files removed) when the log is closed, deleted, truncated or
 * loses one of the segments being cleaned meanwhile; an unexpected failure (a corrupt batch) marks the log
 * uncleanable until restart, as Kafka does.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  ATTR_CONTROL,
  ATTR_DELETE_HORIZON,
  ATTR_LOG_APPEND_TIME,
  ATTR_TRANSACTIONAL,
  CRC_OFFSET,
  Compression,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  computeBatchCrc,
  compressionOf,
  readBatchHeader,
  verifyBatchCrc,
  writeInt64,
  type BatchHeader,
} from '../protocol/records/batch-header.js';
import { buildRecordBatch } from '../protocol/records/batch-builder.js';
import { forEachRecordSpan, iterateRecords, recordsArea, type BatchRecord } from '../protocol/records/batch-records.js';
import { compress, DEFAULT_MAX_DECOMPRESSED_BYTES } from '../protocol/records/compression.js';
import { CheckpointWriter, formatOffsetCheckpoint } from './checkpoint-file.js';
import { isCompacted, type LogConfig } from './config.js';
import { StorageError } from './errors.js';
import type { Limiter } from './limiter.js';
import { OffsetMap } from './offset-map.js';
import type { StorageLogger } from './logger.js';
import type { PartitionLog } from './partition-log.js';
import { LogSegment, segmentFileName, type BatchInfo, type SegmentContext } from './segment.js';
import { CLEANED_SUFFIX, removeSegmentFileSet } from './segment-swap.js';
import { Throttler } from './throttler.js';

export const CLEANER_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';

/** The broker's log.cleaner.* settings (and producer.id.expiration.ms). */
export interface CleanerOptions {
  /** log.cleaner.enable: run the background cleaner. */
  enable: boolean;
  /** log.cleaner.backoff.ms: pause when no log needs cleaning. */
  backoffMs: number;
  /** log.cleaner.dedupe.buffer.size: most memory of the key → offset map. */
  dedupeBufferSize: number;
  /** log.cleaner.io.buffer.load.factor: share of the map's slots that may be used. */
  dedupeBufferLoadFactor: number;
  /** log.cleaner.io.buffer.size: bytes per read and write (grown for a larger batch). */
  ioBufferSize: number;
  /** log.cleaner.io.max.bytes.per.second: read plus write rate limit (Infinity: none). */
  ioMaxBytesPerSecond: number;
  /** producer.id.expiration.ms: the last batch of a producer seen within this time is kept. */
  producerIdExpirationMs: number;
  /** Largest decompressed records area of one batch (gregor.max.decompressed.bytes). */
  maxDecompressedBytes: number;
}

export const DEFAULT_CLEANER_OPTIONS: Readonly<CleanerOptions> = Object.freeze({
  enable: true,
  backoffMs: 15_000,
  dedupeBufferSize: 128 * 1024 * 1024,
  dedupeBufferLoadFactor: 0.9,
  ioBufferSize: 512 * 1024,
  ioMaxBytesPerSecond: Number.POSITIVE_INFINITY,
  producerIdExpirationMs: 24 * 60 * 60 * 1000,
  maxDecompressedBytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
});

/** Merges options onto the defaults and rejects values that cannot work. */
export function resolveCleanerOptions(overrides: Partial<CleanerOptions> = {}): CleanerOptions {
  const o: CleanerOptions = { ...DEFAULT_CLEANER_OPTIONS };
  for (const [key, value] of Object.entries(overrides) as [keyof CleanerOptions, unknown][]) {
    if (value !== undefined) (o as unknown as Record<string, unknown>)[key] = value;
  }
  const atLeast = (key: keyof CleanerOptions, min: number): void => {
    const v = o[key];
    if (typeof v !== 'number' || Number.isNaN(v) || v < min) throw new RangeError(`cleaner option ${key} must be a number >= ${min}, got ${String(v)}`);
  };
  if (typeof o.enable !== 'boolean') throw new RangeError('cleaner option enable must be a boolean');
  atLeast('backoffMs', 1);
  atLeast('dedupeBufferSize', 1024);
  atLeast('ioBufferSize', RECORD_BATCH_OVERHEAD);
  atLeast('producerIdExpirationMs', 1);
  atLeast('maxDecompressedBytes', 1);
  if (!(o.dedupeBufferLoadFactor > 0 && o.dedupeBufferLoadFactor <= 1)) throw new RangeError(`cleaner option dedupeBufferLoadFactor must be in (0, 1], got ${o.dedupeBufferLoadFactor}`);
  if (!(o.ioMaxBytesPerSecond > 0)) throw new RangeError(`cleaner option ioMaxBytesPerSecond must be > 0, got ${o.ioMaxBytesPerSecond}`);
  return o;
}

export interface CleanerStats {
  /** Cleanings completed. */
  runs: number;
  /** Bytes read (building maps and cleaning) and written. */
  bytesRead: number;
  bytesWritten: number;
  /** Bytes of segments swapped out minus bytes of their replacements. */
  bytesReclaimed: number;
  /** Records read while cleaning minus records kept. */
  recordsRemoved: number;
  segmentsCleaned: number;
  /** Cleanings abandoned (log closed, truncated or changed meanwhile) and failed. */
  aborted: number;
  failed: number;
  /** Logs that failed and are not cleaned again until restart. */
  uncleanablePartitions: number;
  /** Largest dirty ratio of a compacted log at the last look. */
  maxDirtyRatio: number;
  /** Milliseconds the last cleaning took, and waited for the I/O limit in total. */
  lastCleaningMs: number;
  throttledMs: number;
  /** Whether a cleaning is in progress. */
  cleaning: boolean;
}

/** What the LogManager gives its cleaner. */
export interface CleanerHost {
  ctx: SegmentContext & { logger: StorageLogger; clock: () => number; syncLimiter: Limiter };
  logDir: string;
  logs(): Iterable<PartitionLog>;
}

/** The dirty part of a log and how dirty it is. */
export interface CleaningPlan {
  log: PartitionLog;
  firstDirty: number;
  firstUncleanable: number;
  cleanBytes: number;
  dirtyBytes: number;
  ratio: number;
  /** A dirty record is older than max.compaction.lag.ms. */
  needNow: boolean;
}

/** Thrown inside a cleaning that must stop without harm: shutdown, or the log changed under it. */
class CleaningAborted extends Error {
  override readonly name = 'CleaningAborted';
}

/** The last batch of each producer seen, to keep it even when all its records go. */
class ProducerLastBatches {
  private readonly last = new Map<number, { lastOffset: number; timestamp: number }>();
  /** More producers than tracked: untracked producers' batches are all kept. */
  private overflow = false;

  constructor(
    private readonly max: number,
    private readonly activeSince: number,
  ) {}

  note(h: BatchHeader): void {
    if (h.producerId < 0) return;
    const lastOffset = h.baseOffset + h.lastOffsetDelta;
    const e = this.last.get(h.producerId);
    if (e === undefined) {
      if (this.last.size >= this.max) this.overflow = true;
      else this.last.set(h.producerId, { lastOffset, timestamp: h.maxTimestamp });
    } else if (lastOffset > e.lastOffset) {
      e.lastOffset = lastOffset;
      e.timestamp = h.maxTimestamp;
    }
  }

  /** The batch is the last of a producer active within the expiration time. */
  isLastOfActive(h: BatchHeader): boolean {
    if (h.producerId < 0) return false;
    const e = this.last.get(h.producerId);
    if (e === undefined) return this.overflow;
    return e.lastOffset === h.baseOffset + h.lastOffsetDelta && e.timestamp >= this.activeSince;
  }
}

interface ReadBatch {
  /** The whole batch (a view into the read buffer, valid until the next one is requested). */
  buf: Buffer;
  position: number;
  header: BatchHeader;
  /** The segment's last batch (at the size seen when the cleaning began). */
  last: boolean;
}

const SLICE_MS = 4;

export class LogCleaner {
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
  /**
   * Each log's first dirty offset, and the log's truncation count when it was recorded. Kept per log object:
   * a log deleted and created again under the same name starts without one.
   */
  private readonly checkpoints = new Map<PartitionLog, { offset: number; truncations: number }>();
  private readonly writer: CheckpointWriter;
  private readonly throttler: Throttler;
  private readonly uncleanable = new WeakSet<PartitionLog>();
  private queue: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private stopping = false;
  private sliceStart = 0;

  constructor(
    private readonly host: CleanerHost,
    options: Partial<CleanerOptions> = {},
  ) {
    this.opts = resolveCleanerOptions(options);
    this.throttler = new Throttler(this.opts.ioMaxBytesPerSecond);
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
      const plan = this.planFor(log, now, only !== undefined);
      if (plan === null) continue;
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
  planFor(log: PartitionLog, now: number, whole = false): CleaningPlan | null {
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
    if (config.minCompactionLagMs > 0) {
      for (const seg of segs) {
        if (seg === active || seg.nextOffset <= firstDirty) continue;
        if (this.largestTimestamp(seg) > now - config.minCompactionLagMs) {
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

  private largestTimestamp(seg: LogSegment): number {
    return seg.maxTimestamp >= 0 ? seg.maxTimestamp : (this.host.ctx.fs.stat(seg.logPath)?.mtimeMs ?? this.host.ctx.clock());
  }

  private async cleanLog(plan: CleaningPlan): Promise<boolean> {
    const { log } = plan;
    const logger = this.host.ctx.logger;
    const started = performance.now();
    this.stats.cleaning = true;
    try {
      const result = await this.clean(plan);
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
      this.stats.throttledMs = this.throttler.throttledMs;
    }
  }

  /** Throws CleaningAborted when the cleaning must stop; gives the event loop a turn every few milliseconds. */
  private async step(log: PartitionLog): Promise<void> {
    if (this.stopping) throw new CleaningAborted('the log manager is closing');
    if (!log.usable) throw new CleaningAborted('the log was closed');
    if (performance.now() - this.sliceStart >= SLICE_MS) {
      await nextTurn();
      this.sliceStart = performance.now();
      if (this.stopping) throw new CleaningAborted('the log manager is closing');
      if (!log.usable) throw new CleaningAborted('the log was closed');
    }
  }

  /**
   * The batches of `seg` in byte range [from, to), read asynchronously into a reused buffer of
   * log.cleaner.io.buffer.size (grown to fit a larger batch); with `checkCrc` (the pass whose output is
   * written), the CRC of each is checked.
   */
  private async *readBatches(log: PartitionLog, seg: LogSegment, from: number, to: number, checkCrc = false): AsyncGenerator<ReadBatch, void, undefined> {
    const { fs } = this.host.ctx;
    let fd: number;
    try {
      fd = fs.open(seg.logPath, 'r');
    } catch (err) {
      // retention or a truncation removed the segment since the cleaning began
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CleaningAborted(`segment ${seg.logPath} is gone`);
      throw err;
    }
    try {
      let buf = Buffer.allocUnsafe(Math.min(this.opts.ioBufferSize, Math.max(to - from, RECORD_BATCH_OVERHEAD)));
      // buf[0, held) holds the bytes from `pos` on already read (the start of a batch the last read cut)
      let held = 0;
      let pos = from;
      while (pos < to) {
        await this.step(log);
        const want = Math.min(buf.length - held, to - pos - held);
        const got = await fs.readAsync(fd, buf, held, want, pos + held);
        // awaiting the read let the event loop run: a new slice starts
        this.sliceStart = performance.now();
        if (got < want) throw new StorageError(`short read at position ${pos + held} of ${seg.logPath}: ${got} of ${want} bytes`);
        this.stats.bytesRead += got;
        await this.throttler.maybeThrottle(got);
        const n = held + got;
        let at = 0;
        while (at + LOG_OVERHEAD <= n) {
          const size = LOG_OVERHEAD + buf.readInt32BE(at + 8);
          if (size < RECORD_BATCH_OVERHEAD || pos + at + size > to) throw new StorageError(`corrupt batch at position ${pos + at} of ${seg.logPath}: size ${size}`);
          if (at + size > n) break;
          if (checkCrc && !verifyBatchCrc(buf, at)) throw new StorageError(`CRC mismatch in the batch at position ${pos + at} of ${seg.logPath}`);
          const batch = buf.subarray(at, at + size);
          yield { buf: batch, position: pos + at, header: readBatchHeader(batch, 0), last: pos + at + size === to };
          at += size;
        }
        if (at === 0 && want === 0) throw new StorageError(`${n} stray bytes at position ${pos} of ${seg.logPath}`);
        if (at === 0 && n >= LOG_OVERHEAD && LOG_OVERHEAD + buf.readInt32BE(8) > buf.length) {
          // one batch larger than the buffer (a torn tail cannot be: batches were checked against `to`)
          const bigger = Buffer.allocUnsafe(LOG_OVERHEAD + buf.readInt32BE(8));
          buf.copy(bigger, 0, 0, n);
          buf = bigger;
        } else {
          buf.copy(buf, 0, at, n);
        }
        held = n - at;
        pos += at;
      }
    } finally {
      fs.close(fd);
    }
  }

  private async clean(plan: CleaningPlan): Promise<{ endOffset: number; bytesRead: number; bytesBefore: number; bytesAfter: number; recordsRead: number; recordsKept: number }> {
    const { log } = plan;
    const config = log.currentConfig;
    const now = this.host.ctx.clock();
    const truncations = log.truncationCount;
    const segs = log.segmentList;
    const active = segs[segs.length - 1] as LogSegment;
    const readBefore = this.stats.bytesRead;
    this.sliceStart = performance.now();
    const map = new OffsetMap(this.opts.dedupeBufferSize, this.opts.dedupeBufferLoadFactor);
    const producers = new ProducerLastBatches(map.maxEntries, now - this.opts.producerIdExpirationMs);

    // 2. The offset map of the dirty part.
    let mapStart: { index: number; position: number } | null = null;
    let mapStop: { index: number; position: number } = { index: segs.length - 1, position: 0 };
    let full = false;
    for (let i = 0; i < segs.length - 1 && !full; i++) {
      const seg = segs[i] as LogSegment;
      if (seg.nextOffset <= plan.firstDirty) continue;
      if (seg.baseOffset >= plan.firstUncleanable) {
        mapStop = { index: i, position: 0 };
        break;
      }
      const from: number = mapStart === null ? seg.offsetIndex.lookup(plan.firstDirty).position : 0;
      mapStart ??= { index: i, position: from };
      for await (const b of this.readBatches(log, seg, from, seg.size)) {
        const h = b.header;
        producers.note(h);
        const lastOffset = h.baseOffset + h.lastOffsetDelta;
        if (lastOffset < plan.firstDirty) continue;
        // Transactional records never go into the map: until the cleaner follows transactions (Kafka's aborted
        // transaction index), an aborted record must not pass for the latest value of its key.
        if ((h.attributes & (ATTR_CONTROL | ATTR_TRANSACTIONAL)) === 0) {
          await map.reserve(h.recordCount, () => this.step(log));
          const area = await recordsArea(b.buf, h, this.opts.maxDecompressedBytes);
          forEachRecordSpan(h, area, (r) => {
            const offset = h.baseOffset + r.offsetDelta;
            if (full || r.keyLength < 0 || offset < plan.firstDirty) return;
            if (!map.put(area, r.keyStart, r.keyLength, offset)) full = true;
          });
          await this.step(log);
        }
        if (full) {
          mapStop = { index: i, position: b.position };
          break;
        }
        map.latestOffset = Math.max(map.latestOffset, lastOffset);
      }
      // offsets missing at the end of the segment (cleaned away before) are covered too
      if (!full) map.latestOffset = Math.max(map.latestOffset, (segs[i + 1] as LogSegment).baseOffset - 1);
    }
    if (mapStart === null) {
      // no dirty segment (a cleaning on request): the clean part is cleaned again with an empty map
      map.latestOffset = plan.firstDirty - 1;
      mapStart = { index: segs.length, position: 0 };
      mapStop = mapStart;
    }
    const endOffset = map.latestOffset + 1;
    if (endOffset <= plan.firstDirty && mapStart.index < segs.length) {
      throw new Error(`log.cleaner.dedupe.buffer.size (${this.opts.dedupeBufferSize} bytes) holds fewer keys than the first batch to clean at offset ${plan.firstDirty}`);
    }

    // The last batches of producers outside the part read for the map.
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i] as LogSegment;
      const ranges: [number, number][] = [];
      if (i < mapStart.index) ranges.push([0, seg.size]);
      if (i === mapStart.index && mapStart.position > 0) ranges.push([0, mapStart.position]);
      if (i === mapStop.index) ranges.push([mapStop.position, seg.size]);
      if (i > mapStop.index) ranges.push([0, seg.size]);
      for (const [from, to] of ranges) {
        if (from >= to) continue;
        for await (const b of this.readBatches(log, seg, from, to)) producers.note(b.header);
      }
    }

    // Recovery must know that this log's offsets may have gaps (its checkpoint entry) before the first swap.
    const entry = this.checkpoints.get(log) ?? { offset: plan.firstDirty, truncations };
    const beforeSwap = async (): Promise<void> => {
      if (this.checkpoints.has(log)) return;
      if (!log.usable) throw new CleaningAborted('the log was closed');
      this.checkpoints.set(log, entry);
      await this.writeCheckpoint();
    };

    // 3 and 4. Clean and swap, group by group.
    const cleanable = segs.filter((s) => s !== active && s.baseOffset < endOffset);
    const totals = { bytesBefore: 0, bytesAfter: 0, recordsRead: 0, recordsKept: 0 };
    for (const group of groupSegments(segs, cleanable, config, plan.firstUncleanable)) {
      const r = await this.cleanGroup(log, group, map, producers, config, now, truncations, beforeSwap);
      totals.bytesBefore += r.bytesBefore;
      totals.bytesAfter += r.bytesAfter;
      totals.recordsRead += r.recordsRead;
      totals.recordsKept += r.recordsKept;
    }
    if (!this.checkpoints.has(log) && log.usable) this.checkpoints.set(log, entry);
    if (this.checkpoints.get(log) === entry) {
      entry.offset = entry.truncations === truncations ? Math.max(entry.offset, endOffset) : endOffset;
      entry.truncations = truncations;
      await this.writeCheckpoint();
    }
    return { endOffset, bytesRead: this.stats.bytesRead - readBefore, ...totals };
  }

  /** Cleans one group of segments into `<base>.*.cleaned` and swaps it in. */
  private async cleanGroup(
    log: PartitionLog,
    group: readonly LogSegment[],
    map: OffsetMap,
    producers: ProducerLastBatches,
    config: LogConfig,
    now: number,
    truncations: number,
    beforeSwap: () => Promise<void>,
  ): Promise<{ bytesBefore: number; bytesAfter: number; recordsRead: number; recordsKept: number }> {
    const { ctx } = this.host;
    const base = (group[0] as LogSegment).baseOffset;
    const stem = `${log.dir}/${segmentFileName(base)}`;
    const horizon = now + config.deleteRetentionMs;
    let cleaned: LogSegment | null = null;
    let bytesBefore = 0;
    let recordsRead = 0;
    let recordsKept = 0;
    let changed = group.length > 1;
    try {
      cleaned = LogSegment.create(ctx, log.dir, base, config.segmentIndexBytes, now, CLEANED_SUFFIX);
      const out: Buffer[] = [];
      const infos: BatchInfo[] = [];
      let outBytes = 0;
      /** start, end and offset of each kept record of the current batch */
      const kept: number[] = [];
      const flush = async (): Promise<void> => {
        if (out.length === 0) return;
        const buf = out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out, outBytes);
        const seg = cleaned as LogSegment;
        const handle = ctx.handles.pin(seg.logPath);
        try {
          await ctx.fs.writeAsync(handle.fd, buf, 0, buf.length, seg.size);
        } finally {
          ctx.handles.unpin(handle);
        }
        seg.appended(buf.length, infos, config.indexIntervalBytes, now);
        this.stats.bytesWritten += buf.length;
        out.length = 0;
        infos.length = 0;
        outBytes = 0;
        await this.throttler.maybeThrottle(buf.length);
      };
      const keep = (batch: Buffer, h: BatchHeader): void => {
        infos.push({ position: outBytes, size: batch.length, baseOffset: h.baseOffset, lastOffset: h.baseOffset + h.lastOffsetDelta, maxTimestamp: h.maxTimestamp, leaderEpoch: h.partitionLeaderEpoch });
        out.push(batch);
        outBytes += batch.length;
      };
      for (let s = 0; s < group.length; s++) {
        const seg = group[s] as LogSegment;
        bytesBefore += seg.size;
        const lastSegment = s === group.length - 1;
        for await (const b of this.readBatches(log, seg, 0, seg.size, true)) {
          const h = b.header;
          if ((h.attributes & ATTR_CONTROL) !== 0) {
            keep(Buffer.from(b.buf), h);
            continue;
          }
          const horizonSet = (h.attributes & ATTR_DELETE_HORIZON) !== 0;
          const keepTombstones = !horizonSet || now < h.baseTimestamp;
          const area = await recordsArea(b.buf, h, this.opts.maxDecompressedBytes);
          kept.length = 0;
          let dropped = false;
          let tombstones = false;
          let maxTimestampDelta = Number.NEGATIVE_INFINITY;
          forEachRecordSpan(h, area, (r) => {
            const offset = h.baseOffset + r.offsetDelta;
            let retain: boolean;
            if (offset > map.latestOffset) {
              retain = true;
            } else if (r.keyLength < 0) {
              retain = false;
            } else {
              retain = offset >= map.get(area, r.keyStart, r.keyLength) && (r.hasValue || keepTombstones);
            }
            if (retain) {
              kept.push(r.start, r.end, offset);
              if (!r.hasValue) tombstones = true;
              if (r.timestampDelta > maxTimestampDelta) maxTimestampDelta = r.timestampDelta;
            } else {
              dropped = true;
            }
          });
          const keptCount = kept.length / 3;
          recordsRead += h.recordCount;
          recordsKept += keptCount;
          const needHorizon = tombstones && !horizonSet;
          if (keptCount > 0 && !dropped && !needHorizon) {
            keep(Buffer.from(b.buf), h);
          } else if (keptCount > 0 && !needHorizon) {
            changed = true;
            const filtered = await keptRecordsBatch(b.buf, h, area, kept, maxTimestampDelta);
            keep(filtered, readBatchHeader(filtered, 0));
          } else if (keptCount > 0 || producers.isLastOfActive(h) || (lastSegment && b.last)) {
            changed = true;
            const keptOffsets = new Set<number>();
            for (let i = 2; i < kept.length; i += 3) keptOffsets.add(kept[i] as number);
            const records: BatchRecord[] = [];
            for (const r of iterateRecords(h, area)) if (keptOffsets.has(r.offset)) records.push(r);
            const rebuilt = await rebuildBatch(h, records, needHorizon ? horizon : undefined);
            keep(rebuilt, readBatchHeader(rebuilt, 0));
          } else {
            changed = true;
          }
          if (outBytes >= this.opts.ioBufferSize) await flush();
          await this.step(log);
        }
      }
      await flush();
      cleaned.seal();
      const bytesAfter = cleaned.size;
      this.stats.recordsRemoved += recordsRead - recordsKept;
      if (!changed) {
        // nothing to gain: the segment stays as it is
        this.dropCleaned(cleaned, stem);
        cleaned = null;
        return { bytesBefore, bytesAfter: bytesBefore, recordsRead, recordsKept };
      }
      await this.syncCleaned(cleaned);
      for (const p of cleaned.paths) ctx.handles.evict(p);
      await this.step(log);
      await beforeSwap();
      if (!(await log.replaceWithCleaned(group, truncations))) throw new CleaningAborted('the log changed while it was cleaned');
      cleaned = null;
      this.stats.segmentsCleaned += group.length;
      this.stats.bytesReclaimed += bytesBefore - bytesAfter;
      return { bytesBefore, bytesAfter, recordsRead, recordsKept };
    } finally {
      if (cleaned !== null) this.dropCleaned(cleaned, stem);
    }
  }

  private async syncCleaned(seg: LogSegment): Promise<void> {
    const { fs, handles, syncLimiter } = this.host.ctx;
    await syncLimiter.run(async () => {
      for (const path of seg.paths) {
        const handle = handles.pin(path);
        try {
          await fs.fdatasync(handle.fd);
        } finally {
          handles.unpin(handle);
        }
      }
    });
  }

  /** Removes the files of an unfinished cleaned segment (quietly: the log may be gone or the disk failing). */
  private dropCleaned(seg: LogSegment, stem: string): void {
    const { fs, handles, logger } = this.host.ctx;
    try {
      for (const p of seg.paths) handles.evict(p);
      removeSegmentFileSet(fs, stem, CLEANED_SUFFIX);
    } catch (err) {
      logger.warn({ stem, err: (err as Error).message }, 'removing the files of an unfinished cleaned segment failed (the next start removes them)');
    }
  }

  private liveCheckpoints(): { topic: string; partition: number; offset: number }[] {
    const out: { topic: string; partition: number; offset: number }[] = [];
    for (const log of this.host.logs()) {
      const e = this.checkpoints.get(log);
      if (e) out.push({ topic: log.topic, partition: log.partition, offset: e.offset });
    }
    return out;
  }

  private async writeCheckpoint(): Promise<void> {
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

/**
 * Consecutive segments, each group fitting in one segment: total size <= segment.bytes, index sizes <=
 * segment.index.bytes, offsets within 2^31 - 1 of the group's base (Kafka's groupSegmentsBySize).
 */
export function groupSegments(all: readonly LogSegment[], cleanable: readonly LogSegment[], config: LogConfig, firstUncleanable: number): LogSegment[][] {
  const groups: LogSegment[][] = [];
  let i = 0;
  while (i < cleanable.length) {
    const first = cleanable[i] as LogSegment;
    const group = [first];
    let logSize = first.size;
    let indexSize = first.offsetIndex.sizeInBytes;
    let timeIndexSize = first.timeIndex.sizeInBytes;
    while (i + 1 < cleanable.length) {
      const next = cleanable[i + 1] as LogSegment;
      const after = all[all.indexOf(next) + 1];
      const lastOffset = (after?.baseOffset ?? firstUncleanable) - 1;
      if (
        logSize + next.size > config.segmentBytes ||
        indexSize + next.offsetIndex.sizeInBytes > config.segmentIndexBytes ||
        timeIndexSize + next.timeIndex.sizeInBytes > config.segmentIndexBytes ||
        (next.size > 0 && lastOffset - first.baseOffset > 0x7fffffff)
      ) {
        break;
      }
      group.push(next);
      logSize += next.size;
      indexSize += next.offsetIndex.sizeInBytes;
      timeIndexSize += next.timeIndex.sizeInBytes;
      i++;
    }
    groups.push(group);
    i++;
  }
  return groups;
}

/**
 * The batch `batch` keeping only the records whose [start, end) in its records area `area` are in `kept`
 * (triples start, end, offset), their bytes copied as they are: same base offset and base timestamp (record
 * offsets and timestamps are deltas from them), last offset delta, producer fields, attributes and codec
 * (recompressed); record count, size and CreateTime maxTimestamp follow the kept records; a new CRC.
 */
async function keptRecordsBatch(batch: Buffer, h: BatchHeader, area: Buffer, kept: readonly number[], maxTimestampDelta: number): Promise<Buffer> {
  let size = 0;
  for (let i = 0; i < kept.length; i += 3) size += (kept[i + 1] as number) - (kept[i] as number);
  const records = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < kept.length; i += 3) at += area.copy(records, at, kept[i] as number, kept[i + 1] as number);
  const codec = compressionOf(h.attributes);
  const body = codec === Compression.none ? records : await compress(codec, records);
  const out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + body.length);
  batch.copy(out, 0, 0, RECORD_BATCH_OVERHEAD);
  body.copy(out, RECORD_BATCH_OVERHEAD);
  out.writeInt32BE(out.length - LOG_OVERHEAD, 8);
  out.writeInt32BE(kept.length / 3, 57);
  if ((h.attributes & ATTR_LOG_APPEND_TIME) === 0) writeInt64(out, 35, h.baseTimestamp + maxTimestampDelta);
  out.writeUInt32BE(computeBatchCrc(out, 0, out.length), CRC_OFFSET);
  return out;
}

/**
 * A batch keeping only `retained` (possibly none: a header-only batch), with the original's base offset,
 * last offset delta, producer id, epoch and base sequence, flags, leader epoch and compression.
 */
function rebuildBatch(h: BatchHeader, retained: readonly BatchRecord[], deleteHorizonMs: number | undefined): Promise<Buffer> {
  const logAppendTime = (h.attributes & ATTR_LOG_APPEND_TIME) !== 0 ? h.maxTimestamp : undefined;
  return buildRecordBatch(
    retained.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: r.offsetDelta })),
    {
      baseOffset: h.baseOffset,
      partitionLeaderEpoch: h.partitionLeaderEpoch,
      compression: compressionOf(h.attributes),
      timestamp: h.maxTimestamp,
      ...(logAppendTime !== undefined ? { logAppendTime } : {}),
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: h.baseSequence,
      transactional: (h.attributes & ATTR_TRANSACTIONAL) !== 0,
      ...(deleteHorizonMs !== undefined && retained.length > 0 ? { deleteHorizonMs } : {}),
      lastOffsetDelta: h.lastOffsetDelta,
    },
  );
}
