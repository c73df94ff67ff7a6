/**
 * Topic-level configuration as Kafka 3.9 defines it (LogConfig + ServerTopicConfigSynonyms):
 * every topic config name with its type, default, validation, documentation and the broker
 * configs it falls back to (its synonyms, in precedence order, some in other units).
 *
 * A topic's effective value is its override when it has one, else the first synonym the broker
 * has a value for (log.retention.ms, then log.retention.minutes, then log.retention.hours), else
 * the default here. CreateTopics validates overrides with this table; DescribeConfigs and
 * AlterConfigs describe and validate from it too.
 */
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../storage/index.js';
import type { ConfigSourceKind, ConfigView } from './broker-config.js';
import { configValueProblem, invalidValueMessage, KAFKA_VALIDATORS, type ConfigDef, type ConfigProblem } from './config-values.js';
import { metadataVersionProblem } from './kafka-version.js';

export interface ConfigSynonym {
  /** Broker config name. */
  readonly name: string;
  /** Multiplier from the broker config's unit to the topic config's (hours → ms: 3600000). */
  readonly factor?: number;
}

export interface TopicConfigDef extends ConfigDef {
  /** Broker configs this topic config defaults to, first with a value wins. */
  readonly synonyms: readonly ConfigSynonym[];
}

const LONG_MAX = '9223372036854775807';
const HOURS = 3_600_000;
const MINUTES = 60_000;

/** Kafka's ThrottledReplicaListValidator: '*' or partitionId:brokerId pairs (the value named as Java prints the list). */
function throttledReplicas(name: string): (value: string) => ConfigProblem | undefined {
  return (value) => {
    const items = value.split(',').map((s) => s.trim());
    if (items.every((s) => /^(\d+:\d+)?$/.test(s)) || items.join('') === '*') return undefined;
    const text = `${name} must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...`;
    return { detail: text, kafka: text, value: `[${items.join(', ')}]` };
  };
}

