/**
 * The group coordinator for classic consumer groups, consumer groups of
 * the consumer protocol (KIP-848, consumer-group-heartbeat.ts) and share
 * groups (KIP-932, share-group-heartbeat.ts) (Kafka's
 * GroupCoordinatorService, single node: this broker coordinates every group):
 * the facade the handlers and the metrics call. It runs on the coordinator
 * runtime (src/coordinator/coordinator-runtime.ts) over `__consumer_offsets`:
 * each group lives in the shard of its partition (groupPartition(groupId),
 * as Kafka chooses it), and the facade routes every request there.
 *
 * Where things are:
 * - group-coordinator-shard.ts: a shard, put together from the store,
 *   the classic rebalance protocol (classic-rebalance.ts, member-sessions.ts),
 *   the offset manager (offset-manager.ts) and the consumer protocol
 *   (consumer-group-heartbeat.ts, with the classic members of consumer
 *   groups, classic-members.ts, and the migration between the two,
 *   group-migration.ts);
 * - group-admin.ts: describe, list and delete groups, a deleted topic's
 *   offsets, the overview for metrics (across shards);
 * - group-records.ts, group-loader.ts, offsets-records.ts: the records in
 *   `__consumer_offsets`, their loading and their bytes;
 * - group.ts, group-member.ts, group-offsets.ts: a group, its members and
 *   its committed offsets;
 * - group-config.ts: the broker settings the coordinator reads;
 *   group-configs.ts: a group's own configs (GROUP resources);
 *   consumer-group-retention.ts: offset retention of consumer groups.
 *
 * Share groups: ShareGroupHeartbeat, ShareGroupDescribe and the offsets'
 * admin (DescribeShareGroupOffsets' topics, AlterShareGroupOffsets,
 * DeleteShareGroupOffsets, share/share-group-offsets.ts); the coordinator is
 * the ShareMembership (src/share/share-membership.ts) the share-fetch side
 * asks about members and hears state resets from, and takes the share
 * coordinator's state (ShareStatePersister) as an optional dependency.
 *
 * Loading: on start every partition of an existing `__consumer_offsets` is
 * replayed in the background; requests for groups of a partition still
 * loading get COORDINATOR_LOAD_IN_PROGRESS (SyncGroup: REBALANCE_IN_PROGRESS,
 * Heartbeat: NONE, as Kafka). After close (broker shutdown) requests get
 * COORDINATOR_NOT_AVAILABLE; parked JoinGroup and SyncGroup requests are
 * answered NOT_COORDINATOR.
 */
import { ErrorCode, errorInfo, KafkaError } from '../../protocol/index.js';
import { CoordinatorRuntime } from '../coordinator/coordinator-runtime.js';
import type { InternalTopicHost, InternalTopicInfo } from '../coordinator/internal-topic.js';
import type { Logger } from '../logger.js';
import type { MemberLeftListener, ShareMembership, SharePartitions, StateResetListener } from '../share/share-membership.js';
import type { ShareStatePersister } from '../share/share-state-api.js';
import type { GroupSummary } from './group.js';
import { consumerGroupOverview, deleteGroups, describeGroup, groupOverview, listGroups, removeTopicOffsets, type GroupRouting } from './group-admin.js';
import { groupConfigOf, type GroupConfigView } from './group-config.js';
import { GroupCoordinatorShard } from './group-coordinator-shard.js';
import { ConsumerGroupStats } from './consumer/consumer-group-stats.js';
import { consumerHeartbeatError, type ConsumerHeartbeatParams, type ConsumerHeartbeatResult, type DescribedConsumerGroup, type TopicLookup } from './consumer-group-heartbeat.js';
import { joinError, syncError, type JoinResult, type SyncResult } from './group-member.js';
import { groupPartition } from './group-partition.js';
import { groupRecordSerde, type GroupCoordinatorRecord } from './group-records.js';
import type {
  CommitParams,
  ConsumerGroupOverview,
  DeleteOffsetsResult,
  FetchOffsetsResult,
  GroupOverview,
  HeartbeatParams,
  JoinParams,
  LeaveResult,
  LeavingMember,
  ListedGroup,
  PartitionLag,
  SyncParams,
  TopicPartitions,
  TxnCommitParams,
} from './group-requests.js';
import { offsetsTopic, type OffsetsTopic } from './offsets-topic.js';
import { shareHeartbeatError, type DescribedShareGroup, type ShareHeartbeatParams, type ShareHeartbeatResult } from './share-group-heartbeat.js';
import type { AlterShareOffsetsResult, AlterShareOffsetsTopic, DeleteShareOffsetsResult } from './share/share-group-offsets.js';

