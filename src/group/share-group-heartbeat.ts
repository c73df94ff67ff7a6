/**
 * The share groups (KIP-932) of one shard and ShareGroupHeartbeat, as Kafka
 * 4.x's GroupMetadataManager.shareGroupHeartbeat runs it, with the members'
 * session timers and the initialization of share-partition state; and the
 * admin operations that change a group's share-partition state (DeleteGroups,
 * AlterShareGroupOffsets, DeleteShareGroupOffsets: `delete`, `alterOffsets`,
 * `deleteOffsets`, planned by share/share-group-offsets.ts), each on an empty
 * group only, each announcing the share-partitions it reset
 * (ShareGroupsDeps.stateReset) once the share coordinator did.
 *
 * One heartbeat, in order:
 * 1. The request is validated (INVALID_REQUEST with Kafka's messages).
 * 2. A group of the id that is not a share group (a classic group not Dead,
 *    a consumer group) is GROUP_ID_NOT_FOUND "Group <id> is not a share
 *    group." (no conversion between types, as Kafka).
 * 3. A leave (epoch -1) removes the member and bumps the group epoch.
 * 4. The group is found or, for a join (epoch 0), created; an unknown group
 *    at another epoch is GROUP_ID_NOT_FOUND. A new member of a group that
 *    has group.share.max.size members is GROUP_MAX_SIZE_REACHED.
 * 5. The member is found or created (the client chooses its id) and its
 *    epoch checked: ahead of the member's, or behind it and not its previous
 *    one, is FENCED_MEMBER_EPOCH; an unknown member at epoch ≠ 0 is
 *    UNKNOWN_MEMBER_ID.
 * 6. The group epoch bumps for a new member, a changed subscription or a
 *    change of the subscribed topics' ids or partition counts.
 * 7. Share-partition state: subscribed partitions whose state is neither
 *    initialized nor being initialized are asked of the share coordinator
 *    (ShareStatePersister.initialize, after the heartbeat's records are
 *    written; ShareGroupStatePartitionMetadata records which are
 *    initializing); when it answers, they are initialized and the group epoch
 *    bumps, so that the next heartbeat assigns them. Without a persister they
 *    are initialized at once.
 * 8. When the group epoch is ahead of the assignment epoch, the target
 *    assignment is recomputed by the simple assignor (share/simple-assignor.ts)
 *    over the initialized share-partitions.
 * 9. The member moves to its target at the assignment epoch (no revocation:
 *    a share-partition may have several members), and the response carries
 *    its assignment when it joined or its assignment changed.
 *
 * Timers, in the shard's CoordinatorTimer: "share-session-<group>-<member>",
 * group.share.session.timeout.ms, reset by every heartbeat; on expiry the
 * member is removed and the group epoch bumps. Members that leave or expire
 * are announced (ShareMembership.onMemberLeft) so that their acquired records
 * are released.
 *
 * Records (share-group-log.ts) are written to `__consumer_offsets` with
 * `replayRecords: false` before the heartbeat is answered; the groups are
 * rebuilt from them when the partition loads (`load`).
 *
 * Not done: rack-aware assignment, the periodic metadata refresh (a topic's
 * new partitions are seen at the next heartbeat that computes the hash, as
 * here every heartbeat does), deletion of the state of a topic a group no
 * longer subscribes to.
 */
import { ErrorCode, errorInfo, KafkaError } from '../../protocol/index.js';
import type { ShareStatePersister } from '../share/share-state-api.js';
import type { MemberLeftReason, SharePartitions } from '../share/share-membership.js';
import { topicPartitionsEqual, type TopicPartitions } from './consumer/consumer-group-member.js';
import type { GroupConfigLookup, TopicLookup } from './consumer-group-heartbeat.js';
import { shareGroupTimeouts, type ConsumerGroupTimeouts } from './group-configs.js';
import { metadataHashOf } from './consumer-group-log.js';
import type { GroupStore } from './group-store.js';
import { newShareGroupMember, reconcileShareMember, type ShareGroupMember } from './share/share-group-member.js';
import {
  planAlterShareOffsets,
  planDeleteShareOffsets,
  type AlterShareOffsetsResult,
  type AlterShareOffsetsTopic,
  type DeletedShareOffsetsTopic,
  type DeleteShareOffsetsResult,
} from './share/share-group-offsets.js';
import { SIMPLE_ASSIGNOR_NAME, simpleAssign, type ShareMemberSpec } from './share/simple-assignor.js';
import { addStatePartitions, removeStatePartitions, ShareGroup } from './share-group.js';
import {
  replayShareGroups,
  sameShareMemberMetadata,
  shareCurrentAssignmentRecord,
  shareGroupEpochRecord,
  shareGroupTombstones,
  shareMemberMetadataRecord,
  shareMemberTombstones,
  shareStatePartitionMetadataRecord,
  shareTargetMemberRecord,
  shareTargetMetadataRecord,
} from './share-group-log.js';
import type { ShareGroupRecord } from './share-group-records.js';