/** Kafka 3.9's topic configs, alphabetically (as DescribeConfigs lists them). */
export const TOPIC_CONFIGS: readonly TopicConfigDef[] = [
  { name: 'cleanup.policy', type: 'list', default: 'delete', choices: ['compact', 'delete'], synonyms: [{ name: 'log.cleanup.policy' }],
    doc: 'This config designates the retention policy to use on log segments. The "delete" policy (which is the default) will discard old segments when their retention time or size limit has been reached. The "compact" policy will enable log compaction, which retains the latest value for each key. It is also possible to specify both policies in a comma-separated list (e.g. "delete,compact").' },
  { name: 'compression.gzip.level', type: 'int', default: '-1', check: KAFKA_VALIDATORS['gzip-level'], synonyms: [{ name: 'compression.gzip.level' }],
    doc: 'The compression level to use if compression.type is set to gzip.' },
  { name: 'compression.lz4.level', type: 'int', default: '9', min: 1, max: 17, synonyms: [{ name: 'compression.lz4.level' }],
    doc: 'The compression level to use if compression.type is set to lz4.' },
  { name: 'compression.type', type: 'string', default: 'producer', choices: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'], synonyms: [{ name: 'compression.type' }],
    doc: "Specify the final compression type for a given topic. This configuration accepts the standard compression codecs ('gzip', 'snappy', 'lz4', 'zstd'). It additionally accepts 'uncompressed' which is equivalent to no compression; and 'producer' which means retain the original compression codec set by the producer." },
  { name: 'compression.zstd.level', type: 'int', default: '3', min: -131072, max: 22, synonyms: [{ name: 'compression.zstd.level' }],
    doc: 'The compression level to use if compression.type is set to zstd.' },
  { name: 'delete.retention.ms', type: 'long', default: '86400000', min: 0, synonyms: [{ name: 'log.cleaner.delete.retention.ms' }],
    doc: 'The amount of time to retain delete tombstone markers for log compacted topics.' },
  { name: 'file.delete.delay.ms', type: 'long', default: '60000', min: 0, synonyms: [{ name: 'log.segment.delete.delay.ms' }],
    doc: 'The time to wait before deleting a file from the filesystem.' },
  { name: 'flush.messages', type: 'long', default: LONG_MAX, min: 1, synonyms: [{ name: 'log.flush.interval.messages' }],
    doc: 'This setting allows specifying an interval at which we will force an fsync of data written to the log.' },
  { name: 'flush.ms', type: 'long', default: LONG_MAX, min: 0, synonyms: [{ name: 'log.flush.interval.ms' }, { name: 'log.flush.scheduler.interval.ms' }],
    doc: 'This setting allows specifying a time interval at which we will force an fsync of data written to the log.' },
  { name: 'follower.replication.throttled.replicas', type: 'list', default: '', check: throttledReplicas('follower.replication.throttled.replicas'), synonyms: [],
    doc: "A list of replicas for which log replication should be throttled on the follower side. The list should describe a set of replicas in the form [PartitionId]:[BrokerId],[PartitionId]:[BrokerId]:... or alternatively the wildcard '*' can be used to throttle all replicas for this topic." },
  { name: 'index.interval.bytes', type: 'int', default: '4096', min: 0, synonyms: [{ name: 'log.index.interval.bytes' }],
    doc: 'This setting controls how frequently Kafka adds an index entry to its offset index.' },
  { name: 'leader.replication.throttled.replicas', type: 'list', default: '', check: throttledReplicas('leader.replication.throttled.replicas'), synonyms: [],
    doc: "A list of replicas for which log replication should be throttled on the leader side. The list should describe a set of replicas in the form [PartitionId]:[BrokerId],[PartitionId]:[BrokerId]:... or alternatively the wildcard '*' can be used to throttle all replicas for this topic." },
  { name: 'local.retention.bytes', type: 'long', default: '-2', min: -2, synonyms: [{ name: 'log.local.retention.bytes' }],
    doc: 'The maximum size of local log segments that can grow for a partition before it deletes the old segments (tiered storage). Default value is -2, it represents `retention.bytes` value to be used.' },
  { name: 'local.retention.ms', type: 'long', default: '-2', min: -2, synonyms: [{ name: 'log.local.retention.ms' }],
    doc: 'The number of milliseconds to keep the local log segment before it gets deleted (tiered storage). Default value is -2, it represents `retention.ms` value is to be used.' },
  { name: 'max.compaction.lag.ms', type: 'long', default: LONG_MAX, min: 1, synonyms: [{ name: 'log.cleaner.max.compaction.lag.ms' }],
    doc: 'The maximum time a message will remain ineligible for compaction in the log. Only applicable for logs that are being compacted.' },
  { name: 'max.message.bytes', type: 'int', default: '1048588', min: 0, synonyms: [{ name: 'message.max.bytes' }],
    doc: 'The largest record batch size allowed by Kafka (after compression if compression is enabled).' },
  { name: 'message.downconversion.enable', type: 'boolean', default: 'true', synonyms: [{ name: 'log.message.downconversion.enable' }],
    doc: 'This configuration controls whether down-conversion of message formats is enabled to satisfy consume requests.' },
  { name: 'message.format.version', type: 'string', default: '3.0-IV1', check: metadataVersionProblem, synonyms: [{ name: 'log.message.format.version' }],
    doc: '[DEPRECATED] Specify the message format version the broker will use to append messages to the logs. Ignored for inter.broker.protocol.version 3.0 and above.' },
  { name: 'message.timestamp.after.max.ms', type: 'long', default: LONG_MAX, min: 0, synonyms: [{ name: 'log.message.timestamp.after.max.ms' }],
    doc: 'This configuration sets the allowable timestamp difference between the message timestamp and the broker\'s timestamp. The message timestamp can be later than or equal to the broker\'s timestamp, with the maximum allowable difference determined by the value set in this configuration. Ignored if message.timestamp.type=LogAppendTime.' },
  { name: 'message.timestamp.before.max.ms', type: 'long', default: LONG_MAX, min: 0, synonyms: [{ name: 'log.message.timestamp.before.max.ms' }],
    doc: 'This configuration sets the allowable timestamp difference between the broker\'s timestamp and the message timestamp. The message timestamp can be earlier than or equal to the broker\'s timestamp, with the maximum allowable difference determined by the value set in this configuration. Ignored if message.timestamp.type=LogAppendTime.' },
  { name: 'message.timestamp.difference.max.ms', type: 'long', default: LONG_MAX, min: 0, synonyms: [{ name: 'log.message.timestamp.difference.max.ms' }],
    doc: '[DEPRECATED] The maximum difference allowed between the timestamp when a broker receives a message and the timestamp specified in the message. Ignored if message.timestamp.type=LogAppendTime.' },
  { name: 'message.timestamp.type', type: 'string', default: 'CreateTime', choices: ['CreateTime', 'LogAppendTime'], synonyms: [{ name: 'log.message.timestamp.type' }],
    doc: 'Define whether the timestamp in the message is message create time or log append time.' },
  { name: 'min.cleanable.dirty.ratio', type: 'double', default: '0.5', min: 0, max: 1, synonyms: [{ name: 'log.cleaner.min.cleanable.ratio' }],
    doc: 'This configuration controls how frequently the log compactor will attempt to clean the log (assuming log compaction is enabled).' },
  { name: 'min.compaction.lag.ms', type: 'long', default: '0', min: 0, synonyms: [{ name: 'log.cleaner.min.compaction.lag.ms' }],
    doc: 'The minimum time a message will remain uncompacted in the log. Only applicable for logs that are being compacted.' },
  { name: 'min.insync.replicas', type: 'int', default: '1', min: 1, synonyms: [{ name: 'min.insync.replicas' }],
    doc: 'When a producer sets acks to "all" (or "-1"), this configuration specifies the minimum number of replicas that must acknowledge a write for the write to be considered successful. If this minimum cannot be met, then the producer will raise an exception (either NotEnoughReplicas or NotEnoughReplicasAfterAppend).' },
  { name: 'preallocate', type: 'boolean', default: 'false', synonyms: [{ name: 'log.preallocate' }],
    doc: 'True if we should preallocate the file on disk when creating a new log segment.' },
  { name: 'remote.log.copy.disable', type: 'boolean', default: 'false', synonyms: [],
    doc: 'Determines whether tiered data for a topic should become read only, and no more data uploading on a topic.' },
  { name: 'remote.log.delete.on.disable', type: 'boolean', default: 'false', synonyms: [],
    doc: 'Determines whether tiered data for a topic should be deleted after tiered storage is disabled on a topic.' },
  { name: 'remote.storage.enable', type: 'boolean', default: 'false', synonyms: [],
    doc: 'To enable tiered storage for a topic, set this configuration as true. Gregor has no tiered storage: only false is accepted.' },
  { name: 'retention.bytes', type: 'long', default: '-1', synonyms: [{ name: 'log.retention.bytes' }],
    doc: 'This configuration controls the maximum size a partition can grow to before we will discard old log segments to free up space if we are using the "delete" retention policy. By default there is no size limit only a time limit.' },
  { name: 'retention.ms', type: 'long', default: '604800000', min: -1, synonyms: [{ name: 'log.retention.ms' }, { name: 'log.retention.minutes', factor: MINUTES }, { name: 'log.retention.hours', factor: HOURS }],
    doc: 'This configuration controls the maximum time we will retain a log before we will discard old log segments to free up space if we are using the "delete" retention policy. If set to -1, no time limit is applied.' },
  { name: 'segment.bytes', type: 'int', default: '1073741824', min: 14, synonyms: [{ name: 'log.segment.bytes' }],
    doc: 'This configuration controls the segment file size for the log.' },
  { name: 'segment.index.bytes', type: 'int', default: '10485760', min: 4, synonyms: [{ name: 'log.index.size.max.bytes' }],
    doc: 'This configuration controls the size of the index that maps offsets to file positions.' },
  { name: 'segment.jitter.ms', type: 'long', default: '0', min: 0, synonyms: [{ name: 'log.roll.jitter.ms' }, { name: 'log.roll.jitter.hours', factor: HOURS }],
    doc: 'The maximum random jitter subtracted from the scheduled segment roll time to avoid thundering herds of segment rolling.' },
  { name: 'segment.ms', type: 'long', default: '604800000', min: 1, synonyms: [{ name: 'log.roll.ms' }, { name: 'log.roll.hours', factor: HOURS }],
    doc: 'This configuration controls the period of time after which Kafka will force the log to roll even if the segment file isn\'t full to ensure that retention can delete or compact old data.' },
  { name: 'unclean.leader.election.enable', type: 'boolean', default: 'false', synonyms: [{ name: 'unclean.leader.election.enable' }],
    doc: 'Indicates whether to enable replicas not in the ISR set to be elected as leader as a last resort, even though doing so may result in data loss.' },
];