export type * from './group-requests.js';
export { NEW_MEMBER_JOIN_TIMEOUT_MS } from './member-sessions.js';

/** A partition of a topic as consumer lag reads it. */
export interface LagPartition {
  readonly log: { readonly highWatermark: number };
}

/** What the group coordinator uses of the broker. */
export interface GroupCoordinatorDeps {
  /** The broker configuration's typed getters (group-config.ts lists the keys). */
  readonly config: GroupConfigView;
  readonly logger: Logger;
  /** The topics: `__consumer_offsets` looked up and created; partitions' high watermarks for consumer lag. */
  readonly topics: Omit<InternalTopicHost, 'get'> & {
    partition(topic: string, partition: number): LagPartition | undefined;
    /** A topic by name, with its id: the consumer protocol resolves subscriptions to topic ids. */
    get(name: string): (InternalTopicInfo & { readonly topicId: string }) | undefined;
    /** The configs set on a group (group-configs.ts), stored with the topics. */
    groupConfigs?(groupId: string): Readonly<Record<string, string>>;
    /** Every topic: the consumer protocol resolves regular expressions against their names. */
    all(): ReadonlyArray<{ readonly name: string }>;
    /** Moves on when a topic name comes or goes (TopicManager.topicNamesVersion). */
    readonly topicNamesVersion: number;
  };
  /** The share coordinator's share-partition state; without it share-partitions count as initialized at once. */
  readonly shareState?: ShareStatePersister;
}

export class GroupCoordinator implements ShareMembership {
  private readonly runtime: CoordinatorRuntime<GroupCoordinatorShard, GroupCoordinatorRecord>;
  private readonly routing: GroupRouting;
  private readonly log: Logger;
  private readonly memberLeftListeners = new Set<MemberLeftListener>();
  private readonly stateResetListeners = new Set<StateResetListener>();
  /** What the consumer protocol counts for the metrics (consumer/consumer-group-stats.ts), for every shard. */
  readonly consumerStats = new ConsumerGroupStats();

  private constructor(private readonly deps: GroupCoordinatorDeps) {
    const config = groupConfigOf(deps.config);
    const log = deps.logger.child({ component: 'group-coordinator' });
    this.log = log;
    const topics = deps.topics;
    const consumerTopics: TopicLookup = {
      get: (name) => topics.get(name),
      names: () => topics.all().map((t) => t.name),
      get namesVersion() {
        return topics.topicNamesVersion;
      },
    };
    this.runtime = new CoordinatorRuntime({
      topic: offsetsTopic(deps.config, deps.topics, deps.logger),
      serde: groupRecordSerde,
      // every record of __consumer_offsets sets (or removes) its key's state: compaction's premise
      latestPerKey: true,
      logger: log,
      newShard: (ctx) =>
        new GroupCoordinatorShard(ctx, config, log, consumerTopics, (groupId) => deps.topics.groupConfigs?.(groupId) ?? {}, this.consumerStats, {
          persister: deps.shareState,
          memberLeft: (groupId, memberId, reason) => {
            for (const listener of this.memberLeftListeners) listener(groupId, memberId, reason);
          },
          stateReset: (groupId, topicId, partitions) => {
            for (const listener of this.stateResetListeners) listener(groupId, topicId, partitions);
          },
        }),
    });
    this.routing = {
      unavailable: (groupId, allowEmptyId) => this.unavailable(groupId, allowEmptyId),
      shardOf: (groupId) => this.runtime.activeShard(this.partitionFor(groupId)),
      served: () => this.runtime.activeShards(),
    };
  }

  /** Starts the coordinator; existing `__consumer_offsets` partitions are loaded in the background. */
  static start(deps: GroupCoordinatorDeps): GroupCoordinator {
    const c = new GroupCoordinator(deps);
    c.runtime.startLoading();
    return c;
  }

  /** Resolves once every partition has been loaded. */
  whenLoaded(): Promise<void> {
    return this.runtime.whenLoaded();
  }

  get offsetsTopic(): OffsetsTopic {
    return this.runtime.topic;
  }

  partitionFor(groupId: string): number {
    return groupPartition(groupId, this.runtime.topic.partitionCount);
  }

  /**
   * Stops the coordinator (broker shutdown): parked JoinGroup and SyncGroup
   * requests are answered NOT_COORDINATOR, timers stop, loading ends.
   */
  close(): Promise<void> {
    return this.runtime.close();
  }

  // ------------------------------------------------------------ the classic protocol

