/**
 * The committed offsets of one group (what Kafka's OffsetMetadataManager
 * keeps per group): topic → partition → offset, and the commits still being
 * written.
 *
 * A commit is applied only once its records are appended (the coordinator
 * runtime replays them); until then it is *pending*, under the token its
 * writer chose (the commit's record). A pending commit makes OffsetFetch
 * with require_stable answer UNSTABLE_OFFSET_COMMIT, keeps a group from
 * being removed as empty, and keeps its offset from expiring. Removing an
 * offset (OffsetDelete, DeleteGroups, a deleted topic, retention) cancels
 * the pending commits of that partition: they are not applied when their
 * append completes, so what was removed does not come back.
 *
 * Transactional offsets (TxnOffsetCommit, Kafka's GroupMetadata
 * pendingTransactionalOffsetCommits) are kept per producer once written:
 * invisible to OffsetFetch, they are applied when the transaction's COMMIT
 * marker is written (`completeTransaction(producerId, true)`) and dropped at
 * its ABORT. A COMMIT applies an offset only over one whose record lies
 * earlier in the log (Kafka's completePendingTxnOffsetCommit: a plain commit
 * written after the transactional one wins), so each committed offset keeps
 * the log offset of its record. While any is kept for a partition, that partition counts as
 * pending as above (UNSTABLE_OFFSET_COMMIT for require_stable, no expiry),
 * and the group is not empty. A removal drops them too.
 */

export interface CommittedOffset {
  readonly offset: number;
  /** -1 when unknown. */
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
  /** Set only by OffsetCommit v1-4 with an explicit retention (old expiry semantics). */
  readonly expireTimestamp: number | undefined;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Which offsets retention may remove: `base` of an offset is the time its retention counts from. */
export interface ExpiryRule {
  readonly base: (o: CommittedOffset) => number;
  /** Topics whose offsets are kept (a stable consumer group's subscriptions). */
  readonly keep: ReadonlySet<string>;
}

export class GroupOffsets {
  /** topic -> partition -> committed offset */
  readonly committed = new Map<string, Map<number, CommittedOffset>>();
  /** "topic\0partition" -> tokens of the commits of it being written */
  private readonly pending = new Map<string, Set<object>>();
  /** producer id -> "topic\0partition" -> the transaction's offset and its record's log offset, until its marker */
  private readonly pendingTxn = new Map<number, Map<string, TopicPartition & { value: CommittedOffset; logOffset: number }>>();
  /** "topic\0partition" -> log offset of the record of the committed offset (-1 or absent: unknown) */
  private readonly recordOffsets = new Map<string, number>();

  get(topic: string, partition: number): CommittedOffset | undefined {
    return this.committed.get(topic)?.get(partition);
  }

  /** Offsets committed or being committed. */
  get isEmpty(): boolean {
    return this.committed.size === 0 && this.pending.size === 0 && this.pendingTxn.size === 0;
  }

  /** Sets a committed offset; `logOffset` is its record's offset in `__consumer_offsets` (-1: unknown). */
  put(topic: string, partition: number, value: CommittedOffset, logOffset = -1): void {
    this.recordOffsets.set(pendingKey(topic, partition), logOffset);
    let byPartition = this.committed.get(topic);
    if (!byPartition) {
      byPartition = new Map();
      this.committed.set(topic, byPartition);
    }
    byPartition.set(partition, value);
  }

  /** Removes a committed offset and cancels the commits of it being written. */
  remove(topic: string, partition: number): CommittedOffset | undefined {
    const key = pendingKey(topic, partition);
    this.pending.delete(key);
    this.recordOffsets.delete(key);
    for (const [producerId, offsets] of this.pendingTxn) if (offsets.delete(key) && offsets.size === 0) this.pendingTxn.delete(producerId);
    const byPartition = this.committed.get(topic);
    const value = byPartition?.get(partition);
    if (byPartition && value) {
      byPartition.delete(partition);
      if (byPartition.size === 0) this.committed.delete(topic);
    }
    return value;
  }