export const SHARE_JOIN_GROUP_MEMBER_EPOCH = 0;
export const SHARE_LEAVE_GROUP_MEMBER_EPOCH = -1;

export interface ShareHeartbeatParams {
  readonly groupId: string;
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly rackId: string | null;
  readonly subscribedTopicNames: readonly string[] | null;
  readonly clientId: string;
  readonly clientHost: string;
}

export interface ShareHeartbeatResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly memberId: string | null;
  readonly memberEpoch: number;
  readonly heartbeatIntervalMs: number;
  readonly assignment: { topicPartitions: Array<{ topicId: string; partitions: number[] }> } | null;
}

/** A share group as ShareGroupDescribe shows it; topics by id. */
export interface DescribedShareGroup {
  readonly groupState: string;
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  readonly assignorName: string;
  readonly members: readonly ShareGroupMember[];
}

/** What the share groups need of their shard and broker besides the store. */
export interface ShareGroupsDeps {
  /** Topics by name (the broker's metadata). */
  readonly topics: TopicLookup;
  /** The type of another group of this id in the shard ("classic", "consumer"), if any. */
  readonly otherGroupType: (groupId: string) => 'classic' | 'consumer' | undefined;
  /** The share coordinator's state; without it share-partitions are initialized at once. */
  readonly persister: ShareStatePersister | undefined;
  /** A member left or its session expired. */
  readonly memberLeft: (groupId: string, memberId: string, reason: MemberLeftReason) => void;
  /** The configs set on a group (group-configs.ts: share.session.timeout.ms, share.heartbeat.interval.ms); empty when none. */
  readonly groupConfigs?: GroupConfigLookup;
  /**
   * The share coordinator reset the state of share-partitions of the group (AlterShareGroupOffsets,
   * DeleteShareGroupOffsets, DeleteGroups): what the share-fetch side holds of them is stale.
   */
  readonly stateReset?: (groupId: string, topicId: string, partitions: readonly number[]) => void;
}

export function shareHeartbeatError(errorCode: number, errorMessage: string | null = null): ShareHeartbeatResult {
  return { errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
}

function sessionKey(groupId: string, memberId: string): string {
  return `share-session-${groupId}-${memberId}`;
}

function invalid(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_REQUEST, message);
}

/** Partitions asked of the persister by one heartbeat: topic id → name and partitions. */
type InitializeRequest = Map<string, { topicName: string; partitions: number[] }>;

export class ShareGroups {
  private readonly groups = new Map<string, ShareGroup>();
  /** Share-partitions ("<group>\0<topic id>:<partition>") whose initialization is in flight now (not persisted). */
  private readonly initializing = new Set<string>();

  constructor(
    private readonly store: GroupStore,
    private readonly deps: ShareGroupsDeps,
  ) {}

  get(groupId: string): ShareGroup | undefined {
    return this.groups.get(groupId);
  }

  all(): ShareGroup[] {
    return [...this.groups.values()];
  }

  /** The partition loaded: the share groups its records describe; each member's session starts now. */
  load(records: readonly ShareGroupRecord[]): number {
    for (const group of replayShareGroups(records)) {
      this.groups.set(group.groupId, group);
      for (const member of group.members.values()) this.scheduleSession(group, member.memberId);
    }
    return this.groups.size;
  }

  /** The shard is unloaded: every group and timer goes. */
  unload(): void {
    for (const group of this.groups.values()) for (const memberId of group.members.keys()) this.store.timer.cancel(sessionKey(group.groupId, memberId));
    this.groups.clear();
    this.initializing.clear();
  }

  /** The member's assigned share-partitions, if it is a member. */
  assignedPartitions(groupId: string, memberId: string): SharePartitions | undefined {
    return this.groups.get(groupId)?.members.get(memberId)?.assignedPartitions;
  }

