/**
 * What the group coordinator is asked and what it answers: the parameters
 * and results of GroupCoordinator's methods (coordinator.ts re-exports them
 * for the handlers and the metrics), free of the protocol's wire types.
 */
import type { ConsumerGroupState } from './consumer-group.js';
import type { ShareGroupState } from './share-group.js';
import type { GroupState } from './group.js';
import type { NewMember } from './group-member.js';

/** A JoinGroup: the member as it describes itself (member id "" when new) and how to treat it. */
export interface JoinParams extends Omit<NewMember, 'assignment'> {
  readonly groupId: string;
  /** JoinGroup v4+ without a group instance id: MEMBER_ID_REQUIRED round trip. */
  readonly requireKnownMemberId: boolean;
  /** JoinGroup v9+: a rejoining static leader of a stable group skips the assignment. */
  readonly supportSkippingAssignment: boolean;
  readonly reason: string | null;
}

export interface SyncParams {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignments: ReadonlyMap<string, Buffer>;
}

export interface HeartbeatParams {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface LeavingMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly reason: string | null;
}

export interface LeaveResult {
  readonly errorCode: number;
  readonly members: ReadonlyArray<{ memberId: string; groupInstanceId: string | null; errorCode: number }>;
}

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

export interface CommitParams {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** OffsetCommit v2-4 retention_time_ms; -1 = the broker's retention. */
  readonly retentionTimeMs: number;
  readonly offsets: readonly OffsetToCommit[];
}

/** TxnOffsetCommit: offsets committed in a producer's transaction. */
export interface TxnCommitParams {
  readonly groupId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  /** v3+; -1, "" and null from older clients (then no member checks). */
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly offsets: readonly OffsetToCommit[];
  /**
   * The check that the group's partition is in the producer's transaction (KIP-890), asked after the group
   * id and partition checks and before the member checks, as Kafka's handleTxnCommitOffsets: any code but
   * NONE is every offset's answer. It may wait (a transaction version 2 commit adds the partition there).
   */
  readonly verifyTransaction?: () => number | Promise<number>;
}

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export interface FetchedOffset {
  readonly partition: number;
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly errorCode: number;
}

export interface FetchOffsetsResult {
  readonly errorCode: number;
  readonly topics: ReadonlyArray<{ topic: string; partitions: FetchedOffset[] }>;
}

/** OffsetDelete's answer: the group error, or an error per requested partition. */
export interface DeleteOffsetsResult {
  readonly errorCode: number;
  readonly partitions: Map<string, Map<number, number>>;
}

export interface ListedGroup {
  readonly groupId: string;
  readonly protocolType: string;
  /** A classic group's state, or a consumer group's (consumer-group.ts), or a share group's (share-group.ts). */
  readonly state: GroupState | ConsumerGroupState | ShareGroupState;
  /** Set for a consumer group (KIP-848) and a share group (KIP-932); a classic group has none. */
  readonly groupType?: 'consumer' | 'share';
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

/** A consumer group of the consumer protocol (KIP-848) as the metrics see it. */
export interface ConsumerGroupOverview {
  readonly groupId: string;
  readonly state: ConsumerGroupState;
  readonly members: number;
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
}
