/**
 * Which broker configs change at runtime, and how a change is checked, as
 * Kafka 3.9 decides it (DynamicBrokerConfig, ConfigAdminManager).
 *
 * Kafka lets AlterConfigs change its "dynamic" broker configs, either for one
 * broker (resource name = its node id, DYNAMIC_BROKER_CONFIG) or as the
 * cluster-wide default (resource name "", DYNAMIC_DEFAULT_BROKER_CONFIG); all
 * others are read-only. Gregor's dynamic configs are the ones Kafka has that
 * Gregor applies live: the broker defaults of the topic configs
 * (log.retention.ms, log.segment.bytes, message.max.bytes, log.cleanup.policy,
 * compression.type, min.insync.replicas, ...; not log.message.format.version,
 * as in Kafka) — every topic without its own override follows them at once —
 * and gregor.max.partitions.per.topic / gregor.max.broker.partitions. Kafka's other dynamic configs that
 * Gregor reads only at start (listeners, max.connections,
 * max.connections.per.ip, producer.id.expiration.ms, ...) are read-only here.
 *
 * A rejected change is INVALID_REQUEST with Kafka's message (Kafka wraps its
 * ConfigException so, KAFKA-13609): "Cannot update these configs dynamically:
 * Set(log.dirs)", "Invalid value x for configuration y: ...".
 */
import { invalidValueMessage, validateConfigValue } from './broker-config.js';
import { BROKER_CONFIG_BY_NAME } from './definitions.js';
import { TOPIC_CONFIGS, type TopicConfigDef } from './topic-configs.js';

/** Kafka's DynamicLogConfig.ExcludedConfigs. */
const EXCLUDED_LOG_CONFIGS = new Set(['log.message.format.version']);

/** The broker configs AlterConfigs may change (Kafka's dynamic configs that Gregor applies live). */
export const DYNAMIC_BROKER_CONFIGS: ReadonlySet<string> = new Set([
  ...TOPIC_CONFIGS.flatMap((def) => {
    const first = def.synonyms[0]?.name;
    return first !== undefined && BROKER_CONFIG_BY_NAME.has(first) && !EXCLUDED_LOG_CONFIGS.has(first) ? [first] : [];
  }),
  'gregor.max.partitions.per.topic',
  'gregor.max.broker.partitions',
]);

/** The topic configs a broker config is the default of, with its factor to the topic's unit. */
const TOPIC_CONFIGS_OF: ReadonlyMap<string, ReadonlyArray<{ def: TopicConfigDef; factor: number }>> = (() => {
  const out = new Map<string, Array<{ def: TopicConfigDef; factor: number }>>();
  for (const def of TOPIC_CONFIGS) {
    for (const syn of def.synonyms) {
      const list = out.get(syn.name) ?? [];
      list.push({ def, factor: syn.factor ?? 1 });
      out.set(syn.name, list);
    }
  }
  return out;
})();

/** Whether DescribeConfigs reports the broker config read-only. */
export function isReadOnlyBrokerConfig(name: string): boolean {
  return !DYNAMIC_BROKER_CONFIGS.has(name);
}

/**
 * Kafka's brokerConfigSynonyms: the names one broker setting goes by, in precedence order
 * (log.retention.ms, log.retention.minutes, log.retention.hours); a name without others is its own list.
 */
export function brokerConfigSynonyms(name: string): string[] {
  switch (name) {
    case 'log.roll.ms':
    case 'log.roll.hours':
      return ['log.roll.ms', 'log.roll.hours'];
    case 'log.roll.jitter.ms':
    case 'log.roll.jitter.hours':
      return ['log.roll.jitter.ms', 'log.roll.jitter.hours'];
    case 'log.flush.interval.ms':
      // log.flush.scheduler.interval.ms is its default
      return ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'];
    case 'log.retention.ms':
    case 'log.retention.minutes':
    case 'log.retention.hours':
      return ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'];
    default:
      return [name];
  }
}

/** A Scala Set as Kafka's messages print it. */
function scalaSet(names: readonly string[]): string {
  return `Set(${names.join(', ')})`;
}

/**
 * Checks the complete new dynamic configs of one level (this broker's own when `perBroker`, else the cluster
 * default) as Kafka's DynamicBrokerConfig.validate does; returns the INVALID_REQUEST message, or undefined.
 */
export function brokerConfigChangeProblem(configs: Readonly<Record<string, string>>): string | undefined {
  const names = Object.keys(configs);
  const readOnly = names.filter((n) => BROKER_CONFIG_BY_NAME.has(n) && isReadOnlyBrokerConfig(n));
  if (readOnly.length > 0) return `Cannot update these configs dynamically: ${scalaSet(readOnly)}`;
  for (const name of names) {
    const problem = dynamicBrokerConfigProblem(name, configs[name]!);
    if (problem) return problem;
  }
  return undefined;
}

/** Why a name/value cannot be a dynamic broker config (unknown, read-only, bad value), or undefined. */
export function dynamicBrokerConfigProblem(name: string, value: string): string | undefined {
  const def = BROKER_CONFIG_BY_NAME.get(name);
  // Kafka stores unknown broker keys (custom configs); Gregor has nowhere to use them
  if (!def) return `Unknown broker config name: ${name}`;
  if (isReadOnlyBrokerConfig(name)) return `Cannot update these configs dynamically: ${scalaSet([name])}`;
  const problem = validateConfigValue(def, value);
  if (problem !== undefined) return invalidValueMessage(name, value, problem);
  // it becomes the value of topic configs: it must be one they accept (log.roll.ms=0 cannot be a segment.ms)
  for (const { def: topicDef, factor } of TOPIC_CONFIGS_OF.get(name) ?? []) {
    const converted = factor === 1 ? value : String(BigInt(value.trim()) * BigInt(factor));
    const topicProblem = validateConfigValue(topicDef, converted);
    // "segment.ms: 0 is below the minimum 1"
    if (topicProblem !== undefined) return invalidValueMessage(name, value, topicProblem);
  }
  return undefined;
}
