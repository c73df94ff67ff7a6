/**
 * The group coordinator's shard (Kafka's GroupCoordinatorShard): the groups
 * and offsets of one partition of `__consumer_offsets`, run by the
 * coordinator runtime (src/coordinator/coordinator-runtime.ts).
 *
 * It is put together from:
 * - the store (group-store.ts): the groups and the writes they share;
 * - the classic rebalance protocol (classic-rebalance.ts) with the members'
 *   sessions (member-sessions.ts): JoinGroup, SyncGroup, Heartbeat,
 *   LeaveGroup and their timers;
 * - the offset manager (offset-manager.ts): commits, fetches, deletes,
 *   retention and lag;
 * - the consumer protocol (consumer-group-heartbeat.ts, KIP-848): the
 *   consumer groups, ConsumerGroupHeartbeat and their timers; the classic
 *   members of consumer groups (classic-members.ts) and the conversions
 *   between classic and consumer groups (group-migration.ts);
 * - the share groups (share-group-heartbeat.ts, KIP-932):
 *   ShareGroupHeartbeat, the members' sessions and their share-partitions'
 *   state initialization. A group id is of one type only: each protocol
 *   refuses an id the others hold (Kafka's errors).
 *
 * Replay: while the partition loads, records go to a GroupLoader
 * (group-loader.ts), which builds the groups when loading is done; once
 * loaded, the records replayed are those of the shard's own offset commits
 * (group metadata and tombstones are written with replayRecords: false: the
 * groups in memory already hold what they say). Consumer groups (KIP-848)
 * are not served yet: the loader keeps their records apart
 * (GroupLoader.consumerGroupRecords) and the consumer protocol rebuilds its
 * groups from them (consumer-group-log.ts); its later writes are, like group
 * metadata, written with replayRecords: false. Share groups' records go the
 * same way (GroupLoader.shareGroupRecords, share-group-log.ts).
 *
 * Timers (per shard): the rebalance phases and sessions, and offset
 * retention every offsets.retention.check.interval.ms ("expire-offsets").
 */
import type { CoordinatorShard, ShardContext } from '../coordinator/coordinator-shard.js';
import type { Logger } from '../logger.js';
import { ClassicMembers } from './classic-members.js';
import { ClassicRebalance } from './classic-rebalance.js';
import type { ConsumerGroupObserver } from './consumer/consumer-group-stats.js';
import { ConsumerGroups, type GroupConfigLookup, type TopicLookup } from './consumer-group-heartbeat.js';
import type { GroupConfig } from './group-config.js';
import { GroupLoader } from './group-loader.js';
import { GroupMigration } from './group-migration.js';
import type { GroupCoordinatorRecord } from './group-records.js';
import { GroupStore } from './group-store.js';
import type { MemberSessions } from './member-sessions.js';
import { OffsetManager } from './offset-manager.js';
import { ShareGroups, type ShareGroupsDeps } from './share-group-heartbeat.js';

export class GroupCoordinatorShard implements CoordinatorShard<GroupCoordinatorRecord> {
  readonly store: GroupStore;
  readonly rebalance: ClassicRebalance;
  readonly offsets: OffsetManager;
  readonly consumer: ConsumerGroups;
  readonly share: ShareGroups;
  readonly classicMembers: ClassicMembers;
  /** Set while the partition loads. */
  private loader: GroupLoader | undefined = new GroupLoader();

  constructor(
    ctx: ShardContext<GroupCoordinatorRecord>,
    config: GroupConfig,
    log: Logger,
    topics: TopicLookup,
    groupConfigs?: GroupConfigLookup,
    observer?: ConsumerGroupObserver,
    share: Pick<ShareGroupsDeps, 'persister' | 'memberLeft' | 'stateReset'> = { persister: undefined, memberLeft: () => {} },
  ) {
    this.store = new GroupStore(ctx, config, log);
    this.rebalance = new ClassicRebalance(this.store);
    this.consumer = new ConsumerGroups(this.store, topics, groupConfigs, observer);
    this.consumer.migration = new GroupMigration(this.store, this.rebalance, this.consumer, topics);
    this.classicMembers = new ClassicMembers(this.store, this.consumer, topics);
    this.share = new ShareGroups(this.store, {
      ...share,
      topics,
      ...(groupConfigs === undefined ? {} : { groupConfigs }),
      otherGroupType: (groupId) => {
        if (this.consumer.get(groupId) !== undefined) return 'consumer';
        const classic = this.store.get(groupId);
        return classic !== undefined && !classic.is('Dead') ? 'classic' : undefined;
      },
    });
    this.offsets = new OffsetManager(this.store, this.rebalance.sessions, this.consumer);
  }

  get sessions(): MemberSessions {
    return this.rebalance.sessions;
  }

  replay(record: GroupCoordinatorRecord, offset: number, openTransaction?: number): void {
    if (this.loader) this.loader.replay(record, offset, openTransaction);
    else if (record.type === 'offset-commit') this.offsets.replayCommit(record, offset);
  }

  onLoaded(): void {
    const loader = this.loader;
    this.loader = undefined;
    const consumerGroups = this.consumer.load(loader?.consumerGroupRecords().map((r) => r.record) ?? []);
    if (consumerGroups > 0) this.store.log.info({ partition: this.store.partition, groups: consumerGroups }, 'loaded consumer groups');
    const shareGroups = this.share.load(loader?.shareGroupRecords() ?? []);
    if (shareGroups > 0) this.store.log.info({ partition: this.store.partition, groups: shareGroups }, 'loaded share groups');
    for (const group of loader?.groups(Date.now()) ?? []) {
      this.store.add(group);
      // loaded members must heartbeat within their session timeout, or they are removed
      for (const m of group.members.values()) this.sessions.scheduleHeartbeat(group, m);
    }
    this.store.timer.scheduleRepeating('expire-offsets', this.store.config.retentionCheckIntervalMs, () => {
      const { removed } = this.offsets.expire(Date.now());
      if (removed > 0) this.store.log.info({ partition: this.store.partition, removed }, 'removed expired offsets');
    });
  }

  onUnloaded(): void {
    for (const group of this.store.unload()) this.rebalance.unload(group);
    this.consumer.unload();
    this.share.unload();
  }
}
