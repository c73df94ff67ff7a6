/**
 * Group configs (KIP-848 and KIP-932, Kafka's GroupConfig): settings of one
 * group, set with IncrementalAlterConfigs (or AlterConfigs) on a GROUP
 * resource (type 32) and shown by DescribeConfigs, over the broker's
 * defaults.
 *
 * Gregor has the group configs whose meaning it implements (Kafka 4.1's):
 * - consumer.session.timeout.ms / consumer.heartbeat.interval.ms: the
 *   session timeout of a consumer group's consumer-protocol members and the
 *   interval they are told to heartbeat at (defaults
 *   group.consumer.session.timeout.ms / group.consumer.heartbeat.interval.ms);
 * - share.session.timeout.ms / share.heartbeat.interval.ms: the same for a
 *   share group's members (defaults group.share.session.timeout.ms /
 *   group.share.heartbeat.interval.ms);
 * - share.record.lock.duration.ms: how long a share group's member holds the
 *   records it acquired (default group.share.record.lock.duration.ms);
 * - share.auto.offset.reset: where a share-partition with no start offset
 *   begins (latest, earliest, by_duration:<ISO-8601 duration>; default
 *   latest);
 * - share.isolation.level: read_uncommitted (default) or read_committed.
 * Kafka 4.x's streams.* configs belong to streams groups, which Gregor does
 * not have: they are refused as unknown names, as Kafka refuses any name
 * GroupConfig does not define.
 *
 * Checks (Kafka's GroupConfig.validate, its order and words; INVALID_CONFIG):
 * an unknown name ("Unknown group config name: x"), a value of the wrong
 * type, below 1 or not one of the choices (ConfigDef's messages), then each
 * value within the broker's group.consumer.min/max.* and group.share.min/max.*
 * bounds, then each session timeout above its heartbeat interval. They apply to the group's configs after the
 * change, a config the group does not set counting at the broker's default.
 * An empty group name is INVALID_REQUEST.
 *
 * DescribeConfigs (Kafka's ConfigHelper.createGroupConfigEntry): each config
 * with its effective value, source GROUP_CONFIG when the group sets it (its
 * only synonym) else DEFAULT_CONFIG, never read-only; any group name but "".
 *
 * The configs are stored with the topic metadata (MetadataStore
 * `groupConfigs`), durable before the change is answered, whether or not the
 * group exists (Kafka keeps them in its metadata log the same way). The
 * consumer protocol reads them at every heartbeat (`consumerGroupTimeouts`):
 * a new session timeout applies from the member's next heartbeat. Share
 * groups read theirs the same way: the membership at every heartbeat
 * (`shareGroupTimeouts`), the share-partitions at every fetch
 * (`shareGroupSettings`: a new lock duration applies to the records acquired
 * next, a new reset to share-partitions not yet started).
 */
import { ErrorCode, KafkaError } from '../../protocol/index.js';
import { configValueProblem, invalidValueMessage, type ConfigDef } from '../config/config-values.js';
import { CONFIG_TYPE_ID, type DescribedConfig } from '../config/describe-configs.js';
import { parseShareAutoOffsetReset, type ShareAutoOffsetReset } from '../share/auto-offset-reset.js';
import type { ShareIsolationLevel } from '../share/share-partition.js';
import type { GroupConfig } from './group-config.js';

/** DescribeConfigs' ConfigSource of a value set on the group (Kafka's GROUP_CONFIG). */
export const GROUP_CONFIG_SOURCE = 8;
const DEFAULT_CONFIG_SOURCE = 5;

export const CONSUMER_SESSION_TIMEOUT_MS = 'consumer.session.timeout.ms';
export const CONSUMER_HEARTBEAT_INTERVAL_MS = 'consumer.heartbeat.interval.ms';
export const SHARE_SESSION_TIMEOUT_MS = 'share.session.timeout.ms';
export const SHARE_HEARTBEAT_INTERVAL_MS = 'share.heartbeat.interval.ms';
export const SHARE_RECORD_LOCK_DURATION_MS = 'share.record.lock.duration.ms';
export const SHARE_AUTO_OFFSET_RESET = 'share.auto.offset.reset';
export const SHARE_ISOLATION_LEVEL = 'share.isolation.level';

export interface GroupConfigDef extends ConfigDef {
  /** The broker config that gives its default, when one does (else `default`). */
  readonly brokerDefault?: string;
  /** Its value when the group does not set it, from the broker's settings. */
  readonly defaultOf: (broker: GroupConfig) => string;
}

