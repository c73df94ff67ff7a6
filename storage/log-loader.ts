/**
 * LogLoader: what a partition directory found at start holds (Kafka's LogLoader). loadLog opens the segments,
 * recovers them when needed, checks the checkpointed offsets against them, and returns what it found; the
 * PartitionLog is built from that result and writes back what changed (partition-log.ts, load).
 *
 * 1. The leader epoch cache from `leader-epoch-checkpoint`.
 * 2. A swap of cleaned segments interrupted by a crash is finished (segment-swap.ts); temporary files
 *    (*.deleted, *.tmp, *.cleaned, *.swap) and index files without their .log are removed.
 * 3. Segments: after an unclean shutdown every segment from the one holding the recovery point on is
 *    rescanned (LogSegment.recover: every batch checked, indexes rebuilt); the others, and all of them after
 *    a clean shutdown, keep their indexes if these pass their sanity check (LogSegment.loadIndexes), else
 *    are rescanned too. The log ends at the first torn or corrupt batch, or where a segment does not end
 *    where the next begins (a log that is never compacted has no gaps): later segments are deleted.
 * 4. Offsets: the checkpointed log start offset and recovery point are checked against what the segments
 *    hold (checkOffsets), and the epoch cache is cut to the log.
 *
 * No checkpoint is trusted to destroy data or to skip a check: each value a checkpoint could not have held
 * (the log end is known only after step 3) is logged (WARN) and replaced by what the log itself says.
 * - log start beyond the log end: ignored, the log starts at its first segment; every segment is kept (Kafka
 *   deletes them all, trusting the checkpoint; here DeleteRecords syncs the log up to the new start before the
 *   checkpoint records it, so only a damaged or hand-edited directory can get there);
 * - recovery point beyond the log end, after an unclean shutdown: it claims data that is not there was
 *   flushed, so it vouches for nothing: every segment is recovered, from the first;
 * - leader-epoch-checkpoint that is unreadable, not increasing (epochs and start offsets), or with an epoch
 *   that the batch at its start offset does not carry: rebuilt from the batch headers of the whole log; epochs
 *   starting at or beyond the log end are dropped (as Kafka's truncateFromEnd). The epochs answer
 *   OffsetForLeaderEpoch, and a wrong answer makes consumers truncate or reset.
 * The cleaner checkpoint is checked by the LogManager (outside [log start, log end]: cleaning restarts at the
 * log start) and producer snapshots by the broker's producer state (src/produce): neither deletes records.
 */
import { readEpochCheckpoint, type EpochEntry } from './checkpoint-file.js';
import { isCompacted, type LogConfig } from './config.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import type { LocalLogContext } from './local-log.js';
import { LogSegment, parseSegmentFileName } from './segment.js';
import { completeInterruptedSwaps } from './segment-swap.js';

export const LEADER_EPOCH_FILE = 'leader-epoch-checkpoint';

/** What the log directory's checkpoints say of this log. */
export interface LoadState {
  cleanShutdown: boolean;
  recoveryPoint: number | undefined;
  logStartOffset: number | undefined;
  /** The log cleaner has rewritten segments of this log (it has a cleaner-offset-checkpoint entry): offsets may have gaps. */
  compacted?: boolean;
}

/** Where recovery cut the log. */
export interface RecoveryTruncation {
  /** Base offset of the segment cut, and its size after the cut. */
  segment: number;
  position: number;
  truncatedBytes: number;
  /** Base offsets of the later segments, deleted. */
  droppedSegments: number[];
  reason: string;
}

export interface LoadedLog {
  /** Oldest first; the last is the active one. Never empty. */
  segments: LogSegment[];
  logStartOffset: number;
  recoveryPoint: number;
  epochs: LeaderEpochCache;
  /** The epoch cache differs from what leader-epoch-checkpoint held: write it. */
  epochsChanged: boolean;
  /** Segment files were deleted, renamed or created: the directory needs an fsync. */
  dirNeedsSync: boolean;
  /** What recovery cut off, if it cut. */
  truncation: RecoveryTruncation | null;
}

