/**
 * Group configs (KIP-848, Kafka's GroupConfig): settings of one group, set
 * with IncrementalAlterConfigs (or AlterConfigs) on a GROUP resource (type
 * 32) and shown by DescribeConfigs, over the broker's defaults.
 *
 * Gregor has the group configs whose meaning it implements:
 * - consumer.session.timeout.ms: the session timeout of the group's
 *   consumer-protocol members (default group.consumer.session.timeout.ms);
 * - consumer.heartbeat.interval.ms: the interval they are told to heartbeat
 *   at (default group.consumer.heartbeat.interval.ms).
 * Kafka 4.x's other group configs (share.*, streams.*) belong to share and
 * streams groups, which Gregor does not have: they are refused as unknown
 * names, as Kafka refuses any name GroupConfig does not define.
 *
 * Checks (Kafka's GroupConfig.validate, its order and words; INVALID_CONFIG):
 * an unknown name ("Unknown group config name: x"), a value that is not an
 * int or is below 1 (ConfigDef's messages), then each value within the
 * broker's group.consumer.min/max.* bounds, then the session timeout above
 * the heartbeat interval. They apply to the group's configs after the
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
 * a new session timeout applies from the member's next heartbeat.
 */
import { ErrorCode, KafkaError } from '../../protocol/index.js';
import { configValueProblem, invalidValueMessage, type ConfigDef } from '../config/config-values.js';
import { CONFIG_TYPE_ID, type DescribedConfig } from '../config/describe-configs.js';
import type { GroupConfig } from './group-config.js';

/** DescribeConfigs' ConfigSource of a value set on the group (Kafka's GROUP_CONFIG). */
export const GROUP_CONFIG_SOURCE = 8;
const DEFAULT_CONFIG_SOURCE = 5;

export const CONSUMER_SESSION_TIMEOUT_MS = 'consumer.session.timeout.ms';
export const CONSUMER_HEARTBEAT_INTERVAL_MS = 'consumer.heartbeat.interval.ms';

export interface GroupConfigDef extends ConfigDef {
  /** The broker config that gives its default. */
  readonly brokerDefault: string;
}

export const GROUP_CONFIGS: readonly GroupConfigDef[] = [
  {
    name: CONSUMER_SESSION_TIMEOUT_MS,
    type: 'int',
    default: null,
    min: 1,
    brokerDefault: 'group.consumer.session.timeout.ms',
    doc: 'The timeout to detect client failures when using the consumer group protocol.',
  },
  {
    name: CONSUMER_HEARTBEAT_INTERVAL_MS,
    type: 'int',
    default: null,
    min: 1,
    brokerDefault: 'group.consumer.heartbeat.interval.ms',
    doc: 'The heartbeat interval given to the members.',
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
  const rules: Array<readonly [boolean, string]> = [
    [heartbeat < broker.consumerMinHeartbeatIntervalMs, `${CONSUMER_HEARTBEAT_INTERVAL_MS} must be greater than or equal to group.consumer.min.heartbeat.interval.ms`],
    [heartbeat > broker.consumerMaxHeartbeatIntervalMs, `${CONSUMER_HEARTBEAT_INTERVAL_MS} must be less than or equal to group.consumer.max.heartbeat.interval.ms`],
    [session < broker.consumerMinSessionTimeoutMs, `${CONSUMER_SESSION_TIMEOUT_MS} must be greater than or equal to group.consumer.min.session.timeout.ms`],
    [session > broker.consumerMaxSessionTimeoutMs, `${CONSUMER_SESSION_TIMEOUT_MS} must be less than or equal to group.consumer.max.session.timeout.ms`],
    [session <= heartbeat, `${CONSUMER_SESSION_TIMEOUT_MS} must be greater than ${CONSUMER_HEARTBEAT_INTERVAL_MS}`],
  ];
  for (const [broken, message] of rules) if (broken) throw invalidConfig(message);
}

/** DescribeConfigs of a GROUP resource: every group config with its value for this group. */
export function describeGroupConfigEntries(groupId: string, configs: Readonly<Record<string, string>>, broker: GroupConfig): DescribedConfig[] {
  if (groupId === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Group name must not be empty');
  const effective = consumerGroupTimeouts(configs, broker);
  const values: Record<string, number> = { [CONSUMER_SESSION_TIMEOUT_MS]: effective.sessionTimeoutMs, [CONSUMER_HEARTBEAT_INTERVAL_MS]: effective.heartbeatIntervalMs };
  return GROUP_CONFIGS.map((def) => {
    const value = String(values[def.name]);
    const own = configs[def.name] !== undefined;
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
