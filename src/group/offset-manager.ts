/**
 * Committed offsets of one shard's groups (Kafka's OffsetMetadataManager):
 * OffsetCommit, OffsetFetch, OffsetDelete, retention, and consumer lag.
 *
 * A commit is a write on the coordinator runtime whose records are replayed:
 * its offsets are pending (group-offsets.ts) until the append completes, then
 * the runtime replays the records here (`replayCommit`) and the commit is
 * answered. Commits from many members are appended as they come, so their
 * fdatasync rounds are shared. A failed append is answered with the error
 * Kafka maps it to and nothing is applied. A removal while a commit is in
 * flight (OffsetDelete, DeleteGroups, a deleted topic) cancels it: its replay
 * skips it, so the removed offset does not come back.
 *
 * A consumer group's commits (OffsetCommit and TxnOffsetCommit) are checked
 * against its member and the epochs of its assignment
 * (consumer/offset-commit-validation.ts, KIP-1251), then stored in the empty
 * classic group of its id that holds its offsets.
 *
 * Removals (OffsetDelete, retention) change the groups at once and write
 * tombstones (group-store.ts `cleanup`). A consumer group's offsets, held by
 * an empty classic group of its id, expire by the consumer groups' rule
 * (consumer-group-retention.ts), never by the classic one.
 *
 * Transactional commits (TxnOffsetCommit; Kafka's GroupMetadata
 * prepareTxnOffsetCommit / completePendingTxnOffsetCommit): the same
 * OffsetCommit records, written as the producer's transactional batch; once
 * written they wait in the group for the transaction's marker (group-offsets.ts),
 * which the transaction coordinator's marker writer reports through
 * `completeTransaction`: COMMIT applies them, ABORT drops them.
 */
import { ErrorCode } from '../../protocol/index.js';
import { Group } from './group.js';
import type { TopicPartition } from './group-offsets.js';
import { offsetCommitRecord, type OffsetCommitRecord } from './group-records.js';
import type { TransactionalProducer } from '../coordinator/internal-topic.js';
import type { CommitParams, DeleteOffsetsResult, FetchedOffset, FetchOffsetsResult, OffsetToCommit, PartitionLag, TopicPartitions, TxnCommitParams } from './group-requests.js';
import { appendErrorOf, type GroupStore } from './group-store.js';
import { validateCurrentMember, type MemberSessions } from './member-sessions.js';
import type { ConsumerGroups } from './consumer-group-heartbeat.js';
import type { ConsumerGroup } from './consumer-group.js';
import { consumerGroupExpiryRule, shouldDeleteConsumerGroup } from './consumer-group-retention.js';

/** The high watermark of a partition, undefined when it does not exist. */
export type HighWatermarkOf = (topic: string, partition: number) => number | undefined;

export class OffsetManager {
  constructor(
    private readonly store: GroupStore,
    private readonly sessions: MemberSessions,
    private readonly consumerGroups: ConsumerGroups,
  ) {}