  async heartbeat(p: ShareHeartbeatParams): Promise<ShareHeartbeatResult> {
    const records: ShareGroupRecord[] = [];
    const initialize: InitializeRequest = new Map();
    let result: ShareHeartbeatResult;
    try {
      result = this.handle(p, records, initialize);
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      result = shareHeartbeatError(err.code, err.message || null);
    }
    const written = await this.store.writeConsumerGroupRecords(records);
    if (written !== ErrorCode.NONE) {
      this.abandonInitialize(p.groupId, initialize);
      return result.errorCode === ErrorCode.NONE ? shareHeartbeatError(written) : result;
    }
    if (initialize.size > 0) this.initialize(p.groupId, initialize);
    return result;
  }

  /** ShareGroupDescribe of a group of this shard: GROUP_ID_NOT_FOUND with Kafka's messages when there is none. */
  describe(groupId: string): DescribedShareGroup | KafkaError {
    const group = this.groups.get(groupId);
    if (group === undefined) return this.notFound(groupId);
    const members = [...group.members.values()].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    return { groupState: group.state, groupEpoch: group.groupEpoch, assignmentEpoch: group.assignmentEpoch, assignorName: SIMPLE_ASSIGNOR_NAME, members };
  }

  /** The share-partitions whose state is initialized, by topic (DescribeShareGroupOffsets of all topics). */
  initializedTopics(groupId: string): Array<{ topicId: string; topicName: string; partitions: number[] }> | KafkaError {
    const group = this.groups.get(groupId);
    if (group === undefined) return this.notFound(groupId);
    return [...group.initialized].map(([topicId, t]) => ({ topicId, topicName: t.topicName, partitions: [...t.partitions].sort((a, b) => a - b) }));
  }