export const TOPIC_CONFIG_BY_NAME: ReadonlyMap<string, TopicConfigDef> = new Map(TOPIC_CONFIGS.map((d) => [d.name, d]));

/** Values Gregor cannot honour although Kafka accepts them. */
function unsupported(name: string, value: string): ConfigProblem | undefined {
  if (name === 'remote.storage.enable' && value.trim().toLowerCase() === 'true') {
    const text = 'Tiered storage is not supported by this broker (remote.storage.enable=true)';
    return { detail: text, kafka: text };
  }
  return undefined;
}

/**
 * Validates topic config overrides; returns the normalised map, or the first problem as Kafka
 * words it (the caller answers INVALID_CONFIG with it).
 */
export function validateTopicConfigs(configs: Record<string, string | null>): { ok: Map<string, string> } | { error: string } {
  const ok = new Map<string, string>();
  for (const [name, value] of Object.entries(configs)) {
    const def = TOPIC_CONFIG_BY_NAME.get(name);
    if (!def) return { error: `Unknown topic config name: ${name}` };
    if (value === null) return { error: `Null value not supported for topic configs: ${name}` };
    const problem = configValueProblem(def, value) ?? unsupported(name, value);
    if (problem) return { error: invalidValueMessage(name, value, problem) };
    ok.set(name, def.type === 'list' ? value.split(',').map((s) => s.trim()).filter((s) => s !== '').join(',') : value.trim());
  }
  return { ok };
}

