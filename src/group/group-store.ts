/**
 * The groups the coordinator holds and their persistence in
 * `__consumer_offsets` (Kafka's GroupMetadataManager): the group cache,
 * loading partitions on start (groups of a partition still loading are not
 * served), writing group metadata and offset commits, and removing offsets
 * and dead groups with tombstones. The coordinator decides *when*; this
 * module knows *how* things are stored.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Broker } from '../broker.js';
import type { Logger } from '../logger.js';
import type { CommittedOffset, Group, GroupState } from './group.js';
import { OFFSETS_TOPIC } from './group-partition.js';
import { loadOffsetsPartition } from './offsets-loader.js';
import { groupMetadataKey, groupMetadataValue, offsetCommitKey, offsetCommitValue } from './offsets-records.js';
import { OffsetsTopic, type OffsetsRecord } from './offsets-topic.js';

export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** -1 when unknown. */
  readonly leaderEpoch: number;
  readonly metadata: string | null;
  /** OffsetCommit v1's per-partition timestamp; -1 = now. */
  readonly commitTimestamp: number;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Consumer lag of one partition of one group: committed offset against the high watermark. */
export interface PartitionLag {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly committedOffset: number;
  readonly highWatermark: number;
  /** max(0, highWatermark - committedOffset) */
  readonly lag: number;
}

/** State of one group, for metrics. */
export interface GroupOverview {
  readonly groupId: string;
  readonly state: GroupState;
  readonly protocolType: string;
  readonly members: number;
  readonly generationId: number;
}

export interface GroupStoreOptions {
  /** Writes of group metadata and commits wait for fdatasync (acks=all with gregor.flush.acks.all). */
  readonly syncWrites: boolean;
  /** offset.metadata.max.bytes */
  readonly metadataMaxBytes: number;
}

const EMPTY = Buffer.alloc(0);

