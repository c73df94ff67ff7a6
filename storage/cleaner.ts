/**
 * Cleaner: one cleaning of one compacted log (Kafka's Cleaner), run by the LogCleanerManager
 * (log-cleaner-manager.ts: step 1, which log and which part of it, and step 5, the checkpoint):
 *
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
 *    segment's end offset survive. Records without a key are dropped (as Kafka).
 *    The records of aborted transactions (the .txnindex entries overlapping the group, Kafka's
 *    CleanedTransactionMetadata) are removed, their batch kept empty when it is the last of an active
 *    producer. The dirty part ends before the segment holding the last stable offset (the manager's
 *    first uncleanable offset), so every transaction in it is complete: committed transactional records
 *    enter the map as any other (Kafka's buildOffsetMap), the records of aborted ones never do (the
 *    .txnindex entries overlapping the mapped segments), so an aborted record is never the latest value of
 *    a key and an ongoing transaction's records are never cleaned nor clean others. (A plan made without the
 *    first unstable offset keeps every transactional record out of the map: a later non-transactional
 *    record of their key removes them, they never remove one.) A COMMIT or ABORT marker goes only
 *    once no batch of its transaction is left anywhere in the log (cleaned-transactions.ts, over the whole
 *    cleaning) and its delete horizon has passed (Kafka 3.x, KIP-534: the first cleaning that finds its
 *    transaction empty rebuilds it with the delete-horizon attribute, baseTimestamp = now +
 *    delete.retention.ms; a cleaning after that time drops it), and never while it is the last batch of an
 *    active producer or of the group. The group's .txnindex entries go into the cleaned segment, except
 *    those whose ABORT marker was dropped: an entry and its marker go together. Other control batches
 *    are kept. The batches are rewritten by protocol/records/batch-filter.ts.
 * 4. Swap: the new segment replaces the group (segment-swap.ts, PartitionLog.replaceWithCleaned): crash-safe,
 *    and atomic for readers.
 *
 * A cleaning never blocks produce or fetch: segment reads are asynchronous (the thread pool), work is cut
 * into slices of a few milliseconds with a turn of the event loop between them, reads and writes are
 * throttled to log.cleaner.io.max.bytes.per.second, and the only synchronous section of a swap is a few
 * renames. It throws CleaningAborted (and removes its files) when the log is closed, deleted, truncated or
 * loses one of the segments being cleaned meanwhile, or the cleaner is stopped.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  ATTR_CONTROL,
  ATTR_DELETE_HORIZON,
  ATTR_TRANSACTIONAL,
  BATCH_LENGTH_OFFSET,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  readBatchHeader,
  verifyBatchCrc,
  type BatchHeader,
} from '../protocol/records/batch-header.js';
import { keptRecordsBatch, rebuildBatch } from '../protocol/records/batch-filter.js';
import { forEachRecordSpan, iterateRecords, recordsArea, type BatchRecord } from '../protocol/records/batch-records.js';
import { AbortedTransactions, TransactionMarkers } from './cleaned-transactions.js';
import type { CleanerOptions } from './cleaner-config.js';
import type { LogConfig } from './config.js';
import { StorageError } from './errors.js';
import type { Limiter } from './limiter.js';
import type { StorageLogger } from './logger.js';
import { OffsetMap } from './offset-map.js';
import type { PartitionLog } from './partition-log.js';
import { ProducerLastBatches } from './producer-last-batches.js';
import { LogSegment, segmentFileName, type BatchInfo, type SegmentContext } from './segment.js';
import { CLEANED_SUFFIX, removeSegmentFileSet } from './segment-swap.js';
import { Throttler } from './throttler.js';

/** The log cleaner's counters (LogManager.stats): the manager counts cleanings, the Cleaner bytes, records and segments. */
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

/** What a Cleaner works with (the LogManager's context). */
export type CleanerContext = SegmentContext & { logger: StorageLogger; clock: () => number; syncLimiter: Limiter };

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
  /**
   * firstUncleanable is at or below the segment holding the first unstable offset, so every transaction in
   * the dirty part is complete and committed transactional records may enter the map. False when the host
   * cannot tell (no firstUnstableOffset): transactional records then stay out of the map, as before.
   */
  stable?: boolean;
}

/** What a cleaning did. */
export interface CleaningResult {
  /** The end of the map: every offset below it has been cleaned (the log's new cleaner checkpoint). */
  endOffset: number;
  bytesRead: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsRead: number;
  recordsKept: number;
}

/** Thrown inside a cleaning that must stop without harm: shutdown, or the log changed under it. */
export class CleaningAborted extends Error {
  override readonly name = 'CleaningAborted';
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

export class Cleaner {
  private readonly throttler: Throttler;
  private stopping = false;
  private sliceStart = 0;