export interface ResolvedConfigEntry {
  readonly def: TopicConfigDef;
  /** The effective value, as Kafka prints it. */
  readonly value: string;
  readonly source: 'TOPIC_CONFIG' | ConfigSourceKind;
  /** Where it came from: the topic override, then the broker synonyms that have a value, then the default. */
  readonly synonyms: ReadonlyArray<{ name: string; value: string; source: 'TOPIC_CONFIG' | ConfigSourceKind }>;
}

/** Broker synonyms of a topic config that have a value, in precedence order (values converted to the topic's unit). */
function brokerSynonyms(def: TopicConfigDef, broker: ConfigView): Array<{ name: string; raw: string; value: string; source: ConfigSourceKind }> {
  const out: Array<{ name: string; raw: string; value: string; source: ConfigSourceKind }> = [];
  for (const syn of def.synonyms) {
    if (!broker.has(syn.name)) continue;
    const raw = broker.get(syn.name);
    if (raw === null) continue;
    const value = syn.factor ? String(BigInt(raw.trim()) * BigInt(syn.factor)) : raw;
    out.push({ name: syn.name, raw, value, source: broker.source(syn.name) });
  }
  return out;
}

/** Every topic config of a topic with its effective value and its source. */
export function describeTopicConfigs(broker: ConfigView, overrides: ReadonlyMap<string, string>): ResolvedConfigEntry[] {
  return TOPIC_CONFIGS.map((def) => {
    const fromBroker = brokerSynonyms(def, broker);
    const synonyms: Array<{ name: string; value: string; source: 'TOPIC_CONFIG' | ConfigSourceKind }> = [];
    const override = overrides.get(def.name);
    if (override !== undefined) synonyms.push({ name: def.name, value: override, source: 'TOPIC_CONFIG' });
    for (const s of fromBroker) synonyms.push({ name: s.name, value: s.raw, source: s.source });
    if (override !== undefined) return { def, value: override, source: 'TOPIC_CONFIG', synonyms };
    const first = fromBroker[0];
    if (first) return { def, value: first.value, source: first.source, synonyms };
    return { def, value: def.default ?? '', source: 'DEFAULT_CONFIG', synonyms };
  });
}