export class GroupStore {
  readonly offsetsTopic: OffsetsTopic;
  private readonly groups = new Map<string, Group>();
  /** Partitions of __consumer_offsets still being replayed. */
  private readonly loading = new Set<number>();
  private loaded: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly broker: Broker,
    private readonly log: Logger,
    private readonly opts: GroupStoreOptions,
  ) {
    this.offsetsTopic = new OffsetsTopic(broker);
  }

  get(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  add(group: Group): Group {
    this.groups.set(group.groupId, group);
    return group;
  }

  /** Forgets the group if it is the one held under its id. */
  remove(group: Group): void {
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }

  all(): Group[] {
    return [...this.groups.values()];
  }

  partitionFor(groupId: string): number {
    return this.offsetsTopic.partitionFor(groupId);
  }

  /** The group's partition is still being loaded. */
  isLoading(groupId: string): boolean {
    return this.loading.size > 0 && this.loading.has(this.partitionFor(groupId));
  }

  get anyLoading(): boolean {
    return this.loading.size > 0;
  }

  /**
   * Replays every partition of an existing `__consumer_offsets` in the
   * background, partition 0 first; `onLoaded` gets each group as its
   * partition finishes. Every partition counts as loading from this call on.
   */
  startLoading(onLoaded: (group: Group) => void): void {
    const topic = this.offsetsTopic.topic;
    if (!topic) return;
    for (let p = 0; p < topic.numPartitions; p++) this.loading.add(p);
    // the replay starts once the current startup step is done, so the broker listens (and
    // answers COORDINATOR_LOAD_IN_PROGRESS) while it loads instead of after
    this.loaded = new Promise((resolve) => setImmediate(resolve)).then(() => this.loadAll(topic.numPartitions, onLoaded));
  }

  /** Resolves once loading has finished (or stopped). */
  whenLoaded(): Promise<void> {
    return this.loaded;
  }

  /** Stops loading and forgets every group; resolves when a load in progress has stopped. */
  async close(): Promise<void> {
    this.stopped = true;
    this.groups.clear();
    await this.loaded.catch(() => undefined);
  }

  private async loadAll(partitions: number, onLoaded: (group: Group) => void): Promise<void> {
    const started = Date.now();
    let count = 0;
    for (let p = 0; p < partitions && !this.stopped; p++) {
      try {
        const groups = await loadOffsetsPartition(this.offsetsTopic, p, this.log);
        if (this.stopped) break;
        for (const group of groups) {
          this.groups.set(group.groupId, group);
          onLoaded(group);
          count++;
        }
      } catch (err) {
        this.log.error({ err, partition: p }, `failed to load ${OFFSETS_TOPIC} partition`);
      } finally {
        this.loading.delete(p);
      }
    }
    this.loading.clear();
    if (!this.stopped) this.log.info({ groups: count, ms: Date.now() - started }, `loaded groups from ${OFFSETS_TOPIC}`);
  }

  /** Writes the group's metadata record; resolves to NONE or the error as Kafka's storeGroup maps it. */
  async storeGroup(group: Group, assignment: ReadonlyMap<string, Buffer>): Promise<number> {
    const value = groupMetadataValue({
      protocolType: group.protocolType ?? '',
      generation: group.generationId,
      protocol: group.protocolName ?? null,
      leader: group.leaderId ?? null,
      currentStateTimestamp: group.stateTimestamp ?? -1,
      members: [...group.members.values()].map((m) => ({ ...m, subscription: group.metadataOf(m), assignment: assignment.get(m.memberId) ?? EMPTY })),
    });
    const error = await this.offsetsTopic.append(this.partitionFor(group.groupId), [{ key: groupMetadataKey(group.groupId), value }], this.opts.syncWrites);
    return appendErrorOf(error, 'group');
  }

  /**
   * Writes offset commits and applies them to the group once written.
   * Resolves to one error code per offset: OFFSET_METADATA_TOO_LARGE for
   * metadata over offset.metadata.max.bytes (not written), else the write's
   * outcome as Kafka maps it. `retentionTimeMs` (-1 = none) sets an explicit
   * expire time (OffsetCommit v2-4).
   */
  async storeOffsets(group: Group, offsets: readonly OffsetToCommit[], retentionTimeMs: number): Promise<number[]> {
    const now = Date.now();
    const expireTimestamp = retentionTimeMs === -1 ? undefined : now + retentionTimeMs;
    const fits = (o: OffsetToCommit): boolean => o.metadata === null || o.metadata.length <= this.opts.metadataMaxBytes;
    const accepted = offsets.filter(fits);
    if (accepted.length === 0) return offsets.map(() => ErrorCode.OFFSET_METADATA_TOO_LARGE);
    const values = accepted.map((o): CommittedOffset => ({
      offset: o.offset,
      leaderEpoch: o.leaderEpoch,
      metadata: o.metadata ?? '',
      commitTimestamp: o.commitTimestamp === -1 ? now : o.commitTimestamp,
      expireTimestamp,
    }));
    const records: OffsetsRecord[] = accepted.map((o, i) => ({ key: offsetCommitKey(group.groupId, o.topic, o.partition), value: offsetCommitValue(values[i]!) }));
    for (const o of accepted) group.beginPendingCommit(o.topic, o.partition);
    const appendError = await this.offsetsTopic.append(this.partitionFor(group.groupId), records, this.opts.syncWrites);
    accepted.forEach((o, i) => {
      // a commit whose offset was deleted meanwhile (OffsetDelete, DeleteGroups) is not applied
      const stillPending = group.endPendingCommit(o.topic, o.partition);
      if (appendError === ErrorCode.NONE && stillPending && !group.is('Dead')) group.putOffset(o.topic, o.partition, values[i]!);
    });
    const responseError = appendErrorOf(appendError, 'commit');
    return offsets.map((o) => (fits(o) ? responseError : ErrorCode.OFFSET_METADATA_TOO_LARGE));
  }

  /**
   * Removes the offsets `select` picks from each group, turns groups left
   * Empty without offsets Dead and forgets them, and writes tombstones for
   * both (Kafka's cleanupGroupMetadata; a group tombstone only for groups
   * that had a generation, others never wrote metadata). Tombstones are not
   * written durably: a lost one is written again by the next cleanup.
   * Returns the number of offsets removed.
   */
  async cleanup(groups: readonly Group[], select: (g: Group) => TopicPartition[]): Promise<number> {
    let removedCount = 0;
    const byPartition = new Map<number, OffsetsRecord[]>();
    for (const group of groups) {
      const removed = select(group);
      if (group.is('Empty') && !group.hasOffsets()) group.transitionTo('Dead', Date.now());
      const tombstones: OffsetsRecord[] = removed.map((r) => ({ key: offsetCommitKey(group.groupId, r.topic, r.partition), value: null }));
      if (group.is('Dead') && this.groups.get(group.groupId) === group) {
        this.remove(group);
        if (group.generationId > 0) tombstones.push({ key: groupMetadataKey(group.groupId), value: null });
      }
      removedCount += removed.length;
      if (tombstones.length === 0) continue;
      const partition = this.partitionFor(group.groupId);
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), ...tombstones]);
    }
    for (const [partition, records] of byPartition) {
      const error = await this.offsetsTopic.append(partition, records, false);
      if (error !== ErrorCode.NONE) this.log.warn({ partition, error }, `failed to write tombstones to ${OFFSETS_TOPIC}`);
    }
    return removedCount;
  }

  /** Consumer lag of every committed offset of every group, for partitions that exist. */
  consumerLag(): PartitionLag[] {
    const out: PartitionLag[] = [];
    for (const group of this.groups.values()) {
      if (group.is('Dead')) continue;
      for (const [topic, byPartition] of group.offsets) {
        for (const [partition, committed] of byPartition) {
          const state = this.broker.topics.partition(topic, partition);
          if (!state) continue;
          const highWatermark = state.log.highWatermark;
          out.push({ group: group.groupId, topic, partition, committedOffset: committed.offset, highWatermark, lag: Math.max(0, highWatermark - committed.offset) });
        }
      }
    }
    return out;
  }

  overview(): GroupOverview[] {
    return [...this.groups.values()].map((g) => ({ groupId: g.groupId, state: g.state, protocolType: g.protocolType ?? '', members: g.size, generationId: g.generationId }));
  }
}

/**
 * How Kafka maps a failed append to `__consumer_offsets` to the error of the
 * request that caused it: an offset commit or a group metadata write
 * (JoinGroup/SyncGroup).
 */
function appendErrorOf(error: number, kind: 'commit' | 'group'): number {
  switch (error) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return kind === 'commit' ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE : ErrorCode.UNKNOWN_SERVER_ERROR;
    case ErrorCode.REQUEST_TIMED_OUT:
      return kind === 'group' ? ErrorCode.REBALANCE_IN_PROGRESS : error;
    default:
      return error;
  }
}
