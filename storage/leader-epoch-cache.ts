/**
 * LeaderEpochCache: for each leader epoch, the first offset written in it (Kafka's LeaderEpochFileCache),
 * persisted as `leader-epoch-checkpoint` in the partition directory.
 */
import type { EpochEntry } from './checkpoint-file.js';

export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export class LeaderEpochCache {
  private entries: EpochEntry[];

  constructor(entries: readonly EpochEntry[] = []) {
    this.entries = [];
    for (const e of entries) this.assign(e.epoch, e.startOffset);
  }

  get all(): readonly EpochEntry[] {
    return this.entries;
  }

  get latestEpoch(): number {
    return this.entries[this.entries.length - 1]?.epoch ?? UNDEFINED_EPOCH;
  }

  /** Records that `epoch` starts at `startOffset`; returns true if the cache changed. */
  assign(epoch: number, startOffset: number): boolean {
    if (epoch < 0 || startOffset < 0) return false;
    const last = this.entries[this.entries.length - 1];
    if (last && epoch <= last.epoch) return false;
    // A newer epoch starting at or before older ones supersedes them (as Kafka does).
    this.entries = this.entries.filter((e) => e.startOffset < startOffset);
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /** Epoch of the batch at `offset`: the latest entry starting at or before it. */
  epochForOffset(offset: number): number {
    let epoch = UNDEFINED_EPOCH;
    for (const e of this.entries) {
      if (e.startOffset > offset) break;
      epoch = e.epoch;
    }
    return epoch;
  }

  /** OffsetForLeaderEpoch: the largest epoch <= requested and the offset where the next epoch starts. */
  endOffsetFor(requested: number, logEndOffset: number): { leaderEpoch: number; endOffset: number } {
    const undefinedResult = { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requested === UNDEFINED_EPOCH || this.entries.length === 0) return undefinedResult;
    if (requested === this.latestEpoch) return { leaderEpoch: requested, endOffset: logEndOffset };
    const higherIndex = this.entries.findIndex((e) => e.epoch > requested);
    const higher = this.entries[higherIndex];
    if (higher === undefined) return undefinedResult;
    const floor = this.entries[higherIndex - 1];
    return floor === undefined ? { leaderEpoch: requested, endOffset: higher.startOffset } : { leaderEpoch: floor.epoch, endOffset: higher.startOffset };
  }

  /** After truncation to `endOffset`: drops epochs that start at or after it. Returns true if changed. */
  truncateFromEnd(endOffset: number): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.startOffset < endOffset);
    return this.entries.length !== before;
  }

  /** After the log start moved to `startOffset`: the epoch covering it now starts there. Returns true if changed. */
  truncateFromStart(startOffset: number): boolean {
    let floor = -1;
    for (let i = 0; i < this.entries.length; i++) if ((this.entries[i] as EpochEntry).startOffset <= startOffset) floor = i;
    if (floor < 0) return false;
    const kept = this.entries.slice(floor);
    const first = kept[0] as EpochEntry;
    if (floor === 0 && first.startOffset === startOffset) return false;
    kept[0] = { epoch: first.epoch, startOffset };
    this.entries = kept;
    return true;
  }
}