/** Effective settings of a topic that the produce/fetch paths need, resolved once per config change. */
export interface TopicConfigView {
  /** max.message.bytes (broker: message.max.bytes). */
  readonly messageMaxBytes: number;
  /** message.timestamp.type */
  readonly timestampType: 'CreateTime' | 'LogAppendTime';
  /** compression.type ('producer' keeps batches as sent). */
  readonly compressionType: string;
  /** min.insync.replicas */
  readonly minInsyncReplicas: number;
  /** cleanup.policy */
  readonly cleanupPolicy: string;
  /** message.timestamp.before.max.ms (message.timestamp.difference.max.ms when only that is set). */
  readonly timestampBeforeMaxMs: number;
  /** message.timestamp.after.max.ms (message.timestamp.difference.max.ms when only that is set). */
  readonly timestampAfterMaxMs: number;
  /** message.downconversion.enable */
  readonly downConversionEnable: boolean;
  /** The resolved storage config. */
  readonly log: LogConfig;
  /** Every topic config by name, effective value. */
  readonly values: ReadonlyMap<string, string>;
}

function toNumber(v: string): number {
  return Math.min(Number(v), Number.MAX_SAFE_INTEGER);
}

/** Resolves a topic's effective configuration from its overrides and the broker's configuration. */
export function resolveTopicConfig(broker: ConfigView, overrides: ReadonlyMap<string, string>): TopicConfigView {
  const values = new Map<string, string>();
  for (const e of describeTopicConfigs(broker, overrides)) values.set(e.def.name, e.value);
  const num = (name: string): number => toNumber(values.get(name)!);
  // Kafka: before/after.max.ms fall back to the deprecated difference.max.ms when only that is set.
  const diffSet = overrides.has('message.timestamp.difference.max.ms') || (broker.has('log.message.timestamp.difference.max.ms') && broker.isSet('log.message.timestamp.difference.max.ms'));
  const beforeSet = overrides.has('message.timestamp.before.max.ms') || broker.isSet('log.message.timestamp.before.max.ms');
  const afterSet = overrides.has('message.timestamp.after.max.ms') || broker.isSet('log.message.timestamp.after.max.ms');
  const diff = num('message.timestamp.difference.max.ms');
  const retentionBytes = num('retention.bytes');
  const log: LogConfig = {
    ...DEFAULT_LOG_CONFIG,
    segmentBytes: num('segment.bytes'),
    segmentMs: num('segment.ms'),
    // storage's indexes need room for at least one entry
    segmentIndexBytes: Math.max(num('segment.index.bytes'), 8),
    indexIntervalBytes: num('index.interval.bytes'),
    retentionMs: num('retention.ms'),
    retentionBytes: retentionBytes < 0 ? -1 : retentionBytes,
    flushMessages: num('flush.messages'),
    // flush.ms=0 (flush on every append) is the smallest interval storage knows: 1 ms
    flushMs: Math.max(num('flush.ms'), 1),
    fileDeleteDelayMs: num('file.delete.delay.ms'),
    cleanupPolicy: values.get('cleanup.policy')!,
    minCleanableDirtyRatio: Number(values.get('min.cleanable.dirty.ratio')),
    deleteRetentionMs: num('delete.retention.ms'),
    minCompactionLagMs: num('min.compaction.lag.ms'),
    maxCompactionLagMs: num('max.compaction.lag.ms'),
  };
  return {
    messageMaxBytes: num('max.message.bytes'),
    timestampType: values.get('message.timestamp.type') === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
    compressionType: values.get('compression.type')!,
    minInsyncReplicas: num('min.insync.replicas'),
    cleanupPolicy: values.get('cleanup.policy')!,
    timestampBeforeMaxMs: diffSet && !beforeSet ? diff : num('message.timestamp.before.max.ms'),
    timestampAfterMaxMs: diffSet && !afterSet ? diff : num('message.timestamp.after.max.ms'),
    downConversionEnable: values.get('message.downconversion.enable')!.toLowerCase() === 'true',
    log,
    values,
  };
}

/** DescribeConfigs' ConfigSource ids (also used by CreateTopics v5+). */
export const CONFIG_SOURCE_ID: Readonly<Record<'TOPIC_CONFIG' | ConfigSourceKind, number>> = {
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
};