export interface LoadParams {
  dir: string;
  topic: string;
  partition: number;
  config: LogConfig;
  state: LoadState;
}

/** The segments of what loadSegments found, before the checkpointed offsets are applied. */
interface FoundSegments {
  segments: LogSegment[];
  epochsChanged: boolean;
  dirNeedsSync: boolean;
  truncation: RecoveryTruncation | null;
}

export async function loadLog(ctx: LocalLogContext, params: LoadParams): Promise<LoadedLog> {
  const { fs, logger } = ctx;
  const { dir, state } = params;
  let epochs = readEpochs(ctx, params);
  // A swap of cleaned segments interrupted by a crash is finished first (segment-swap.ts).
  if (completeInterruptedSwaps(fs, dir, ctx.logger) > 0) await fs.fsyncDir(dir);
  const bases = removeTemporaryFiles(ctx, dir);
  let found = loadSegments(ctx, params, bases, epochs ?? new LeaderEpochCache());
  const recoveryPoint = state.recoveryPoint ?? 0;
  if (!state.cleanShutdown && recoveryPoint > endOf(found.segments) && found.segments.length > 1) {
    // The segments below the recovery point were trusted on its word: recover them too.
    logger.warn(
      { topic: params.topic, partition: params.partition, recoveryPoint, logEndOffset: endOf(found.segments) },
      'recovery point beyond the log end: recovering every segment',
    );
    const again = loadSegments(ctx, { ...params, state: { ...state, recoveryPoint: 0 } }, found.segments.map((s) => s.baseOffset), epochs ?? new LeaderEpochCache());
    found = {
      segments: again.segments,
      epochsChanged: found.epochsChanged || again.epochsChanged,
      dirNeedsSync: found.dirNeedsSync || again.dirNeedsSync,
      truncation: found.truncation ?? again.truncation,
    };
  }
  const offsets = checkOffsets(ctx, params, found);
  let epochsChanged = found.epochsChanged;
  if (epochs !== null) {
    const dropped = epochs.all.filter((e) => e.startOffset >= offsets.logEndOffset);
    if (dropped.length > 0) {
      logger.warn({ topic: params.topic, partition: params.partition, logEndOffset: offsets.logEndOffset, dropped }, 'leader epochs starting at or beyond the log end: dropping them');
    }
    const wrong = epochMismatch(epochs, found.segments, offsets.logStartOffset, offsets.logEndOffset);
    if (wrong !== null) {
      logger.warn({ topic: params.topic, partition: params.partition, problem: wrong }, 'leader-epoch-checkpoint does not match the log: rebuilding it from the batches');
      epochs = null;
    }
  }
  if (epochs === null) {
    epochs = epochsFromBatches(found.segments);
    epochsChanged = true;
  }
  if (epochs.truncateFromEnd(offsets.logEndOffset)) epochsChanged = true;
  if (epochs.truncateFromStart(offsets.logStartOffset)) epochsChanged = true;
  return {
    segments: offsets.segments,
    logStartOffset: offsets.logStartOffset,
    recoveryPoint: offsets.recoveryPoint,
    epochs,
    epochsChanged,
    dirNeedsSync: found.dirNeedsSync,
    truncation: found.truncation,
  };
}

const endOf = (segs: readonly LogSegment[]): number => (segs[segs.length - 1] as LogSegment).nextOffset;

