/**
 * The data side of share groups as the broker holds it: the share session
 * cache and the share-partition manager, built from the broker's share
 * configs, and the connection-close hook that ends a connection's share
 * sessions and releases their members' records (and stops the connection's
 * waiting fetches from acquiring). ShareFetch and ShareAcknowledge reach it
 * through BrokerServices.shareFetches.
 *
 * Configs (their bounds checked at start, config/broker-config.ts, as Kafka's
 * ShareGroupConfig checks them): group.share.record.lock.duration.ms (30000;
 * between group.share.min.record.lock.duration.ms, 15000, and
 * group.share.max.record.lock.duration.ms, 60000),
 * group.share.delivery.count.limit (5; 2-10),
 * group.share.partition.max.record.locks (2000; 100-10000),
 * group.share.max.share.sessions (2000; at least group.share.max.size).
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

/** The share-partition settings of the broker's config (their bounds are checked at start, config/broker-config.ts). */
export function sharePartitionConfigOf(config: ShareConfigView): SharePartitionConfig {
  return {
    recordLockDurationMs: config.int('group.share.record.lock.duration.ms'),
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
  /** Connections whose close ends their sessions, with the signal that close aborts (watchConnection). */
  private readonly watched = new Map<number, AbortController>();
  /** Aborted at broker shutdown: waits end. */
  private readonly shutdown = new AbortController();

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
    // an administrator reset share-partitions' state at the share coordinator: what is held of them is stale
    deps.membership?.onStateReset((groupId, topicId, partitions) => this.partitions.forget(groupId, topicId, partitions));
  }

  /**
   * Ends the sessions of a connection when it closes, releasing what their members hold (Kafka's
   * ShareSessionCache disconnect listener); registered once per connection, by its first ShareFetch.
   * Returns the signal the close aborts first, before the release: a ShareFetch of that connection still
   * waiting (MaxWaitMs) then acquires nothing more, since its answer would go nowhere and what it acquired
   * would wait for its locks to expire.
   */
  watchConnection(connection: Pick<ConnectionInfo, 'id' | 'whenClosed'>): AbortSignal {
    const known = this.watched.get(connection.id);
    if (known !== undefined) return known.signal;
    const closed = new AbortController();
    this.watched.set(connection.id, closed);
    connection.whenClosed(() => {
      this.watched.delete(connection.id);
      closed.abort();
      for (const s of this.sessions.connectionClosed(connection.id)) void this.partitions.releaseMember(s.groupId, s.memberId);
    });
    return closed.signal;
  }

  /**
   * Waits `ms`, or less when `closed` aborts or the broker stops: a ShareFetch that finds the share session
   * cache full is answered SHARE_SESSION_LIMIT_REACHED after its MaxWaitMs, as Kafka's idle share fetch
   * timer answers it, so that its client does not retry at once.
   */
  idle(ms: number, closed: AbortSignal): Promise<void> {
    if (ms <= 0 || closed.aborted || this.shutdown.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        closed.removeEventListener('abort', done);
        this.shutdown.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      closed.addEventListener('abort', done);
      this.shutdown.signal.addEventListener('abort', done);
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
    this.shutdown.abort();
    this.partitions.close();
    this.sessions.clear();
  }
}