  /**
   * DeleteGroups of a share group: NON_EMPTY_GROUP while it has members; else the state of its
   * share-partitions (initialized, being initialized, and being deleted by a delete that did not finish)
   * is deleted at the share coordinator first (its error, if any, is the answer and the group stays), then
   * the group and its records.
   */
  async delete(groupId: string): Promise<number> {
    const group = this.groups.get(groupId);
    if (group === undefined) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    const topics = new Map<string, Set<number>>();
    const add = (topicId: string, partitions: Iterable<number>): void => {
      const set = topics.get(topicId) ?? topics.set(topicId, new Set()).get(topicId)!;
      for (const p of partitions) set.add(p);
    };
    for (const states of [group.initialized, group.initializing]) for (const [topicId, t] of states) add(topicId, t.partitions);
    for (const [topicId, topicName] of group.deleting) {
      const topic = this.deps.topics.get(topicName);
      if (topic?.topicId === topicId) add(topicId, Array.from({ length: topic.numPartitions }, (_, p) => p));
    }
    const deleted = await this.deleteState(groupId, [...topics].map(([topicId, ps]) => ({ topicId, partitions: [...ps] })));
    for (const t of deleted) if (t.errorCode !== ErrorCode.NONE) return t.errorCode;
    if (this.groups.get(groupId) !== group || group.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    this.groups.delete(groupId);
    const written = await this.store.writeConsumerGroupRecords(shareGroupTombstones(groupId));
    if (written !== ErrorCode.NONE) this.store.log.warn({ partition: this.store.partition, groupId, error: written }, 'failed to write share group tombstones');
    return ErrorCode.NONE;
  }

  /**
   * AlterShareGroupOffsets (Kafka 4.x's GroupMetadataManager.alterShareGroupOffsets with the share
   * coordinator's InitializeShareGroupState): sets the start offset of share-partitions of an empty share
   * group (created when there is none, so that a group can start where it is told) and resets their
   * state. The group epoch moves first (KIP-932) and the state is initialized at it, a fresh snapshot with
   * no delivery states, so that writes of the share-partitions as they were are fenced (FENCED_STATE_EPOCH);
   * what the share-fetch side holds of them is dropped (stateReset). The partitions are `initializing`
   * meanwhile, `initialized` once the share coordinator answered (the group epoch moves again for those
   * that were not, as a heartbeat's initialization moves it).
   * Group errors: GROUP_ID_NOT_FOUND for a group of another type, NON_EMPTY_GROUP while it has members,
   * and the error of writing its records.
   */
  async alterOffsets(groupId: string, request: readonly AlterShareOffsetsTopic[]): Promise<AlterShareOffsetsResult> {
    const refused = (code: number, message?: string): AlterShareOffsetsResult => ({ errorCode: code, errorMessage: message ?? errorInfo(code).message, topics: [] });
    if (this.deps.otherGroupType(groupId) !== undefined) return refused(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a share group.`);
    const existing = this.groups.get(groupId);
    if (existing !== undefined && existing.members.size > 0) return refused(ErrorCode.NON_EMPTY_GROUP);
    const plan = planAlterShareOffsets(this.deps.topics, request);
    const answer = (): AlterShareOffsetsResult => ({ errorCode: ErrorCode.NONE, errorMessage: null, topics: [...plan.answers.values()] });
    if (plan.initialize.size === 0) return answer();

    const group = existing ?? new ShareGroup(groupId);
    if (existing === undefined) this.groups.set(groupId, group);
    group.groupEpoch += 1;
    const now = Date.now();
    const asked: InitializeRequest = new Map();
    for (const [topicId, t] of plan.initialize) {
      const partitions = [...t.offsets.keys()];
      addStatePartitions(group.initializing, topicId, t.topicName, partitions, now);
      group.deleting.delete(topicId);
      for (const partition of partitions) this.initializing.add(inFlightKey(groupId, topicId, partition));
      asked.set(topicId, { topicName: t.topicName, partitions });
    }
    const written = await this.store.writeConsumerGroupRecords([shareGroupEpochRecord(group), shareStatePartitionMetadataRecord(group)]);
    if (written !== ErrorCode.NONE) {
      this.abandonInitialize(groupId, asked);
      return refused(written);
    }

    // the share coordinator: a fresh state at the new group epoch, from the start offset given
    const stateEpoch = group.groupEpoch;
    const topics = [...plan.initialize].map(([topicId, t]) => ({ topicId, partitions: [...t.offsets].map(([partition, startOffset]) => ({ partition, stateEpoch, startOffset })) }));
    const outcomes = await this.initializeState(groupId, topics);
    let newlyInitialized = 0;
    const reset = new Map<string, number[]>();
    for (const o of outcomes) {
      this.initializing.delete(inFlightKey(groupId, o.topicId, o.partition));
      const t = plan.initialize.get(o.topicId);
      if (t === undefined) continue;
      if (o.errorCode !== ErrorCode.NONE) {
        const partitions = plan.answers.get(t.topicName)?.partitions ?? [];
        for (let i = 0; i < partitions.length; i++) {
          if (partitions[i]!.partitionIndex === o.partition) partitions[i] = { partitionIndex: o.partition, errorCode: o.errorCode, errorMessage: o.errorMessage ?? errorInfo(o.errorCode).message };
        }
      } else {
        (reset.get(o.topicId) ?? reset.set(o.topicId, []).get(o.topicId)!).push(o.partition);
      }
      if (this.groups.get(groupId) !== group) continue;
      removeStatePartitions(group.initializing, o.topicId, [o.partition]);
      if (o.errorCode !== ErrorCode.NONE) continue;
      if (!group.isInitialized(o.topicId, o.partition)) newlyInitialized++;
      addStatePartitions(group.initialized, o.topicId, t.topicName, [o.partition], Date.now());
    }
    for (const [topicId, partitions] of reset) this.deps.stateReset?.(groupId, topicId, partitions);
    if (this.groups.get(groupId) === group) {
      const records: ShareGroupRecord[] = [shareStatePartitionMetadataRecord(group)];
      if (newlyInitialized > 0) {
        group.groupEpoch += 1;
        records.push(shareGroupEpochRecord(group));
      }
      const error = await this.store.writeConsumerGroupRecords(records);
      if (error !== ErrorCode.NONE) this.store.log.warn({ partition: this.store.partition, groupId, error }, 'failed to write share group records');
    }
    return answer();
  }

  /**
   * DeleteShareGroupOffsets (Kafka 4.x's initiate/completeDeleteShareGroupOffsets with the share
   * coordinator's DeleteShareGroupState): deletes the state of whole topics' share-partitions of an empty
   * share group, so that they are initialized again (share.auto.offset.reset) when a member next consumes
   * them. The topics are `deleting` (not initialized, not initialized again by heartbeats) until the share
   * coordinator answers; those it deleted leave `deleting` and what the share-fetch side holds of them is
   * dropped (stateReset); the others stay, for a later delete to finish.
   * Group errors: GROUP_ID_NOT_FOUND (no share group of that id), NON_EMPTY_GROUP, and the error of writing
   * its records. Topics answered: those deleted first, then those with an error.
   */
  async deleteOffsets(groupId: string, topicNames: readonly string[]): Promise<DeleteShareOffsetsResult> {
    const group = this.groups.get(groupId);
    const refused = (error: KafkaError): DeleteShareOffsetsResult => ({ errorCode: error.code, errorMessage: error.message, topics: [] });
    if (group === undefined) return refused(this.notFound(groupId));
    if (group.members.size > 0) return refused(new KafkaError(ErrorCode.NON_EMPTY_GROUP));
    const plan = planDeleteShareOffsets(group, this.deps.topics, topicNames);
    if (plan.deletes.size === 0) return { errorCode: ErrorCode.NONE, errorMessage: null, topics: plan.errors };
    for (const [topicId, t] of plan.deletes) {
      group.initialized.delete(topicId);
      group.deleting.set(topicId, t.topicName);
    }
    const written = await this.store.writeConsumerGroupRecords([shareStatePartitionMetadataRecord(group)]);
    if (written !== ErrorCode.NONE) return refused(new KafkaError(written));

    const deleted = await this.deleteState(groupId, [...plan.deletes].map(([topicId, t]) => ({ topicId, partitions: t.partitions })));
    const done: DeletedShareOffsetsTopic[] = [];
    const failed: DeletedShareOffsetsTopic[] = [...plan.errors];
    for (const t of deleted) {
      const topicName = plan.deletes.get(t.topicId)?.topicName ?? '';
      if (t.errorCode !== ErrorCode.NONE) {
        failed.push({ topicName, topicId: t.topicId, errorCode: t.errorCode, errorMessage: errorInfo(t.errorCode).message });
        continue;
      }
      done.push({ topicName, topicId: t.topicId, errorCode: ErrorCode.NONE, errorMessage: null });
      if (this.groups.get(groupId) === group) group.deleting.delete(t.topicId);
    }
    if (done.length > 0 && this.groups.get(groupId) === group) {
      const error = await this.store.writeConsumerGroupRecords([shareStatePartitionMetadataRecord(group)]);
      if (error !== ErrorCode.NONE) this.store.log.warn({ partition: this.store.partition, groupId, error }, 'failed to write share group records');
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, topics: [...done, ...failed] };
  }

  /** GROUP_ID_NOT_FOUND with Kafka's messages: no group of the id, or one of another type. */
  private notFound(groupId: string): KafkaError {
    return new KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, this.deps.otherGroupType(groupId) === undefined ? `Group ${groupId} not found.` : `Group ${groupId} is not a share group.`);
  }

  /** The share coordinator's InitializeShareGroupState, one outcome per partition (without one: initialized at once). */
  private async initializeState(
    groupId: string,
    topics: Array<{ topicId: string; partitions: Array<{ partition: number; stateEpoch: number; startOffset: number }> }>,
  ): Promise<Array<{ topicId: string; partition: number; errorCode: number; errorMessage: string | null }>> {
    const all = (errorCode: number) => topics.flatMap((t) => t.partitions.map((p) => ({ topicId: t.topicId, partition: p.partition, errorCode, errorMessage: null })));
    const persister = this.deps.persister;
    if (persister === undefined) return all(ErrorCode.NONE);
    try {
      const answer = await persister.initialize({ groupId, topics });
      return answer.topics.flatMap((t) => t.partitions.map((p) => ({ topicId: t.topicId, partition: p.partition, errorCode: p.errorCode, errorMessage: p.errorMessage })));
    } catch (err) {
      this.store.log.warn({ groupId, err: (err as Error).message }, 'share-partition state initialization failed');
      return all(ErrorCode.UNKNOWN_SERVER_ERROR);
    }
  }

  /**
   * The share coordinator's DeleteShareGroupState of whole topics: per topic, NONE or the first error of
   * its partitions (without one: nothing to delete). The share-fetch side is told of the topics deleted.
   */
  private async deleteState(groupId: string, topics: Array<{ topicId: string; partitions: number[] }>): Promise<Array<{ topicId: string; errorCode: number }>> {
    const persister = this.deps.persister;
    let outcomes: Array<{ topicId: string; errorCode: number }> = topics.map((t) => ({ topicId: t.topicId, errorCode: ErrorCode.NONE }));
    if (persister !== undefined && topics.length > 0) {
      try {
        const answer = await persister.delete({ groupId, topics: topics.map((t) => ({ topicId: t.topicId, partitions: t.partitions.map((partition) => ({ partition })) })) });
        outcomes = answer.topics.map((t) => ({ topicId: t.topicId, errorCode: t.partitions.find((p) => p.errorCode !== ErrorCode.NONE)?.errorCode ?? ErrorCode.NONE }));
      } catch (err) {
        this.store.log.warn({ groupId, err: (err as Error).message }, 'share-partition state deletion failed');
        outcomes = topics.map((t) => ({ topicId: t.topicId, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR }));
      }
    }
    for (const o of outcomes) {
      const t = topics.find((x) => x.topicId === o.topicId);
      if (o.errorCode === ErrorCode.NONE && t !== undefined) this.deps.stateReset?.(groupId, t.topicId, t.partitions);
    }
    return outcomes;
  }

  private handle(p: ShareHeartbeatParams, records: ShareGroupRecord[], initialize: InitializeRequest): ShareHeartbeatResult {
    validateRequest(p);
    if (this.deps.otherGroupType(p.groupId) !== undefined) throw new KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} is not a share group.`);
    const existing = this.groups.get(p.groupId);
    if (p.memberEpoch === SHARE_LEAVE_GROUP_MEMBER_EPOCH) {
      if (existing === undefined) throw new KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} not found.`);
      if (!existing.members.has(p.memberId)) throw unknownMember(p.groupId, p.memberId);
      records.push(...this.fence(existing, p.memberId, 'left'));
      return { errorCode: ErrorCode.NONE, errorMessage: null, memberId: p.memberId, memberEpoch: SHARE_LEAVE_GROUP_MEMBER_EPOCH, heartbeatIntervalMs: 0, assignment: null };
    }
    const joining = p.memberEpoch === SHARE_JOIN_GROUP_MEMBER_EPOCH;
    if (existing === undefined && !joining) throw new KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} not found.`);
    const group = existing ?? new ShareGroup(p.groupId);
    const maxSize = this.store.config.shareMaxSize;
    if (group.members.size >= maxSize && !group.members.has(p.memberId)) {
      throw new KafkaError(ErrorCode.GROUP_MAX_SIZE_REACHED, `The share group has reached its maximum capacity of ${maxSize} members.`);
    }

    // the member, as it was before this heartbeat
    const before = group.members.get(p.memberId);
    let member: ShareGroupMember;
    if (joining) {
      member = before ?? newShareGroupMember(p.memberId);
    } else {
      if (before === undefined) throw unknownMember(p.groupId, p.memberId);
      checkMemberEpoch(before, p.memberEpoch);
      member = before;
    }
    if (existing === undefined) this.groups.set(group.groupId, group);

    const subscribedTopicNames = p.subscribedTopicNames === null ? member.subscribedTopicNames : new Set(p.subscribedTopicNames);
    member = { ...member, rackId: p.rackId ?? member.rackId, clientId: p.clientId, clientHost: p.clientHost, subscribedTopicNames };
    const isNew = before === undefined;
    const subscriptionChanged = !isNew && !sameSet(subscribedTopicNames, before.subscribedTopicNames);
    if (before === undefined || !sameShareMemberMetadata(before, member)) records.push(shareMemberMetadataRecord(group.groupId, member));
    group.putMember(member);

    // the group epoch
    const metadataHash = metadataHashOf(this.subscriptionMetadata(group));
    let bumped = false;
    if (isNew || subscriptionChanged || metadataHash !== group.metadataHash || group.groupEpoch === 0) {
      group.groupEpoch += 1;
      group.metadataHash = metadataHash;
      bumped = true;
    }

    // share-partition state: what is not initialized yet is asked for (or, without a persister, initialized)
    const now = Date.now();
    let stateChanged = false;
    for (const name of group.subscribedTopicNames()) {
      const topic = this.deps.topics.get(name);
      if (topic === undefined || group.deleting.has(topic.topicId)) continue;
      const missing: number[] = [];
      for (let partition = 0; partition < topic.numPartitions; partition++) {
        if (group.isInitialized(topic.topicId, partition) || this.initializing.has(inFlightKey(group.groupId, topic.topicId, partition))) continue;
        missing.push(partition);
      }
      if (missing.length === 0) continue;
      stateChanged = true;
      if (this.deps.persister === undefined) {
        addStatePartitions(group.initialized, topic.topicId, name, missing, now);
        if (!bumped) {
          group.groupEpoch += 1;
          bumped = true;
        }
      } else {
        addStatePartitions(group.initializing, topic.topicId, name, missing, now);
        for (const partition of missing) this.initializing.add(inFlightKey(group.groupId, topic.topicId, partition));
        initialize.set(topic.topicId, { topicName: name, partitions: missing });
      }
    }
    if (bumped) records.push(shareGroupEpochRecord(group));
    if (stateChanged) records.push(shareStatePartitionMetadataRecord(group));

    // the target assignment
    if (group.groupEpoch > group.assignmentEpoch) {
      const target = this.computeTarget(group);
      for (const [memberId, assignment] of target) {
        const old = group.target.get(memberId);
        if (old === undefined || !topicPartitionsEqual(old, assignment)) records.push(shareTargetMemberRecord(group.groupId, memberId, assignment));
      }
      group.target = target;
      group.assignmentEpoch = group.groupEpoch;
      records.push(shareTargetMetadataRecord(group));
    }

    // reconciliation: straight to the target
    const next = reconcileShareMember(member, group.assignmentEpoch, group.target.get(member.memberId) ?? new Map());
    group.putMember(next);
    if (before === undefined || before.memberEpoch !== next.memberEpoch || !topicPartitionsEqual(before.assignedPartitions, next.assignedPartitions)) {
      records.push(shareCurrentAssignmentRecord(group.groupId, next));
    }
    this.scheduleSession(group, next.memberId);

    const assignmentChanged = before === undefined || !topicPartitionsEqual(before.assignedPartitions, next.assignedPartitions);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: next.memberId,
      memberEpoch: next.memberEpoch,
      heartbeatIntervalMs: this.timeouts(group.groupId).heartbeatIntervalMs,
      assignment: joining || assignmentChanged ? { topicPartitions: assignmentOf(next.assignedPartitions) } : null,
    };
  }

  /** The simple assignor over the initialized share-partitions of the subscribed topics. */
  private computeTarget(group: ShareGroup): Map<string, TopicPartitions> {
    const specs = new Map<string, ShareMemberSpec>();
    const numPartitions = new Map<string, number>();
    for (const member of [...group.members.values()].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))) {
      const ids = new Set<string>();
      for (const name of member.subscribedTopicNames) {
        const topic = this.deps.topics.get(name);
        if (topic === undefined) continue;
        ids.add(topic.topicId);
        numPartitions.set(topic.topicId, topic.numPartitions);
      }
      specs.set(member.memberId, { subscribedTopicIds: ids, assignment: group.target.get(member.memberId) ?? new Map() });
    }
    return simpleAssign(specs, {
      numPartitions: (topicId) => numPartitions.get(topicId) ?? -1,
      assignable: (topicId, partition) => group.isInitialized(topicId, partition),
    });
  }

  /**
   * Asks the share coordinator to initialize the share-partitions a heartbeat found without state (its
   * records, which say they are initializing, are written). Those it initializes move to initialized and
   * the group epoch bumps; the others are dropped from initializing, for a later heartbeat to ask again.
   */
  private initialize(groupId: string, request: InitializeRequest): void {
    const persister = this.deps.persister;
    const group = this.groups.get(groupId);
    if (persister === undefined || group === undefined) return;
    const stateEpoch = group.groupEpoch;
    const topics = [...request].map(([topicId, t]) => ({ topicId, partitions: t.partitions.map((partition) => ({ partition, stateEpoch, startOffset: -1 })) }));
    void persister
      .initialize({ groupId, topics })
      .then(
        (answer) => answer.topics.flatMap((t) => t.partitions.map((p) => ({ topicId: t.topicId, partition: p.partition, ok: p.errorCode === ErrorCode.NONE }))),
        (err: unknown) => {
          this.store.log.warn({ groupId, err: (err as Error).message }, 'share-partition state initialization failed');
          return [...request].flatMap(([topicId, t]) => t.partitions.map((partition) => ({ topicId, partition, ok: false })));
        },
      )
      .then((outcomes) => {
        for (const o of outcomes) this.initializing.delete(inFlightKey(groupId, o.topicId, o.partition));
        if (this.groups.get(groupId) !== group) return;
        let initialized = 0;
        for (const o of outcomes) {
          removeStatePartitions(group.initializing, o.topicId, [o.partition]);
          if (!o.ok) continue;
          addStatePartitions(group.initialized, o.topicId, request.get(o.topicId)?.topicName ?? '', [o.partition], Date.now());
          initialized++;
        }
        const records: ShareGroupRecord[] = [shareStatePartitionMetadataRecord(group)];
        if (initialized > 0) {
          group.groupEpoch += 1;
          records.push(shareGroupEpochRecord(group));
        }
        this.writeInBackground(records, groupId);
      });
  }

  /** A heartbeat whose records were not written gives up the initializations it would have asked for. */
  private abandonInitialize(groupId: string, request: InitializeRequest): void {
    const group = this.groups.get(groupId);
    for (const [topicId, t] of request) {
      for (const partition of t.partitions) this.initializing.delete(inFlightKey(groupId, topicId, partition));
      if (group !== undefined) removeStatePartitions(group.initializing, topicId, t.partitions);
    }
  }

  /**
   * Removes the member (it left, or its session expired), bumps the group epoch and announces it; returns
   * the records to write. A timer's removal writes them itself.
   */
  private fence(group: ShareGroup, memberId: string, reason: MemberLeftReason): ShareGroupRecord[] {
    if (this.groups.get(group.groupId) !== group || !group.members.has(memberId)) return [];
    this.store.timer.cancel(sessionKey(group.groupId, memberId));
    group.removeMember(memberId);
    group.groupEpoch += 1;
    const records = [...shareMemberTombstones(group.groupId, memberId), shareGroupEpochRecord(group)];
    this.deps.memberLeft(group.groupId, memberId, reason);
    if (reason === 'left') return records;
    this.store.log.info({ groupId: group.groupId, memberId, groupEpoch: group.groupEpoch }, `removed share group member: ${reason}`);
    this.writeInBackground(records, group.groupId);
    return [];
  }

  /** The group's share.session.timeout.ms and share.heartbeat.interval.ms, else the broker's. */
  private timeouts(groupId: string): ConsumerGroupTimeouts {
    return shareGroupTimeouts(this.deps.groupConfigs?.(groupId) ?? {}, this.store.config);
  }

  private scheduleSession(group: ShareGroup, memberId: string): void {
    this.store.timer.schedule(sessionKey(group.groupId, memberId), this.timeouts(group.groupId).sessionTimeoutMs, () => this.fence(group, memberId, 'session timeout'));
  }

  /** Writes records no request waits for; a failure is logged (memory keeps the change). */
  private writeInBackground(records: readonly ShareGroupRecord[], groupId: string): void {
    void this.store.writeConsumerGroupRecords(records).then((error) => {
      if (error !== ErrorCode.NONE) this.store.log.warn({ partition: this.store.partition, groupId, error }, 'failed to write share group records');
    });
  }

  /** The subscribed topics' names, ids and partition counts, as a string to compare. */
  private subscriptionMetadata(group: ShareGroup): string {
    const parts: string[] = [];
    for (const name of [...group.subscribedTopicNames()].sort()) {
      const topic = this.deps.topics.get(name);
      if (topic !== undefined) parts.push(`${name}:${topic.topicId}:${topic.numPartitions}`);
    }
    return parts.join(',');
  }
}