/** The epoch cache of `leader-epoch-checkpoint`, or null when it cannot be trusted (rebuilt from the log). */
function readEpochs(ctx: LocalLogContext, params: LoadParams): LeaderEpochCache | null {
  const { dir } = params;
  let entries;
  try {
    entries = readEpochCheckpoint(ctx.fs, `${dir}/${LEADER_EPOCH_FILE}`) ?? [];
  } catch (err) {
    ctx.logger.warn({ dir, err: (err as Error).message }, 'unreadable leader-epoch-checkpoint, rebuilding it from the log');
    return null;
  }
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as EpochEntry;
    const prev = entries[i - 1];
    const bad = !Number.isSafeInteger(e.epoch) || !Number.isSafeInteger(e.startOffset) || e.epoch < 0 || e.startOffset < 0;
    if (bad || (prev !== undefined && (e.epoch <= prev.epoch || e.startOffset <= prev.startOffset))) {
      ctx.logger.warn(
        { topic: params.topic, partition: params.partition, entry: i, epoch: e.epoch, startOffset: e.startOffset },
        'leader-epoch-checkpoint entries are not increasing, rebuilding it from the log',
      );
      return null;
    }
  }
  return new LeaderEpochCache(entries);
}

/**
 * What is wrong with the epoch cache against the batches, or null: each epoch that starts inside the log must
 * be the epoch of the batch holding its start offset (one index look-up and header read per epoch).
 */
function epochMismatch(epochs: LeaderEpochCache, segments: readonly LogSegment[], logStart: number, logEnd: number): string | null {
  for (const e of epochs.all) {
    if (e.startOffset < logStart || e.startOffset >= logEnd) continue;
    let seg = segments[0] as LogSegment;
    for (const s of segments) if (s.baseOffset <= e.startOffset) seg = s;
    const b = seg.findBatch(e.startOffset);
    // a batch with no epoch (-1) predates epochs; a batch after a gap (compaction) may begin a later epoch
    if (b === null || b.leaderEpoch < 0 || (b.baseOffset <= e.startOffset && b.leaderEpoch !== e.epoch)) {
      return `epoch ${e.epoch} starts at ${e.startOffset}, where the batch has epoch ${b?.leaderEpoch ?? 'none'}`;
    }
  }
  return null;
}

/** The epoch cache from the batch headers of every segment, oldest first. */
function epochsFromBatches(segments: readonly LogSegment[]): LeaderEpochCache {
  const epochs = new LeaderEpochCache();
  for (const seg of segments) {
    seg.scan(0, (b) => {
      epochs.assign(b.leaderEpoch, b.baseOffset);
      return true;
    });
  }
  return epochs;
}

/** Removes temporary files and index files without a .log; returns the base offsets of the .log files. */
function removeTemporaryFiles(ctx: LocalLogContext, dir: string): number[] {
  const { fs } = ctx;
  const bases = new Set<number>();
  for (const name of fs.readdir(dir)) {
    if (/\.(deleted|tmp|cleaned|swap)$/.test(name)) {
      fs.unlink(`${dir}/${name}`);
      continue;
    }
    const parsed = parseSegmentFileName(name);
    if (parsed?.ext === 'log') bases.add(parsed.baseOffset);
  }
  // Index files without a .log are leftovers.
  for (const name of fs.readdir(dir)) {
    const parsed = parseSegmentFileName(name);
    if (parsed && parsed.ext !== 'log' && !bases.has(parsed.baseOffset)) fs.unlink(`${dir}/${name}`);
  }
  return [...bases].sort((a, b) => a - b);
}

