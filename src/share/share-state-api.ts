/**
 * The share-partition state store as the group coordinator and the share
 * partitions use it (Kafka's server-common share/persister/Persister): the
 * durable state of every share-partition (KIP-932) lives with the share
 * coordinator (`__share_group_state`, share-state-records.ts), and these five
 * calls are the only way in. One implementation writes that topic; the group
 * coordinator takes it as an optional dependency (without one, it treats a
 * share-partition as initialized as soon as a member subscribes to it).
 *
 * Shape, as Kafka's GroupTopicPartitionData: every request names a group and,
 * per topic id, the partitions with their data; every answer has, per topic
 * and partition, an error code (0: none) with an optional message and the
 * data read. A request is never refused as a whole: errors are per partition.
 *
 * - initialize (InitializeShareGroupState): creates the state of partitions a
 *   group starts to consume, at `stateEpoch` (the group epoch that asked);
 *   `startOffset` -1 lets the first fetch choose by share.auto.offset.reset.
 * - read (ReadShareGroupState): the state of a share-partition whose leader
 *   takes it over, at the partition's leader epoch.
 * - write (WriteShareGroupState): the share-partition's start offset and its
 *   in-flight batches' delivery states after acquisitions and acknowledgements.
 * - delete (DeleteShareGroupState): the state of a deleted group (or of a
 *   topic's partitions the group no longer consumes).
 * - readSummary (ReadShareGroupStateSummary): start offset and state epoch
 *   only, for DescribeShareGroupOffsets.
 */
import type { PersistedShareState, ShareStateWrite } from './persister-state-batch.js';

/** Per topic id, the partitions of a request with their data (Kafka's TopicData<P>). */
export interface ShareStateTopics<P extends { readonly partition: number }> {
  readonly groupId: string;
  readonly topics: ReadonlyArray<{ readonly topicId: string; readonly partitions: readonly P[] }>;
}

/** An answer per partition: its error (ErrorCode; 0 none) and, without error, its data. */
export type ShareStatePartitionResult<D> = { readonly partition: number; readonly errorCode: number; readonly errorMessage: string | null } & Partial<D>;

export interface ShareStateResult<D> {
  readonly topics: ReadonlyArray<{ readonly topicId: string; readonly partitions: ReadonlyArray<ShareStatePartitionResult<D>> }>;
}

export interface InitializePartition {
  readonly partition: number;
  readonly stateEpoch: number;
  /** -1: decided at the first fetch (share.auto.offset.reset). */
  readonly startOffset: number;
}

export interface ReadPartition {
  readonly partition: number;
  readonly leaderEpoch: number;
}

export interface WritePartition extends ShareStateWrite {
  readonly partition: number;
  readonly leaderEpoch: number;
}

export interface DeletePartition {
  readonly partition: number;
}

export interface PartitionStateSummary {
  readonly stateEpoch: number;
  readonly startOffset: number;
}

/** Kafka's Persister. */
export interface ShareStatePersister {
  initialize(request: ShareStateTopics<InitializePartition>): Promise<ShareStateResult<Record<never, never>>>;
  read(request: ShareStateTopics<ReadPartition>): Promise<ShareStateResult<PersistedShareState>>;
  write(request: ShareStateTopics<WritePartition>): Promise<ShareStateResult<Record<never, never>>>;
  delete(request: ShareStateTopics<DeletePartition>): Promise<ShareStateResult<Record<never, never>>>;
  readSummary(request: ShareStateTopics<ReadPartition>): Promise<ShareStateResult<PartitionStateSummary>>;
}