  /** OffsetCommit to a group of a served partition; one error code per entry of `p.offsets`, in order. */
  commit(p: CommitParams): Promise<number[]> {
    const all = (code: number): Promise<number[]> => Promise.resolve(p.offsets.map(() => code));
    const consumerGroup = this.consumerGroups.get(p.groupId);
    if (consumerGroup !== undefined) {
      // a consumer group's offsets are held by an empty classic group of its id
      const error = this.validateConsumerGroupCommit(consumerGroup, p, false);
      if (error !== undefined) return all(error);
      return this.storeOffsets(this.offsetsHolder(p.groupId), p.offsets, p.retentionTimeMs);
    }
    let group = this.store.get(p.groupId);
    if (!group) {
      // a group without group management (simple consumer, admin) may commit
      if (p.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      group = this.store.add(new Group(p.groupId, 'Empty', Date.now()));
    }
    const commitError = this.validateOffsetCommit(group, p);
    if (commitError !== undefined) return all(commitError);
    switch (group.state) {
      case 'Empty':
        return this.storeOffsets(group, p.offsets, p.retentionTimeMs);
      case 'Stable':
      case 'PreparingRebalance': {
        // commits during PreparingRebalance are allowed: the heartbeat tells the member about the rebalance
        const member = group.members.get(p.memberId);
        if (member) this.sessions.scheduleHeartbeat(group, member);
        return this.storeOffsets(group, p.offsets, p.retentionTimeMs);
      }
      case 'CompletingRebalance':
        return all(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Dead':
        return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  }

  /**
   * TxnOffsetCommit to a group of a served partition; one error code per entry of `p.offsets`, in order.
   * Kafka's checks (ClassicGroup.validateOffsetCommit with isTransactional): a missing group is created
   * when the generation is -1 (else ILLEGAL_GENERATION); a dead one answers COORDINATOR_NOT_AVAILABLE; a
   * generation, member id or instance id (v3+) must name the current member and generation; without them
   * any group takes the offsets, and so does a group in CompletingRebalance.
   */
  commitTransactional(p: TxnCommitParams): Promise<number[]> {
    const all = (code: number): Promise<number[]> => Promise.resolve(p.offsets.map(() => code));
    const transaction = { producerId: p.producerId, producerEpoch: p.producerEpoch };
    const consumerGroup = this.consumerGroups.get(p.groupId);
    if (consumerGroup !== undefined) {
      const error = this.validateConsumerGroupCommit(consumerGroup, p, true);
      if (error !== undefined) return all(error);
      return this.storeOffsets(this.offsetsHolder(p.groupId), p.offsets, -1, transaction);
    }
    let group = this.store.get(p.groupId);
    if (!group) {
      if (p.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      group = this.store.add(new Group(p.groupId, 'Empty', Date.now()));
    }
    if (group.is('Dead')) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (!(p.generationId < 0 && group.is('Empty')) && (p.generationId >= 0 || p.memberId !== '' || p.groupInstanceId !== null)) {
      const error = validateCurrentMember(group, p.memberId, p.groupInstanceId);
      if (error !== undefined) return all(error);
      if (p.generationId !== group.generationId) return all(ErrorCode.ILLEGAL_GENERATION);
    }
    return this.storeOffsets(group, p.offsets, -1, transaction);
  }

  /**
   * A commit to a consumer group: its member and epoch checks (consumer/offset-commit-validation.ts), on the
   * partitions whose metadata fits (the others are answered OFFSET_METADATA_TOO_LARGE, unchecked, as Kafka).
   */
  private validateConsumerGroupCommit(group: ConsumerGroup, p: CommitParams | TxnCommitParams, transactional: boolean): number | undefined {
    const maxBytes = this.store.config.metadataMaxBytes;
    const partitions = p.offsets.filter((o) => o.metadata === null || o.metadata.length <= maxBytes);
    return this.consumerGroups.validateOffsetCommit(group, { memberId: p.memberId, memberEpoch: p.generationId, groupInstanceId: p.groupInstanceId, transactional, partitions });
  }

  /** The empty classic group of a consumer group's id that holds its committed offsets. */
  private offsetsHolder(groupId: string): Group {
    return this.store.get(groupId) ?? this.store.add(new Group(groupId, 'Empty', Date.now()));
  }

  /**
   * The producer's transaction ended with a marker on this shard's partition: its transactional offsets
   * are applied (commit) or dropped (abort), in every group of the shard.
   */
  completeTransaction(producerId: number, commit: boolean): number {
    let completed = 0;
    for (const group of this.store.all()) completed += group.offsets.completeTransaction(producerId, commit);
    return completed;
  }

  private validateOffsetCommit(group: Group, p: CommitParams): number | undefined {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (p.generationId >= 0 || p.memberId !== '' || p.groupInstanceId !== null) {
      const error = validateCurrentMember(group, p.memberId, p.groupInstanceId);
      if (error !== undefined) return error;
      if (p.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
      return undefined;
    }
    // outside group management only an empty group takes commits
    if (!group.is('Empty')) return ErrorCode.UNKNOWN_MEMBER_ID;
    return undefined;
  }

  /**
   * Writes offset commits; they are applied when replayed. Resolves to one
   * error code per offset: OFFSET_METADATA_TOO_LARGE for metadata over
   * offset.metadata.max.bytes (not written), else the write's outcome as
   * Kafka maps it. `retentionTimeMs` (-1 = none) sets an explicit expire
   * time (OffsetCommit v2-4).
   */
  private async storeOffsets(group: Group, offsets: readonly OffsetToCommit[], retentionTimeMs: number, transaction?: TransactionalProducer): Promise<number[]> {
    const now = Date.now();
    const expireTimestamp = retentionTimeMs === -1 ? undefined : now + retentionTimeMs;
    const maxBytes = this.store.config.metadataMaxBytes;
    const fits = (o: OffsetToCommit): boolean => o.metadata === null || o.metadata.length <= maxBytes;
    const accepted = offsets.filter(fits);
    if (accepted.length === 0) return offsets.map(() => ErrorCode.OFFSET_METADATA_TOO_LARGE);
    const records = accepted.map((o): OffsetCommitRecord => {
      const record = offsetCommitRecord(group.groupId, o.topic, o.partition, {
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata: o.metadata ?? '',
        commitTimestamp: o.commitTimestamp === -1 ? now : o.commitTimestamp,
        expireTimestamp,
      });
      return transaction === undefined ? record : { ...record, producerId: transaction.producerId };
    });
    // each record is its own pending-commit token: replayCommit applies it only while it is pending
    for (const r of records) group.offsets.beginCommit(r.topic, r.partition, r);
    const { errorCode } = await this.store.writeCommits(records, transaction);
    for (const r of records) group.offsets.endCommit(r.topic, r.partition, r);
    const responseError = appendErrorOf(errorCode, 'commit');
    return offsets.map((o) => (fits(o) ? responseError : ErrorCode.OFFSET_METADATA_TOO_LARGE));
  }

  /**
   * Applies a written commit (the runtime's replay after the append): unless
   * it was cancelled meanwhile (its offset removed, its group deleted).
   */
  replayCommit(record: OffsetCommitRecord, logOffset: number): void {
    const group = this.store.get(record.group);
    if (record.value === null || !group || group.is('Dead') || !group.offsets.isCommitPending(record.topic, record.partition, record)) return;
    if (record.producerId !== undefined) group.offsets.putPendingTransactional(record.producerId, record.topic, record.partition, record.value, logOffset);
    else group.offsets.put(record.topic, record.partition, record.value, logOffset);
  }

  /**
   * OffsetFetch for a group of a served partition: the committed offsets of
   * the given partitions, or (null) of every partition with a committed
   * offset. Partitions without one get offset -1.
   */
  fetch(groupId: string, requested: readonly TopicPartitions[] | null, requireStable: boolean): FetchOffsetsResult {
    const group = this.store.get(groupId);
    const live = group && !group.is('Dead') ? group : undefined;
    const none = (partition: number, errorCode: number = ErrorCode.NONE): FetchedOffset => ({ partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode });
    const one = (topic: string, partition: number): FetchedOffset => {
      if (!live) return none(partition);
      if (requireStable && live.offsets.hasPendingCommit(topic, partition)) return none(partition, ErrorCode.UNSTABLE_OFFSET_COMMIT);
      const o = live.offsets.get(topic, partition);
      if (!o) return none(partition);
      return { partition, offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE };
    };
    if (requested !== null) {
      return { errorCode: ErrorCode.NONE, topics: requested.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => one(t.topic, p)) })) };
    }
    const topics: Array<{ topic: string; partitions: FetchedOffset[] }> = [];
    if (live) {
      for (const [topic, byPartition] of live.offsets.committed) {
        topics.push({ topic, partitions: [...byPartition.keys()].map((p) => one(topic, p)) });
      }
    }
    return { errorCode: ErrorCode.NONE, topics };
  }

  /** OffsetDelete for a group of a served partition: the group error, or an error per requested partition. */
  async delete(groupId: string, requested: readonly TopicPartitions[]): Promise<DeleteOffsetsResult> {
    const partitions = new Map<string, Map<number, number>>();
    const set = (topic: string, partition: number, code: number): void => {
      let m = partitions.get(topic);
      if (!m) partitions.set(topic, (m = new Map()));
      m.set(partition, code);
    };
    const group = this.store.get(groupId);
    if (!group || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions };
    const eligible: TopicPartition[] = [];
    if (group.is('Empty')) {
      for (const t of requested) for (const p of t.partitions) eligible.push({ topic: t.topic, partition: p });
    } else if (group.protocolType === 'consumer') {
      for (const t of requested) {
        for (const p of t.partitions) {
          if (group.isSubscribedToTopic(t.topic)) set(t.topic, p, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
          else eligible.push({ topic: t.topic, partition: p });
        }
      }
    } else {
      return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions };
    }
    if (eligible.length > 0) {
      await this.store.cleanup([group], (g) => eligible.filter((e) => g.offsets.remove(e.topic, e.partition) !== undefined)).written;
      for (const e of eligible) set(e.topic, e.partition, ErrorCode.NONE);
    }
    return { errorCode: ErrorCode.NONE, partitions };
  }

  /**
   * One pass of offset retention over the shard's groups: removed at once, tombstones written. The holders
   * of consumer groups' offsets follow the consumer groups' rule (consumer-group-retention.ts), and an
   * empty consumer group without offsets is deleted.
   */
  expire(now: number): { removed: number; written: Promise<void> } {
    const retentionMs = this.store.config.retentionMs;
    for (const group of this.consumerGroups.all()) {
      if (this.store.get(group.groupId) === undefined && shouldDeleteConsumerGroup(group, false)) this.consumerGroups.remove(group.groupId);
    }
    return this.store.cleanup(this.store.all(), (g) => {
      const consumerGroup = this.consumerGroups.get(g.groupId);
      if (consumerGroup === undefined) return g.removeExpiredOffsets(now, retentionMs);
      const expired = g.offsets.removeExpired(now, retentionMs, consumerGroupExpiryRule(consumerGroup));
      if (shouldDeleteConsumerGroup(consumerGroup, g.hasOffsets())) this.consumerGroups.remove(g.groupId);
      return expired;
    });
  }

  /** Consumer lag of every committed offset of every group, for partitions that exist. */
  lag(highWatermarkOf: HighWatermarkOf): PartitionLag[] {
    const out: PartitionLag[] = [];
    for (const group of this.store.all()) {
      if (group.is('Dead')) continue;
      for (const [topic, byPartition] of group.offsets.committed) {
        for (const [partition, committed] of byPartition) {
          const highWatermark = highWatermarkOf(topic, partition);
          if (highWatermark === undefined) continue;
          out.push({ group: group.groupId, topic, partition, committedOffset: committed.offset, highWatermark, lag: Math.max(0, highWatermark - committed.offset) });
        }
      }
    }
    return out;
  }
}
