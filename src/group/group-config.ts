/**
 * Every broker setting the group coordinator reads, in one place: the
 * rebalance timeouts and limits, offset retention and metadata size, whether
 * its writes wait for fdatasync, and how `__consumer_offsets` is created.
 * Read once at start, except the topic's settings, read when it is created.
 * The consumer protocol's session timeout and heartbeat interval are the
 * defaults of the per-group configs (group-configs.ts), within their bounds.
 */

/** The typed getters of the broker configuration the coordinator uses (BrokerConfig has them). */
export interface GroupConfigView {
  int(name: string): number;
  long(name: string): number;
  bool(name: string): boolean;
  /** A string config; null when it has no value. */
  get(name: string): string | null;
  string(name: string): string;
}

/** group.consumer.migration.policy: which conversions between classic and consumer groups are allowed (Kafka's ConsumerGroupMigrationPolicy). */
export type MigrationPolicy = 'disabled' | 'upgrade' | 'downgrade' | 'bidirectional';

export const MIGRATION_POLICIES: readonly MigrationPolicy[] = ['disabled', 'upgrade', 'downgrade', 'bidirectional'];

/** A classic group with members may become a consumer group (a consumer-protocol member joins it). */
export function isUpgradeEnabled(policy: MigrationPolicy): boolean {
  return policy === 'upgrade' || policy === 'bidirectional';
}

/** A consumer group left with classic members only may become a classic group. */
export function isDowngradeEnabled(policy: MigrationPolicy): boolean {
  return policy === 'downgrade' || policy === 'bidirectional';
}

export interface GroupConfig {
  /** group.initial.rebalance.delay.ms */
  readonly initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms / group.max.session.timeout.ms */
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  /** group.max.size */
  readonly maxGroupSize: number;
  /** offsets.retention.minutes, in ms */
  readonly retentionMs: number;
  /** offsets.retention.check.interval.ms */
  readonly retentionCheckIntervalMs: number;
  /** gregor.flush.acks.all: group metadata and offset commits are answered after fdatasync. */
  readonly syncWrites: boolean;
  /** offset.metadata.max.bytes */
  readonly metadataMaxBytes: number;
  /** group.consumer.heartbeat.interval.ms: the interval a consumer-protocol member is told to heartbeat at. */
  readonly consumerHeartbeatIntervalMs: number;
  /** group.consumer.session.timeout.ms: a consumer-protocol member without a heartbeat for this long is removed. */
  readonly consumerSessionTimeoutMs: number;
  /** group.share.heartbeat.interval.ms: the interval a share group's member is told to heartbeat at. */
  readonly shareHeartbeatIntervalMs: number;
  /** group.share.session.timeout.ms: a share group's member without a heartbeat for this long is removed. */
  readonly shareSessionTimeoutMs: number;
  /** group.share.max.size: the most members a share group takes. */
  readonly shareMaxSize: number;
  /** group.share.min/max.session.timeout.ms: the bounds of a group's share.session.timeout.ms. */
  readonly shareMinSessionTimeoutMs: number;
  readonly shareMaxSessionTimeoutMs: number;
  /** group.share.min/max.heartbeat.interval.ms: the bounds of a group's share.heartbeat.interval.ms. */
  readonly shareMinHeartbeatIntervalMs: number;
  readonly shareMaxHeartbeatIntervalMs: number;
  /** group.share.record.lock.duration.ms and its bounds (those of a group's share.record.lock.duration.ms). */
  readonly shareRecordLockDurationMs: number;
  readonly shareMinRecordLockDurationMs: number;
  readonly shareMaxRecordLockDurationMs: number;
  /** group.consumer.min/max.session.timeout.ms: the bounds of a group's consumer.session.timeout.ms. */
  readonly consumerMinSessionTimeoutMs: number;
  readonly consumerMaxSessionTimeoutMs: number;
  /** group.consumer.min/max.heartbeat.interval.ms: the bounds of a group's consumer.heartbeat.interval.ms. */
  readonly consumerMinHeartbeatIntervalMs: number;
  readonly consumerMaxHeartbeatIntervalMs: number;
  /** group.consumer.max.size: the most members a consumer group takes. */
  readonly consumerMaxSize: number;
  /** broker.rack: the rack of every partition's only replica, as the consumer protocol's assignors see it; null when not set. */
  readonly brokerRack: string | null;
  /** group.consumer.migration.policy */
  readonly migrationPolicy: MigrationPolicy;
}

export function groupConfigOf(config: GroupConfigView): GroupConfig {
  return {
    initialRebalanceDelayMs: config.int('group.initial.rebalance.delay.ms'),
    minSessionTimeoutMs: config.int('group.min.session.timeout.ms'),
    maxSessionTimeoutMs: config.int('group.max.session.timeout.ms'),
    maxGroupSize: config.int('group.max.size'),
    retentionMs: config.int('offsets.retention.minutes') * 60_000,
    retentionCheckIntervalMs: config.long('offsets.retention.check.interval.ms'),
    syncWrites: config.bool('gregor.flush.acks.all'),
    metadataMaxBytes: config.int('offset.metadata.max.bytes'),
    consumerHeartbeatIntervalMs: config.int('group.consumer.heartbeat.interval.ms'),
    consumerSessionTimeoutMs: config.int('group.consumer.session.timeout.ms'),
    shareHeartbeatIntervalMs: config.int('group.share.heartbeat.interval.ms'),
    shareSessionTimeoutMs: config.int('group.share.session.timeout.ms'),
    shareMaxSize: config.int('group.share.max.size'),
    shareMinSessionTimeoutMs: config.int('group.share.min.session.timeout.ms'),
    shareMaxSessionTimeoutMs: config.int('group.share.max.session.timeout.ms'),
    shareMinHeartbeatIntervalMs: config.int('group.share.min.heartbeat.interval.ms'),
    shareMaxHeartbeatIntervalMs: config.int('group.share.max.heartbeat.interval.ms'),
    shareRecordLockDurationMs: config.int('group.share.record.lock.duration.ms'),
    shareMinRecordLockDurationMs: config.int('group.share.min.record.lock.duration.ms'),
    shareMaxRecordLockDurationMs: config.int('group.share.max.record.lock.duration.ms'),
    consumerMinSessionTimeoutMs: config.int('group.consumer.min.session.timeout.ms'),
    consumerMaxSessionTimeoutMs: config.int('group.consumer.max.session.timeout.ms'),
    consumerMinHeartbeatIntervalMs: config.int('group.consumer.min.heartbeat.interval.ms'),
    consumerMaxHeartbeatIntervalMs: config.int('group.consumer.max.heartbeat.interval.ms'),
    consumerMaxSize: config.int('group.consumer.max.size'),
    brokerRack: config.get('broker.rack'),
    migrationPolicy: config.string('group.consumer.migration.policy').trim().toLowerCase() as MigrationPolicy,
  };
}