function inFlightKey(groupId: string, topicId: string, partition: number): string {
  return `${groupId}\u0000${topicId}:${partition}`;
}

/** Kafka's throwIfShareGroupHeartbeatRequestIsInvalid. */
function validateRequest(p: ShareHeartbeatParams): void {
  if (p.memberId === '') throw invalid("MemberId can't be empty.");
  if (p.groupId === '') throw invalid("GroupId can't be empty.");
  if (p.rackId !== null && p.rackId === '') throw invalid("RackId can't be empty.");
  if (p.memberEpoch === SHARE_JOIN_GROUP_MEMBER_EPOCH) {
    if (p.subscribedTopicNames === null || p.subscribedTopicNames.length === 0) throw invalid('SubscribedTopicNames must be set in first request.');
  } else if (p.memberEpoch < SHARE_LEAVE_GROUP_MEMBER_EPOCH) {
    throw invalid('MemberEpoch is invalid.');
  }
}

/** Kafka's throwIfShareGroupMemberEpochIsInvalid: the member's epoch, or its previous one. */
function checkMemberEpoch(member: ShareGroupMember, received: number): void {
  if (received > member.memberEpoch) {
    throw new KafkaError(
      ErrorCode.FENCED_MEMBER_EPOCH,
      `The share group member has a greater member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`,
    );
  }
  if (received < member.memberEpoch && received !== member.previousMemberEpoch) {
    throw new KafkaError(
      ErrorCode.FENCED_MEMBER_EPOCH,
      `The share group member has a smaller member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`,
    );
  }
}

function unknownMember(groupId: string, memberId: string): KafkaError {
  return new KafkaError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${memberId} is not a member of group ${groupId}.`);
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function assignmentOf(tp: TopicPartitions): Array<{ topicId: string; partitions: number[] }> {
  return [...tp].map(([topicId, partitions]) => ({ topicId, partitions: [...partitions].sort((a, b) => a - b) }));
}