/** Opens the segments at `bases`, trusting or recovering each (step 3). Never returns an empty list. */
function loadSegments(ctx: LocalLogContext, params: LoadParams, bases: readonly number[], epochs: LeaderEpochCache): FoundSegments {
  const { fs, logger } = ctx;
  const { dir, config, state } = params;
  const now = ctx.clock();
  const segments = bases.map((base) => LogSegment.open(ctx, dir, base, config.segmentIndexBytes, now));
  const rp = state.recoveryPoint ?? 0;
  // Recovery starts at the segment containing the recovery point.
  let firstToRecover = 0;
  for (let i = 0; i < segments.length; i++) if ((segments[i] as LogSegment).baseOffset <= rp) firstToRecover = i;
  const kept: LogSegment[] = [];
  const recovered = new Set<LogSegment>();
  let epochsChanged = false;
  let truncation: RecoveryTruncation | null = null;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as LogSegment;
    const next = segments[i + 1];
    let recover = !state.cleanShutdown && i >= firstToRecover;
    if (!recover) {
      const problem = seg.loadIndexes(next?.baseOffset);
      if (problem !== null) {
        logger.warn({ dir, segment: seg.baseOffset, problem }, 'index failed its sanity check, rebuilding it');
        recover = true;
      }
    }
    kept.push(seg);
    if (!recover) continue;
    recovered.add(seg);
    const contiguous = !isCompacted(config) && state.compacted !== true;
    const result = seg.recover(config.indexIntervalBytes, config.segmentIndexBytes, contiguous, (b) => {
      if (epochs.assign(b.leaderEpoch, b.baseOffset)) epochsChanged = true;
    });
    if (result.reason === undefined && next !== undefined && seg.nextOffset > next.baseOffset) {
      result.reason = `segment ends at offset ${seg.nextOffset}, past the start of the next segment ${next.baseOffset}`;
    }
    if (result.reason === undefined && next !== undefined && contiguous && seg.nextOffset !== next.baseOffset) {
      // Lost writes at the end of a rolled segment (it was never flushed): the log ends here.
      result.reason = `segment ends at offset ${seg.nextOffset} but the next segment starts at ${next.baseOffset}`;
    }
    if (result.reason !== undefined) {
      const dropped = segments.slice(i + 1);
      truncation = {
        segment: seg.baseOffset,
        position: seg.size,
        truncatedBytes: result.truncatedBytes,
        droppedSegments: dropped.map((s) => s.baseOffset),
        reason: result.reason,
      };
      logger.warn(
        {
          topic: params.topic,
          partition: params.partition,
          segment: truncation.segment,
          position: truncation.position,
          truncatedBytes: truncation.truncatedBytes,
          lastValidOffset: seg.nextOffset - 1,
          droppedSegments: truncation.droppedSegments,
          reason: truncation.reason,
        },
        'recovery truncated the log at a torn or corrupt batch',
      );
      for (const d of dropped) for (const p of d.paths) fs.unlink(p);
      break;
    }
  }
  if (kept.length === 0) kept.push(LogSegment.create(ctx, dir, state.logStartOffset ?? 0, config.segmentIndexBytes, now));
  // Rebuilt indexes of older segments are trimmed (and must be synced before the recovery point passes
  // them); the active segment's indexes are preallocated again at its first append.
  for (const seg of kept.slice(0, -1)) {
    if (!recovered.has(seg)) continue;
    seg.seal();
    seg.needsIndexSync = true;
  }
  const dirNeedsSync = truncation !== null && truncation.droppedSegments.length > 0;
  return { segments: kept, epochsChanged, dirNeedsSync, truncation };
}

/**
 * Step 4: the checkpointed log start offset and recovery point against what the segments hold. The log
 * start is at least the first segment's base; one beyond the log end is ignored (the log starts at its first
 * segment, nothing is deleted). The recovery point is the log end after a clean shutdown, else the
 * checkpointed one, at most the log end.
 */
function checkOffsets(
  ctx: LocalLogContext,
  params: LoadParams,
  found: FoundSegments,
): { segments: LogSegment[]; logStartOffset: number; recoveryPoint: number; logEndOffset: number } {
  const { state } = params;
  const segments = found.segments;
  const firstBase = (segments[0] as LogSegment).baseOffset;
  const logEndOffset = endOf(segments);
  let logStartOffset = Math.max(state.logStartOffset ?? 0, firstBase);
  if (logStartOffset > logEndOffset) {
    ctx.logger.warn(
      { topic: params.topic, partition: params.partition, checkpointed: state.logStartOffset, logEndOffset, logStartOffset: firstBase },
      'log start offset checkpoint beyond the log end: ignoring it, the log starts at its first segment and keeps every record',
    );
    logStartOffset = firstBase;
  }
  const recoveryPoint = state.cleanShutdown ? logEndOffset : Math.min(state.recoveryPoint ?? 0, logEndOffset);
  return { segments, logStartOffset, recoveryPoint, logEndOffset };
}