  constructor(
    private readonly ctx: CleanerContext,
    private readonly opts: CleanerOptions,
    /** Counted into: bytes read and written, records removed, segments cleaned, bytes reclaimed. */
    private readonly stats: CleanerStats,
  ) {
    this.throttler = new Throttler(opts.ioMaxBytesPerSecond);
  }

  /** Milliseconds spent waiting for the I/O limit since start. */
  get throttledMs(): number {
    return this.throttler.throttledMs;
  }

  /** A cleaning in progress is abandoned at its next step, and none starts any more. */
  stop(): void {
    this.stopping = true;
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

   */
  private async *readBatches(log: PartitionLog, seg: LogSegment, from: number, to: number, checkCrc = false): AsyncGenerator<ReadBatch, void, undefined> {
    const { fs } = this.ctx;
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
          const size = LOG_OVERHEAD + buf.readInt32BE(at + BATCH_LENGTH_OFFSET);
          if (size < RECORD_BATCH_OVERHEAD || pos + at + size > to) throw new StorageError(`corrupt batch at position ${pos + at} of ${seg.logPath}: size ${size}`);
          if (at + size > n) break;
          if (checkCrc && !verifyBatchCrc(buf, at)) throw new StorageError(`CRC mismatch in the batch at position ${pos + at} of ${seg.logPath}`);
          const batch = buf.subarray(at, at + size);
          yield { buf: batch, position: pos + at, header: readBatchHeader(batch, 0), last: pos + at + size === to };
          at += size;
        }
        if (at === 0 && want === 0) throw new StorageError(`${n} stray bytes at position ${pos} of ${seg.logPath}`);
        if (at === 0 && n >= LOG_OVERHEAD && LOG_OVERHEAD + buf.readInt32BE(BATCH_LENGTH_OFFSET) > buf.length) {
          // one batch larger than the buffer (a torn tail cannot be: batches were checked against `to`)
          const bigger = Buffer.allocUnsafe(LOG_OVERHEAD + buf.readInt32BE(BATCH_LENGTH_OFFSET));
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

  /**
   * Cleans the dirty part of `plan.log` (read when its truncation count was `truncations`) up to the end of
   * the map, group by group; `beforeSwap` runs before each swap (the manager records the log's cleaner
   * checkpoint before its first one). The caller moves the checkpoint to `endOffset` afterwards.
   */
  async clean(plan: CleaningPlan, truncations: number, beforeSwap: () => Promise<void>): Promise<CleaningResult> {
    const { log } = plan;
    const config = log.currentConfig;
    const now = this.ctx.clock();
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
    // the dirty segments the map reads (with a stable plan all below the first unstable offset: every
    // transaction in them is complete)
    const mapped = segs.filter((seg, i) => i < segs.length - 1 && seg.nextOffset > plan.firstDirty && seg.baseOffset < plan.firstUncleanable);
    const aborted = plan.stable === true && mapped.length > 0 ? new AbortedTransactions(log, mapped) : null;
    for (let i = 0; i < segs.length - 1 && !full; i++) {
      const seg = segs[i] as LogSegment;
      if (seg.nextOffset <= plan.firstDirty) continue;
      if (seg.baseOffset >= plan.firstUncleanable) {
        mapStop = { index: i, position: 0 };
        break;
      }
      const from: number = mapStart === null ? seg.indexedPosition(plan.firstDirty) : 0;
      mapStart ??= { index: i, position: from };
      for await (const b of this.readBatches(log, seg, from, seg.size)) {
        const h = b.header;
        producers.note(h);
        const lastOffset = h.baseOffset + h.lastOffsetDelta;
        const control = (h.attributes & ATTR_CONTROL) !== 0;
        if (control) aborted?.onControlBatch(h);
        if (lastOffset < plan.firstDirty) continue;
        // Markers never go into the map, nor the records of aborted transactions (Kafka's
        // CleanedTransactionMetadata): an aborted record must not pass for the latest value of its key.
        // Committed transactional records do, as Kafka maps them, when the plan is stable; otherwise no
        // transactional record does (an ongoing one's outcome is unknown).
        const transactional = (h.attributes & ATTR_TRANSACTIONAL) !== 0;
        if (!control && !(transactional && (plan.stable !== true || (aborted?.isAborted(h) ?? false)))) {
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

    // 3 and 4. Clean and swap, group by group (in offset order: a marker's transaction is read before it).
    const cleanable = segs.filter((s) => s !== active && s.baseOffset < endOffset);
    const totals = { bytesBefore: 0, bytesAfter: 0, recordsRead: 0, recordsKept: 0 };
    const markers = new TransactionMarkers();
    for (const group of groupSegments(segs, cleanable, config, plan.firstUncleanable)) {
      const r = await this.cleanGroup(log, group, map, producers, markers, config, now, truncations, beforeSwap);
      totals.bytesBefore += r.bytesBefore;
      totals.bytesAfter += r.bytesAfter;
      totals.recordsRead += r.recordsRead;
      totals.recordsKept += r.recordsKept;
    }
    return { endOffset, bytesRead: this.stats.bytesRead - readBefore, ...totals };
  }


  /** Cleans one group of segments into `<base>.*.cleaned` and swaps it in. */
  private async cleanGroup(
    log: PartitionLog,
    group: readonly LogSegment[],
    map: OffsetMap,
    producers: ProducerLastBatches,
    markers: TransactionMarkers,
    config: LogConfig,
    now: number,
    truncations: number,
    beforeSwap: () => Promise<void>,
  ): Promise<{ bytesBefore: number; bytesAfter: number; recordsRead: number; recordsKept: number }> {
    const { ctx } = this;
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
      /** offsets of the markers removed (an ABORT marker's .txnindex entry goes with it) */
      const removedMarkers = new Set<number>();
      const keep = (batch: Buffer, h: BatchHeader): void => {
        markers.onBatchKept(h);
        infos.push({ position: outBytes, size: batch.length, baseOffset: h.baseOffset, lastOffset: h.baseOffset + h.lastOffsetDelta, maxTimestamp: h.maxTimestamp, leaderEpoch: h.partitionLeaderEpoch });
        out.push(batch);
        outBytes += batch.length;
      };
      const aborted = new AbortedTransactions(log, group);
      for (let s = 0; s < group.length; s++) {
        const seg = group[s] as LogSegment;
        bytesBefore += seg.size;
        const lastSegment = s === group.length - 1;
        for await (const b of this.readBatches(log, seg, 0, seg.size, true)) {
          const h = b.header;
          if ((h.attributes & ATTR_CONTROL) !== 0) {
            aborted.onControlBatch(h);
            // A marker whose transaction has no batch left goes once its delete horizon has passed (Kafka's
            // cleanInto with CleanedTransactionMetadata, KIP-534): the first cleaning that finds it so writes
            // the horizon into its header, a cleaning after the horizon removes it; never while it is the last
            // batch of an active producer (its epoch and coordinator epoch) or the group's last batch.
            const discardable = markers.onControlBatch(b.buf, h);
            const horizonSet = (h.attributes & ATTR_DELETE_HORIZON) !== 0;
            if (!discardable) {
              keep(Buffer.from(b.buf), h);
            } else if (h.recordCount === 0 || (horizonSet && now >= h.baseTimestamp)) {
              if (producers.isLastOfActive(h) || (lastSegment && b.last)) {
                keep(Buffer.from(b.buf), h);
              } else {
                changed = true;
                removedMarkers.add(h.baseOffset);
                recordsRead += h.recordCount;
              }
            } else if (!horizonSet) {
              changed = true;
              const records = [...iterateRecords(h, await recordsArea(b.buf, h, this.opts.maxDecompressedBytes))];
              const rebuilt = await rebuildBatch(h, records, horizon);
              keep(rebuilt, readBatchHeader(rebuilt, 0));
            } else {
              keep(Buffer.from(b.buf), h);
            }
            continue;
          }
          if (aborted.isAborted(h)) {
            // the records of an aborted transaction go; the batch stays empty only to keep its producer's state
            changed = true;
            recordsRead += h.recordCount;
            if (producers.isLastOfActive(h) || (lastSegment && b.last)) {
              const emptied = await rebuildBatch(h, [], undefined);
              keep(emptied, readBatchHeader(emptied, 0));
            }
            if (outBytes >= this.opts.ioBufferSize) await flush();
            await this.step(log);
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
      // The aborted transactions of the replaced segments go with them into the cleaned one, except those
      // whose ABORT marker was removed.
      for (const seg of group) for (const t of seg.txnIndex.entries) if (!removedMarkers.has(t.lastOffset)) cleaned.txnIndex.append(t);
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
    const { fs, handles, syncLimiter } = this.ctx;
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
    const { fs, handles, logger } = this.ctx;
    try {
      for (const p of seg.paths) handles.evict(p);
      removeSegmentFileSet(fs, stem, CLEANED_SUFFIX);
    } catch (err) {
      logger.warn({ stem, err: (err as Error).message }, 'removing the files of an unfinished cleaned segment failed (the next start removes them)');
    }
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
