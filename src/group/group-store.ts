/**
 * The groups of one shard (one partition of `__consumer_offsets`) and how
 * their changes are written there: offset commits (applied when replayed,
 * offset-manager.ts), a group's metadata after a rebalance, and tombstones
 * for removed offsets and dead groups. This module is what the rebalance
 * protocol, the offset manager and the admin operations share.
 *
 * Group metadata and tombstones change the group in memory first and are
 * written with `replayRecords: false` (coordinator-runtime.ts): the group in
 * memory is the authority, its metadata record a snapshot of it, as Kafka's
 * classic groups. A failed group metadata write is answered with the error
 * Kafka's coordinator maps it to; a failed tombstone is only logged (the
 * removal stands in memory, and the next cleanup writes it again).
 */
import { ErrorCode } from '../../protocol/index.js';
import type { ShardContext, WriteOutcome } from '../coordinator/coordinator-shard.js';
import type { CoordinatorTimer } from '../coordinator/coordinator-timer.js';
import type { TransactionalProducer } from '../coordinator/internal-topic.js';
import type { Logger } from '../logger.js';
import type { Group } from './group.js';
import type { GroupConfig } from './group-config.js';
import type { TopicPartition } from './group-offsets.js';
import { OFFSETS_TOPIC } from './group-partition.js';
import { groupMetadataRecord, groupTombstone, offsetCommitRecord, type GroupCoordinatorRecord, type OffsetCommitRecord } from './group-records.js';

export class GroupStore {
  private readonly groups = new Map<string, Group>();
  private live = true;

  constructor(
    private readonly ctx: ShardContext<GroupCoordinatorRecord>,
    readonly config: GroupConfig,
    readonly log: Logger,
  ) {}

  get partition(): number {
    return this.ctx.partition;
  }

  get timer(): CoordinatorTimer {
    return this.ctx.timer;
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

  /** The group is still the one the shard holds (not deleted, unloaded or replaced). */
  isCurrent(group: Group): boolean {
    return this.live && this.groups.get(group.groupId) === group;
  }

  /** Forgets every group (the shard is unloaded); returns them. */
  unload(): Group[] {
    this.live = false;
    const all = this.all();
    this.groups.clear();
    return all;
  }

  /** Writes the group's metadata record; resolves to NONE or the error as Kafka's storeGroup maps it. */
  async storeGroup(group: Group, assignment: ReadonlyMap<string, Buffer>): Promise<number> {
    const { errorCode } = await this.ctx.write({ records: [groupMetadataRecord(group, assignment)], response: undefined, replayRecords: false, sync: this.config.syncWrites });
    return appendErrorOf(errorCode, 'group');
  }

  /** Writes a consumer group's records (consumer-group-log.ts); resolves to NONE or the error as for a group metadata write. */
  async writeConsumerGroupRecords(records: readonly GroupCoordinatorRecord[]): Promise<number> {
    if (records.length === 0) return ErrorCode.NONE;
    const { errorCode } = await this.ctx.write({ records, response: undefined, replayRecords: false, sync: this.config.syncWrites });
    return appendErrorOf(errorCode, 'group');
  }

  /** Writes offset commits, replayed once appended (offset-manager.ts); in the producer's transaction when given. */
  writeCommits(records: readonly OffsetCommitRecord[], transaction?: TransactionalProducer): Promise<WriteOutcome<undefined>> {
    return this.ctx.write({ records, response: undefined, sync: this.config.syncWrites, ...(transaction && { transaction }) });
  }

  /**
   * Removes the offsets `select` picks from each group, turns groups left
   * Empty without offsets Dead and forgets them, at once; then writes
   * tombstones for both (Kafka's cleanupGroupMetadata; a group tombstone only
   * for groups that had a generation, others never wrote metadata).
   * Tombstones are not written durably: a lost one is written again by the
   * next cleanup. Returns the number of offsets removed and the write.
   */
  cleanup(groups: readonly Group[], select: (g: Group) => TopicPartition[]): { removed: number; written: Promise<void> } {
    let removed = 0;
    const tombstones: GroupCoordinatorRecord[] = [];
    for (const group of groups) {
      const offsets = select(group);
      if (group.is('Empty') && !group.hasOffsets()) group.transitionTo('Dead', Date.now());
      for (const r of offsets) tombstones.push(offsetCommitRecord(group.groupId, r.topic, r.partition, null));
      if (group.is('Dead') && this.groups.get(group.groupId) === group) {
        this.remove(group);
        if (group.generationId > 0) tombstones.push(groupTombstone(group.groupId));
      }
      removed += offsets.length;
    }
    const written = this.ctx.write({ records: tombstones, response: undefined, replayRecords: false, sync: false }).then(({ errorCode }) => {
      if (errorCode !== ErrorCode.NONE) this.log.warn({ partition: this.partition, error: errorCode }, `failed to write tombstones to ${OFFSETS_TOPIC}`);
    });
    return { removed, written };
  }
}

/**
 * How Kafka maps a failed append to `__consumer_offsets` to the error of the
 * request that caused it: an offset commit or a group metadata write
 * (JoinGroup/SyncGroup).
 */
export function appendErrorOf(error: number, kind: 'commit' | 'group'): number {
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