  join(p: JoinParams): Promise<JoinResult> {
    const error = this.unavailable(p.groupId, false);
    if (error !== undefined) return Promise.resolve(joinError(p.memberId, error));
    const shard = this.shardOf(p.groupId);
    // a share group keeps its id from the classic protocol (Kafka's answer to a JoinGroup of another group type)
    if (shard.share.get(p.groupId) !== undefined) return Promise.resolve(joinError(p.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    const consumerGroup = shard.consumer.get(p.groupId);
    if (consumerGroup !== undefined) {
      // a consumer group with members takes the member as a classic member; an empty one gives its id up
      if (consumerGroup.members.size > 0) return shard.classicMembers.join(consumerGroup, p);
      shard.consumer.remove(p.groupId);
    }
    return shard.rebalance.join(p);
  }

  sync(p: SyncParams): Promise<SyncResult> {
    const error = this.unavailable(p.groupId, false);
    // a coordinator that is loading has lost the rebalance: the member must rejoin
    if (error === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    if (error !== undefined) return Promise.resolve(syncError(error));
    const shard = this.shardOf(p.groupId);
    const consumerGroup = shard.consumer.get(p.groupId);
    if (consumerGroup !== undefined) {
      if (consumerGroup.members.size === 0) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      return Promise.resolve(shard.classicMembers.sync(consumerGroup, p));
    }
    return shard.rebalance.sync(p);
  }

  heartbeat(p: HeartbeatParams): number {
    const error = this.unavailable(p.groupId, false);
    // loading: answer blindly, the member learns about the rebalance later
    if (error === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return ErrorCode.NONE;
    if (error !== undefined) return error;
    const shard = this.shardOf(p.groupId);
    const consumerGroup = shard.consumer.get(p.groupId);
    if (consumerGroup !== undefined) return shard.classicMembers.heartbeat(consumerGroup, p);
    const group = shard.store.get(p.groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    return shard.sessions.heartbeat(group, p);
  }

  leave(groupId: string, leaving: readonly LeavingMember[]): LeaveResult | Promise<LeaveResult> {
    const error = this.unavailable(groupId, false);
    if (error !== undefined) return { errorCode: error, members: [] };
    const shard = this.shardOf(groupId);
    const consumerGroup = shard.consumer.get(groupId);
    if (consumerGroup !== undefined) return shard.classicMembers.leave(consumerGroup, leaving);
    return shard.sessions.leave(shard.store.get(groupId), leaving);
  }

  // ------------------------------------------------------------ the consumer protocol (KIP-848)

  consumerGroupHeartbeat(p: ConsumerHeartbeatParams): Promise<ConsumerHeartbeatResult> {
    const error = p.groupId === '' ? ErrorCode.INVALID_REQUEST : this.unavailable(p.groupId, false);
    if (error !== undefined) {
      // answered here, not by a shard: counted here
      this.consumerStats.heartbeatAnswered(p.memberEpoch, error);
      return Promise.resolve(consumerHeartbeatError(error, error === ErrorCode.INVALID_REQUEST ? "GroupId can't be empty." : null));
    }
    const shard = this.shardOf(p.groupId);
    if (shard.share.get(p.groupId) !== undefined) {
      this.consumerStats.heartbeatAnswered(p.memberEpoch, ErrorCode.GROUP_ID_NOT_FOUND);
      return Promise.resolve(consumerHeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} is not a consumer group.`));
    }
    return shard.consumer.heartbeat(p);
  }

  /** ConsumerGroupDescribe: each group's description, or its error. */
  describeConsumerGroups(groupIds: readonly string[]): Array<{ groupId: string; result: DescribedConsumerGroup | KafkaError }> {
    return groupIds.map((groupId) => {
      const error = this.unavailable(groupId, false);
      if (error !== undefined) return { groupId, result: new KafkaError(error) };
      return { groupId, result: this.shardOf(groupId).consumer.describe(groupId) };
    });
  }

  // ------------------------------------------------------------ share groups (KIP-932)

  shareGroupHeartbeat(p: ShareHeartbeatParams): Promise<ShareHeartbeatResult> {
    if (p.groupId === '') return Promise.resolve(shareHeartbeatError(ErrorCode.INVALID_REQUEST, "GroupId can't be empty."));
    const error = this.unavailable(p.groupId, false);
    if (error !== undefined) return Promise.resolve(shareHeartbeatError(error));
    return this.shardOf(p.groupId).share.heartbeat(p);
  }

  /** ShareGroupDescribe: each group's description, or its error. */
  describeShareGroups(groupIds: readonly string[]): Array<{ groupId: string; result: DescribedShareGroup | KafkaError }> {
    return groupIds.map((groupId) => {
      const error = this.unavailable(groupId, false);
      if (error !== undefined) return { groupId, result: new KafkaError(error) };
      return { groupId, result: this.shardOf(groupId).share.describe(groupId) };
    });
  }

  /**
   * DescribeShareGroupOffsets: the share group's initialized share-partitions by topic, or its error
   * (INVALID_GROUP_ID for "", GROUP_ID_NOT_FOUND for no share group of that id, the coordinator's own).
   */
  shareGroupInitializedTopics(groupId: string): Array<{ topicId: string; topicName: string; partitions: number[] }> | KafkaError {
    if (groupId === '') return new KafkaError(ErrorCode.INVALID_GROUP_ID);
    const error = this.unavailable(groupId, false);
    if (error !== undefined) return new KafkaError(error);
    return this.shardOf(groupId).share.initializedTopics(groupId);
  }

  isMember(groupId: string, memberId: string): boolean {
    return this.assignedPartitions(groupId, memberId) !== undefined;
  }

  assignedPartitions(groupId: string, memberId: string): SharePartitions | undefined {
    if (groupId === '' || this.unavailable(groupId, false) !== undefined) return undefined;
    return this.shardOf(groupId).share.assignedPartitions(groupId, memberId);
  }

  onMemberLeft(listener: MemberLeftListener): () => void {
    this.memberLeftListeners.add(listener);
    return () => this.memberLeftListeners.delete(listener);
  }

  onStateReset(listener: StateResetListener): () => void {
    this.stateResetListeners.add(listener);
    return () => this.stateResetListeners.delete(listener);
  }

  /**
   * AlterShareGroupOffsets: sets the start offsets of an empty share group's share-partitions (the group is
   * created when there is none) and resets their state; INVALID_GROUP_ID for "", the coordinator's errors.
   */
  alterShareGroupOffsets(groupId: string, topics: readonly AlterShareOffsetsTopic[]): Promise<AlterShareOffsetsResult> {
    const error = this.unavailable(groupId, false);
    if (error !== undefined) return Promise.resolve({ errorCode: error, errorMessage: errorInfo(error).message, topics: [] });
    return this.shardOf(groupId).share.alterOffsets(groupId, topics);
  }

  /**
   * DeleteShareGroupOffsets: deletes the state of whole topics' share-partitions of an empty share group;
   * INVALID_GROUP_ID for "", the coordinator's errors.
   */
  deleteShareGroupOffsets(groupId: string, topicNames: readonly string[]): Promise<DeleteShareOffsetsResult> {
    const error = this.unavailable(groupId, false);
    if (error !== undefined) return Promise.resolve({ errorCode: error, errorMessage: errorInfo(error).message, topics: [] });
    return this.shardOf(groupId).share.deleteOffsets(groupId, topicNames);
  }

  // ------------------------------------------------------------ offsets

  /** Commits offsets; resolves to one error code per entry of `p.offsets`, in order. */
  commitOffsets(p: CommitParams): Promise<number[]> {
    const error = this.unavailable(p.groupId, true);
    if (error !== undefined) return Promise.resolve(p.offsets.map(() => error));
    return this.shardOf(p.groupId).offsets.commit(p);
  }

  /** Commits offsets in a producer's transaction (TxnOffsetCommit); one error code per entry of `p.offsets`. */
  async commitTransactionalOffsets(p: TxnCommitParams): Promise<number[]> {
    const error = this.unavailable(p.groupId, false) ?? (await p.verifyTransaction?.()) ?? ErrorCode.NONE;
    // (a verification that waited: the group's partition is checked again)
    const after = error === ErrorCode.NONE ? (this.unavailable(p.groupId, false) ?? ErrorCode.NONE) : error;
    if (after !== ErrorCode.NONE) return p.offsets.map(() => after);
    return this.shardOf(p.groupId).offsets.commitTransactional(p);
  }

  /**
   * A COMMIT (or ABORT) marker of the producer was written to `__consumer_offsets` partition `partition`:
   * the producer's transactional offsets of that partition's groups are applied (or dropped). A partition
   * not served (loading, closed) has none in memory.
   */
  completeTransactionalOffsets(partition: number, producerId: number, commit: boolean): void {
    if (this.runtime.partitionError(partition) !== undefined) return;
    this.runtime.activeShard(partition).offsets.completeTransaction(producerId, commit);
  }

  /**
   * Committed offsets of a group: of the given partitions, or (null) of every
   * partition with a committed offset. Partitions without one get offset -1.
   * `member` (OffsetFetch v9+) is checked against a consumer group's member and epoch.
   */
  fetchOffsets(groupId: string, requested: readonly TopicPartitions[] | null, requireStable: boolean, member?: { memberId: string | null; memberEpoch: number }): FetchOffsetsResult {
    const error = this.unavailable(groupId, true);
    if (error !== undefined) return { errorCode: error, topics: [] };
    const shard = this.shardOf(groupId);
    // v9+ of a consumer group: the member asks at its epoch (ignored for classic groups)
    const consumerGroup = member === undefined ? undefined : shard.consumer.get(groupId);
    if (consumerGroup !== undefined && member !== undefined) {
      const memberError = shard.consumer.validateOffsetFetch(consumerGroup, member.memberId, member.memberEpoch);
      if (memberError !== undefined) return { errorCode: memberError, topics: [] };
    }
    return shard.offsets.fetch(groupId, requested, requireStable);
  }

  /** Deletes offsets of a group (OffsetDelete): the group error, or an error per requested partition. */
  async deleteOffsets(groupId: string, requested: readonly TopicPartitions[]): Promise<DeleteOffsetsResult> {
    const error = this.unavailable(groupId, false);
    if (error !== undefined) return { errorCode: error, partitions: new Map() };
    return this.shardOf(groupId).offsets.delete(groupId, requested);
  }

  /** One pass of offset retention over every shard (each shard also runs it every offsets.retention.check.interval.ms). */
  async expireOffsets(now = Date.now()): Promise<number> {
    if (this.runtime.isClosed) return 0;
    let removed = 0;
    const writes: Array<Promise<void>> = [];
    for (const shard of this.runtime.activeShards()) {
      const pass = shard.offsets.expire(now);
      removed += pass.removed;
      writes.push(pass.written);
    }
    await Promise.all(writes);
    if (removed > 0) this.log.info({ removed }, 'removed expired offsets');
    return removed;
  }

  // ------------------------------------------------------------ describe / list / delete

  describe(groupId: string): { errorCode: number; summary: GroupSummary } {
    return describeGroup(this.routing, groupId);
  }

  /** Groups, filtered by state (case-insensitive) and type ("classic", "consumer", "share"); empty filters match all. */
  list(states: readonly string[], types: readonly string[]): { errorCode: number; groups: ListedGroup[] } {
    if (this.runtime.isClosed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const errorCode = this.runtime.anyLoading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
    return { errorCode, groups: listGroups(this.routing, states, types) };
  }

  /** Deletes empty groups with their offsets; one error code per group id. */
  deleteGroups(groupIds: readonly string[]): Promise<Map<string, number>> {
    return deleteGroups(this.routing, groupIds);
  }

  /**
   * To be called when a topic is deleted: removes its offsets from every group. When the topic is
   * `__consumer_offsets` itself, every partition is resigned instead (Kafka's onResignation on the metadata
   * update that deletes it): the groups are unloaded, parked requests answered NOT_COORDINATOR, and the next
   * request finds an empty coordinator over a new topic, as a restart would.
   */
  onTopicDeleted(topic: string): Promise<void> {
    if (topic === this.runtime.topic.name) {
      this.runtime.resignAll();
      this.log.warn(`${topic} was deleted: every group and committed offset is gone`);
      return Promise.resolve();
    }
    return removeTopicOffsets(this.routing, topic);
  }

  // ------------------------------------------------------------ metrics

  /** Consumer lag of every committed offset of every group, for partitions that exist. */
  consumerLag(): PartitionLag[] {
    const highWatermarkOf = (topic: string, partition: number): number | undefined => this.deps.topics.partition(topic, partition)?.log.highWatermark;
    return this.runtime.activeShards().flatMap((shard) => shard.offsets.lag(highWatermarkOf));
  }

  /** State, protocol type, member count and generation of every group. */
  groupOverview(): GroupOverview[] {
    return groupOverview(this.routing);
  }

  /** State, member count and epochs of every consumer group of the consumer protocol (KIP-848). */
  consumerGroupOverview(): ConsumerGroupOverview[] {
    return consumerGroupOverview(this.routing);
  }

  // ------------------------------------------------------------ routing

  /**
   * The checks every group request starts with: the group id (OffsetCommit,
   * OffsetFetch, DescribeGroups and DeleteGroups accept the empty one), then
   * whether the group's partition is served (coordinator closed, partition
   * loading).
   */
  private unavailable(groupId: string, allowEmptyId: boolean): number | undefined {
    if (!allowEmptyId && groupId === '') return ErrorCode.INVALID_GROUP_ID;
    return this.runtime.partitionError(this.partitionFor(groupId));
  }

  private shardOf(groupId: string): GroupCoordinatorShard {
    return this.runtime.activeShard(this.partitionFor(groupId));
  }
}