  /** Removes every committed offset and cancels every commit being written; returns what was committed. */
  removeAll(): TopicPartition[] {
    const removed = this.all().map(({ topic, partition }) => ({ topic, partition }));
    for (const r of removed) this.remove(r.topic, r.partition);
    this.pending.clear();
    this.pendingTxn.clear();
    return removed;
  }

  /** Removes the committed offsets of a topic (and cancels the commits of those partitions being written). */
  removeTopic(topic: string): TopicPartition[] {
    const byPartition = this.committed.get(topic);
    if (!byPartition) return [];
    const removed = [...byPartition.keys()].map((partition) => ({ topic, partition }));
    for (const r of removed) this.remove(r.topic, r.partition);
    return removed;
  }

  all(): Array<{ topic: string; partition: number; value: CommittedOffset }> {
    const out: Array<{ topic: string; partition: number; value: CommittedOffset }> = [];
    for (const [topic, byPartition] of this.committed) for (const [partition, value] of byPartition) out.push({ topic, partition, value });
    return out;
  }

  /** A commit of the partition is being written, or a transaction's offset of it waits for its marker. */
  hasPendingCommit(topic: string, partition: number): boolean {
    const key = pendingKey(topic, partition);
    if (this.pending.has(key)) return true;
    for (const offsets of this.pendingTxn.values()) if (offsets.has(key)) return true;
    return false;
  }

  /** Keeps a written transactional offset of the producer until its transaction's marker (a later one replaces it). */
  putPendingTransactional(producerId: number, topic: string, partition: number, value: CommittedOffset, logOffset: number): void {
    let offsets = this.pendingTxn.get(producerId);
    if (!offsets) this.pendingTxn.set(producerId, (offsets = new Map()));
    offsets.set(pendingKey(topic, partition), { topic, partition, value, logOffset });
  }

  /**
   * The producer's transaction ended: its offsets are applied (commit; each only over a committed offset
   * whose record is older) or dropped (abort); returns how many were pending.
   */
  completeTransaction(producerId: number, commit: boolean): number {
    const offsets = this.pendingTxn.get(producerId);
    if (!offsets) return 0;
    this.pendingTxn.delete(producerId);
    if (!commit) return offsets.size;
    for (const [key, o] of offsets) {
      const current = this.get(o.topic, o.partition) === undefined ? undefined : (this.recordOffsets.get(key) ?? -1);
      if (current === undefined || current < o.logOffset) this.put(o.topic, o.partition, o.value, o.logOffset);
    }
    return offsets.size;
  }

  /** Producers with transactional offsets waiting for their marker. */
  get pendingTransactions(): number {
    return this.pendingTxn.size;
  }

  /** Notes a commit being written, under its token. */
  beginCommit(topic: string, partition: number, token: object): void {
    const key = pendingKey(topic, partition);
    let tokens = this.pending.get(key);
    if (!tokens) this.pending.set(key, (tokens = new Set()));
    tokens.add(token);
  }

  /** The commit is still pending: not cancelled by a removal since it began. */
  isCommitPending(topic: string, partition: number, token: object): boolean {
    return this.pending.get(pendingKey(topic, partition))?.has(token) ?? false;
  }

  /** Notes a commit written (or failed). */
  endCommit(topic: string, partition: number, token: object): void {
    const key = pendingKey(topic, partition);
    const tokens = this.pending.get(key);
    if (!tokens?.delete(token)) return;
    if (tokens.size === 0) this.pending.delete(key);
  }

  /** Removes and returns the offsets the rule lets expire at `now`; offsets with a commit being written are kept. */
  removeExpired(now: number, retentionMs: number, rule: ExpiryRule): TopicPartition[] {
    const expired: TopicPartition[] = [];
    for (const { topic, partition, value } of this.all()) {
      if (rule.keep.has(topic) || this.hasPendingCommit(topic, partition)) continue;
      const due = value.expireTimestamp !== undefined ? now >= value.expireTimestamp : now - rule.base(value) >= retentionMs;
      if (due) expired.push({ topic, partition });
    }
    for (const e of expired) this.remove(e.topic, e.partition);
    return expired;
  }
}

function pendingKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
