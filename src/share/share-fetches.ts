/**
 * The data side of share groups as the broker holds it: the share session
 * cache and the share-partition manager, built from the broker's share
 * configs (read and checked at start, as Kafka's GroupCoordinatorConfig
 * checks them), and the connection-close hook that ends a connection's
 * share sessions and releases their members' records. ShareFetch and ShareAcknowledge reach it through
 * BrokerServices.shareFetches.
 *
 * Configs: group.share.record.lock.duration.ms (30000; between
 * group.share.min.record.lock.duration.ms, 15000, and
 * group.share.max.record.lock.duration.ms, 60000),
 * group.share.delivery.count.limit (5; 2-10),
 * group.share.partition.max.record.locks (2000; 100-10000),
 * group.share.max.share.sessions (2000).
 */
import type { LogManager } from '../../storage/index.js';
import type { StableOffsets } from '../fetch/partition-read.js';
import type { ConnectionInfo } from '../connection-info.js';
import type { Logger } from '../logger.js';
import type { TopicInfo } from '../metadata/topic-manager.js';
import type { ShareMembership } from './share-membership.js';
import { SharePartitionManager, type ShareGroupSettings } from './share-partition-manager.js';
import type { SharePartitionConfig } from './share-partition.js';
import { ShareSessionCache } from './share-session-cache.js';
import type { ShareStatePersister } from './share-state-api.js';

export interface ShareConfigView {
  int(name: string): number;
}

/** The share-partition settings of the broker's config; throws (at start) for a lock duration outside its bounds. */
export function sharePartitionConfigOf(config: ShareConfigView): SharePartitionConfig {
  const lock = config.int('group.share.record.lock.duration.ms');
  const min = config.int('group.share.min.record.lock.duration.ms');
  const max = config.int('group.share.max.record.lock.duration.ms');
  if (min > max) throw new Error(`group.share.min.record.lock.duration.ms (${min}) must be at most group.share.max.record.lock.duration.ms (${max})`);
  if (lock < min || lock > max) throw new Error(`group.share.record.lock.duration.ms (${lock}) must be between ${min} and ${max} (group.share.min/max.record.lock.duration.ms)`);
  return {
    recordLockDurationMs: lock,
    maxDeliveryCount: config.int('group.share.delivery.count.limit'),
    maxInFlightRecords: config.int('group.share.partition.max.record.locks'),
    renewAcknowledgeEnabled: true,
  };
}

/** Kafka's group config defaults: share.auto.offset.reset=latest, share.isolation.level=read_uncommitted. */
export const DEFAULT_SHARE_GROUP_SETTINGS: ShareGroupSettings = { autoOffsetReset: { type: 'latest' }, isolationLevel: 'read_uncommitted' };

export interface ShareFetchesDeps {
  readonly config: ShareConfigView;
  readonly topics: { getById(topicId: string): Pick<TopicInfo, 'partitions'> | undefined };
  readonly persister: ShareStatePersister;
  /**
   * The group coordinator's members. Not consulted by fetches, as Kafka's are not (ShareFetch serves any
   * member id; a member's leave does not end its share session: its closing acknowledgements follow it).
   */
  readonly membership: ShareMembership | undefined;
  /** Per-group settings (group configs share.auto.offset.reset, share.isolation.level, share.record.lock.duration.ms); the defaults without. */
  readonly groupSettings?: (groupId: string) => ShareGroupSettings;
  readonly stableOffsets: StableOffsets;
  readonly logs: Pick<LogManager, 'releaseReadBuffers'>;
  readonly logger: Logger;
}

export class ShareFetches {
  readonly sessions: ShareSessionCache;
  readonly partitions: SharePartitionManager;
  private readonly config: SharePartitionConfig;
  /** The share coordinator's state (the admin APIs read its summaries). */
  readonly persister: ShareStatePersister;
  private readonly groupSettings: (groupId: string) => ShareGroupSettings;
  private readonly logs: Pick<LogManager, 'releaseReadBuffers'>;
  /** Connections whose close ends their sessions (watchConnection). */
  private readonly watched = new Set<number>();

  constructor(deps: ShareFetchesDeps) {
    this.config = sharePartitionConfigOf(deps.config);
    this.persister = deps.persister;
    this.logs = deps.logs;
    const maxSessions = deps.config.int('group.share.max.share.sessions');
    this.sessions = new ShareSessionCache(() => maxSessions);
    const groupSettings = deps.groupSettings ?? (() => DEFAULT_SHARE_GROUP_SETTINGS);
    this.groupSettings = groupSettings;
    this.partitions = new SharePartitionManager({
      topics: deps.topics,
      persister: deps.persister,
      config: this.config,
      groupSettings,
      stableOffsets: deps.stableOffsets,
      logs: deps.logs,
      logger: deps.logger.child({ component: 'share-fetch' }),
    });
  }

  /**
   * Ends the sessions of a connection when it closes, releasing what their members hold (Kafka's
   * ShareSessionCache disconnect listener); registered once per connection, by its first ShareFetch.
   */
  watchConnection(connection: Pick<ConnectionInfo, 'id' | 'whenClosed'>): void {
    if (this.watched.has(connection.id)) return;
    this.watched.add(connection.id);
    connection.whenClosed(() => {
      this.watched.delete(connection.id);
      for (const s of this.sessions.connectionClosed(connection.id)) void this.partitions.releaseMember(s.groupId, s.memberId);
    });
  }

  /** The lock duration of a group's acquired records: its share.record.lock.duration.ms, else the broker's. */
  recordLockDurationMs(groupId: string): number {
    return this.groupSettings(groupId).recordLockDurationMs ?? this.config.recordLockDurationMs;
  }

  releaseRecords(records: readonly Buffer[]): void {
    this.logs.releaseReadBuffers(records);
  }

  /** Broker shutdown: waiting share fetches answer now. */
  close(): void {
    this.partitions.close();
    this.sessions.clear();
  }
}