/** Kafka's ShareGroupAutoOffsetResetStrategy validator, on the trimmed value. */
function autoOffsetResetProblem(value: string): string | undefined {
  try {
    parseShareAutoOffsetReset(value);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export const GROUP_CONFIGS: readonly GroupConfigDef[] = [
  {
    name: CONSUMER_SESSION_TIMEOUT_MS,
    type: 'int',
    default: null,
    min: 1,
    brokerDefault: 'group.consumer.session.timeout.ms',
    defaultOf: (b) => String(b.consumerSessionTimeoutMs),
    doc: 'The timeout to detect client failures when using the consumer group protocol.',
  },
  {
    name: CONSUMER_HEARTBEAT_INTERVAL_MS,
    type: 'int',
    default: null,
    min: 1,
    brokerDefault: 'group.consumer.heartbeat.interval.ms',
    defaultOf: (b) => String(b.consumerHeartbeatIntervalMs),
    doc: 'The heartbeat interval given to the members.',
  },
  {
    name: SHARE_SESSION_TIMEOUT_MS,
    type: 'int',
    default: null,
    min: 1,
    brokerDefault: 'group.share.session.timeout.ms',
    defaultOf: (b) => String(b.shareSessionTimeoutMs),
    doc: 'The timeout to detect client failures when using the share group protocol.',
  },
  {
    name: SHARE_HEARTBEAT_INTERVAL_MS,
    type: 'int',
    default: null,
    min: 1,
    brokerDefault: 'group.share.heartbeat.interval.ms',
    defaultOf: (b) => String(b.shareHeartbeatIntervalMs),
    doc: 'The heartbeat interval given to the members.',
  },
  {
    name: SHARE_RECORD_LOCK_DURATION_MS,
    type: 'int',
    default: null,
    min: 1000,
    brokerDefault: 'group.share.record.lock.duration.ms',
    defaultOf: (b) => String(b.shareRecordLockDurationMs),
    doc: 'The record acquisition lock duration in milliseconds for share groups.',
  },
  {
    name: SHARE_AUTO_OFFSET_RESET,
    type: 'string',
    default: 'latest',
    check: autoOffsetResetProblem,
    defaultOf: () => 'latest',
    doc: 'The strategy to initialize the share-partition start offset.',
  },
  {
    name: SHARE_ISOLATION_LEVEL,
    type: 'string',
    default: 'read_uncommitted',
    choices: ['read_committed', 'read_uncommitted'],
    defaultOf: () => 'read_uncommitted',
    doc: 'Controls how to read records written transactionally. If set to read_committed, the share group will only deliver transactional records which have been committed. If set to read_uncommitted, the share group will return all messages, even transactional messages which have been aborted. Non-transactional records will be returned unconditionally in either mode.',
  },
];

export const GROUP_CONFIG_BY_NAME: ReadonlyMap<string, GroupConfigDef> = new Map(GROUP_CONFIGS.map((d) => [d.name, d]));

/** The session timeout and heartbeat interval of a consumer group: its own configs, else the broker's. */
export interface ConsumerGroupTimeouts {
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
}

export function consumerGroupTimeouts(configs: Readonly<Record<string, string>>, broker: GroupConfig): ConsumerGroupTimeouts {
  const own = (name: string): number | undefined => {
    const v = configs[name];
    return v === undefined ? undefined : Number(v.trim());
  };
  return {
    sessionTimeoutMs: own(CONSUMER_SESSION_TIMEOUT_MS) ?? broker.consumerSessionTimeoutMs,
    heartbeatIntervalMs: own(CONSUMER_HEARTBEAT_INTERVAL_MS) ?? broker.consumerHeartbeatIntervalMs,
  };
}

/** The session timeout and heartbeat interval of a share group: its own configs, else the broker's. */
export function shareGroupTimeouts(configs: Readonly<Record<string, string>>, broker: GroupConfig): ConsumerGroupTimeouts {
  const own = (name: string): number | undefined => {
    const v = configs[name];
    return v === undefined ? undefined : Number(v.trim());
  };
  return {
    sessionTimeoutMs: own(SHARE_SESSION_TIMEOUT_MS) ?? broker.shareSessionTimeoutMs,
    heartbeatIntervalMs: own(SHARE_HEARTBEAT_INTERVAL_MS) ?? broker.shareHeartbeatIntervalMs,
  };
}

/** What a share group's configs say of its share-partitions (share/share-partition-manager.ts's ShareGroupSettings). */
export interface ShareGroupConfigSettings {
  readonly autoOffsetReset: ShareAutoOffsetReset;
  readonly isolationLevel: ShareIsolationLevel;
  readonly recordLockDurationMs: number;
}

/** The share-partition settings of a group: its own configs (checked when set), else the defaults. */
export function shareGroupSettings(configs: Readonly<Record<string, string>>, broker: GroupConfig): ShareGroupConfigSettings {
  const reset = configs[SHARE_AUTO_OFFSET_RESET];
  const isolation = configs[SHARE_ISOLATION_LEVEL]?.trim();
  const lock = configs[SHARE_RECORD_LOCK_DURATION_MS];
  return {
    autoOffsetReset: reset === undefined ? { type: 'latest' } : parseShareAutoOffsetReset(reset),
    isolationLevel: isolation === 'read_committed' ? 'read_committed' : 'read_uncommitted',
    recordLockDurationMs: lock === undefined ? broker.shareRecordLockDurationMs : Number(lock.trim()),
  };
}

function invalidConfig(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_CONFIG, message);
}

/** Kafka's GroupConfig.validate of a group's configs after a change; throws KafkaError to refuse. */
export function validateGroupConfigs(groupId: string, configs: Readonly<Record<string, string>>, broker: GroupConfig): void {
  if (groupId === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Default group resources are not allowed.');
  for (const name of Object.keys(configs)) {
    if (!GROUP_CONFIG_BY_NAME.has(name)) throw invalidConfig(`Unknown group config name: ${name}`);
  }
  for (const def of GROUP_CONFIGS) {
    const value = configs[def.name];
    if (value === undefined) continue;
    const problem = configValueProblem(def, value);
    if (problem !== undefined) throw invalidConfig(invalidValueMessage(def.name, value, problem));
  }
  const { sessionTimeoutMs: session, heartbeatIntervalMs: heartbeat } = consumerGroupTimeouts(configs, broker);
  const share = shareGroupTimeouts(configs, broker);
  const lock = shareGroupSettings(configs, broker).recordLockDurationMs;
  const rules: Array<readonly [boolean, string]> = [
    [heartbeat < broker.consumerMinHeartbeatIntervalMs, `${CONSUMER_HEARTBEAT_INTERVAL_MS} must be greater than or equal to group.consumer.min.heartbeat.interval.ms`],
    [heartbeat > broker.consumerMaxHeartbeatIntervalMs, `${CONSUMER_HEARTBEAT_INTERVAL_MS} must be less than or equal to group.consumer.max.heartbeat.interval.ms`],
    [session < broker.consumerMinSessionTimeoutMs, `${CONSUMER_SESSION_TIMEOUT_MS} must be greater than or equal to group.consumer.min.session.timeout.ms`],
    [session > broker.consumerMaxSessionTimeoutMs, `${CONSUMER_SESSION_TIMEOUT_MS} must be less than or equal to group.consumer.max.session.timeout.ms`],
    [session <= heartbeat, `${CONSUMER_SESSION_TIMEOUT_MS} must be greater than ${CONSUMER_HEARTBEAT_INTERVAL_MS}`],
    [share.heartbeatIntervalMs < broker.shareMinHeartbeatIntervalMs, `${SHARE_HEARTBEAT_INTERVAL_MS} must be greater than or equal to group.share.min.heartbeat.interval.ms`],
    [share.heartbeatIntervalMs > broker.shareMaxHeartbeatIntervalMs, `${SHARE_HEARTBEAT_INTERVAL_MS} must be less than or equal to group.share.max.heartbeat.interval.ms`],
    [share.sessionTimeoutMs < broker.shareMinSessionTimeoutMs, `${SHARE_SESSION_TIMEOUT_MS} must be greater than or equal to group.share.min.session.timeout.ms`],
    [share.sessionTimeoutMs > broker.shareMaxSessionTimeoutMs, `${SHARE_SESSION_TIMEOUT_MS} must be less than or equal to group.share.max.session.timeout.ms`],
    [lock < broker.shareMinRecordLockDurationMs, `${SHARE_RECORD_LOCK_DURATION_MS} must be greater than or equal to group.share.min.record.lock.duration.ms`],
    [lock > broker.shareMaxRecordLockDurationMs, `${SHARE_RECORD_LOCK_DURATION_MS} must be less than or equal to group.share.max.record.lock.duration.ms`],
    [share.sessionTimeoutMs <= share.heartbeatIntervalMs, `${SHARE_SESSION_TIMEOUT_MS} must be greater than ${SHARE_HEARTBEAT_INTERVAL_MS}`],
  ];
  for (const [broken, message] of rules) if (broken) throw invalidConfig(message);
}

/** DescribeConfigs of a GROUP resource: every group config with its value for this group. */
export function describeGroupConfigEntries(groupId: string, configs: Readonly<Record<string, string>>, broker: GroupConfig): DescribedConfig[] {
  if (groupId === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Group name must not be empty');
  return GROUP_CONFIGS.map((def) => {
    const set = configs[def.name];
    const own = set !== undefined;
    const value = own ? (def.type === 'int' ? String(Number(set.trim())) : set) : def.defaultOf(broker);
    return {
      name: def.name,
      value,
      source: own ? GROUP_CONFIG_SOURCE : DEFAULT_CONFIG_SOURCE,
      readOnly: false,
      sensitive: false,
      synonyms: own ? [{ name: def.name, value, source: GROUP_CONFIG_SOURCE }] : [],
      type: CONFIG_TYPE_ID[def.type],
      documentation: def.doc ?? null,
    };
  });
}
