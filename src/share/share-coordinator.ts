/**
 * The share coordinator (Kafka's ShareCoordinatorService, single node: this
 * broker coordinates every share-partition): the durable state of share-
 * partitions (KIP-932) in `__share_group_state`, behind the persister
 * interface (share-state-api.ts) that the share-partition manager and the
 * group coordinator call in-process. It runs on the coordinator runtime
 * (src/coordinator/): each share-partition lives in the shard of its
 * partition (share-state-topic.ts), loaded by replaying every record (they
 * are deltas: no latest-per-key shortcut), the topic created by the first
 * write.
 *
 * Each call names a group and per topic id the partitions; each partition is
 * answered on its own: COORDINATOR_LOAD_IN_PROGRESS while its shard loads,
 * COORDINATOR_NOT_AVAILABLE once closed, else the shard's answer
 * (share-coordinator-shard.ts: fencing, snapshots, durability). A write is
 * answered after its record is fdatasync'ed.
 *
 * Not served on the wire: InitializeShareGroupState, ReadShareGroupState,
 * WriteShareGroupState, DeleteShareGroupState and ReadShareGroupStateSummary
 * are Kafka's inter-broker calls; a single node makes them in-process.
 */
import { ErrorCode } from '../../protocol/index.js';
import { CoordinatorRuntime } from '../coordinator/coordinator-runtime.js';
import type { RecordSerde } from '../coordinator/coordinator-shard.js';
import type { InternalTopicHost } from '../coordinator/internal-topic.js';
import type { Logger } from '../logger.js';
import type { PersistedShareState } from './persister-state-batch.js';
import { ShareCoordinatorShard, type PartitionAnswer, type ShareCoordinatorConfig } from './share-coordinator-shard.js';
import type {
  DeletePartition,
  InitializePartition,
  PartitionStateSummary,
  ReadPartition,
  ShareStatePartitionResult,
  ShareStatePersister,
  ShareStateResult,
  ShareStateTopics,
  WritePartition,
} from './share-state-api.js';
import { parseShareStateRecord, serializeShareStateRecord, type SharePartitionKey, type ShareStateRecord } from './share-state-records.js';
import { shareStatePartition, shareStateTopic, type ShareStateTopicSettings } from './share-state-topic.js';

export const shareStateRecordSerde: RecordSerde<ShareStateRecord> = {
  serialize: (record) => serializeShareStateRecord(record),
  deserialize: ({ key, value }) => parseShareStateRecord(key, value),
};

export interface ShareCoordinatorDeps {
  readonly config: ShareCoordinatorConfig;
  readonly topicSettings: ShareStateTopicSettings;
  readonly topics: InternalTopicHost;
  readonly logger: Logger;
}

export class ShareCoordinator implements ShareStatePersister {
  private readonly runtime: CoordinatorRuntime<ShareCoordinatorShard, ShareStateRecord>;

  private constructor(deps: ShareCoordinatorDeps) {
    const log = deps.logger.child({ component: 'share-coordinator' });
    const topic = shareStateTopic(deps.topicSettings, deps.topics, log);
    this.runtime = new CoordinatorRuntime({
      topic,
      serde: shareStateRecordSerde,
      latestPerKey: false,
      logger: log,
      newShard: (ctx) =>
        new ShareCoordinatorShard(ctx, {
          config: deps.config,
          logger: log,
          prune: (partition, offset) => topic.deleteRecordsBefore(partition, offset),
          highWatermark: (partition) => topic.topic?.partitions[partition]?.log.highWatermark ?? 0,
          now: () => Date.now(),
        }),
    });
  }

  static start(deps: ShareCoordinatorDeps): ShareCoordinator {
    const c = new ShareCoordinator(deps);
    c.runtime.startLoading();
    return c;
  }

  whenLoaded(): Promise<void> {
    return this.runtime.whenLoaded();
  }

  close(): Promise<void> {
    return this.runtime.close();
  }

  /** The shard of a share-partition, or the error a request for it gets now. */
  private shardFor(k: SharePartitionKey): ShareCoordinatorShard | number {
    const p = shareStatePartition(k.group, k.topicId, k.partition, this.runtime.topic.partitionCount);
    return this.runtime.partitionError(p) ?? this.runtime.activeShard(p);
  }

  private async each<P extends { readonly partition: number }, D>(
    request: ShareStateTopics<P>,
    op: (shard: ShareCoordinatorShard, key: SharePartitionKey, p: P) => Promise<PartitionAnswer & Partial<D>> | (PartitionAnswer & Partial<D>),
  ): Promise<ShareStateResult<D>> {
    const topics = await Promise.all(
      request.topics.map(async (t) => ({
        topicId: t.topicId,
        partitions: await Promise.all(
          t.partitions.map(async (p): Promise<ShareStatePartitionResult<D>> => {
            const key = { group: request.groupId, topicId: t.topicId, partition: p.partition };
            const shard = this.shardFor(key);
            if (typeof shard === 'number') return { partition: p.partition, errorCode: shard, errorMessage: null } as ShareStatePartitionResult<D>;
            const answer = await op(shard, key, p);
            return { ...answer, partition: p.partition } as ShareStatePartitionResult<D>;
          }),
        ),
      })),
    );
    return { topics };
  }

  initialize(request: ShareStateTopics<InitializePartition>): Promise<ShareStateResult<Record<never, never>>> {
    return this.each(request, (shard, key, p) => shard.initialize(key, p.stateEpoch, p.startOffset));
  }

  read(request: ShareStateTopics<ReadPartition>): Promise<ShareStateResult<PersistedShareState>> {
    return this.each<ReadPartition, PersistedShareState>(request, (shard, key, p) => {
      const { state, ...answer } = shard.read(key, p.leaderEpoch);
      return state === undefined ? answer : { ...answer, ...state };
    });
  }

  write(request: ShareStateTopics<WritePartition>): Promise<ShareStateResult<Record<never, never>>> {
    return this.each(request, (shard, key, p) => shard.write(key, p));
  }

  delete(request: ShareStateTopics<DeletePartition>): Promise<ShareStateResult<Record<never, never>>> {
    return this.each(request, (shard, key) => shard.delete(key));
  }

  readSummary(request: ShareStateTopics<ReadPartition>): Promise<ShareStateResult<PartitionStateSummary>> {
    return this.each<ReadPartition, PartitionStateSummary>(request, (shard, key, p) => {
      const { state, ...answer } = shard.read(key, p.leaderEpoch);
      return state === undefined || answer.errorCode !== ErrorCode.NONE ? answer : { ...answer, startOffset: state.startOffset, stateEpoch: state.stateEpoch };
    });
  }
}
