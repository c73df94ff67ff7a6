/**
 * Which broker configs change at runtime, and how a change is checked, as
 * Kafka 3.9 decides it (DynamicBrokerConfig, ConfigAdminManager).
 *
 * Kafka lets AlterConfigs change its "dynamic" broker configs, either for one
 * broker (resource name = its node id, DYNAMIC_BROKER_CONFIG) or as the
 * cluster-wide default (resource name "", DYNAMIC_DEFAULT_BROKER_CONFIG); all
 * others are read-only. Each config's update mode is Kafka's
 * (definitions.ts): per-broker ones only on a broker id, cluster-wide ones on
 * either. Gregor accepts:
 * - the dynamic configs it applies live: the broker defaults of the topic
 *   configs (log.retention.ms, log.segment.bytes, message.max.bytes,
 *   log.cleanup.policy, compression.type, min.insync.replicas, ...; not
 *   log.message.format.version, as in Kafka) — every topic without its own
 *   override follows them at once — gregor.max.partitions.per.topic /
 *   gregor.max.broker.partitions, max.connection.creation.rate (read at each
 *   new connection), and a TLS listener's ssl.* settings with the listener
 *   prefix (Kafka: the key and trust stores only with the prefix), which its
 *   new connections get (certificate rotation, tls-listeners.ts);
 * - Kafka's dynamic configs that Gregor does not implement
 *   (sasl.kerberos.min.time.before.relogin, num.io.threads, ...): validated,
 *   stored and described, with no effect;
 * - custom configs (names Kafka does not know, for plugins) and
 *   listener-prefixed ones (listener.name.<listener>.<config>, checked as
 *   <config>), stored as given, as Kafka stores them.
 * Kafka's dynamic configs that Gregor implements but reads only at start
 * (listeners, advertised.listeners, max.connections, max.connections.per.ip,
 * producer.id.expiration.ms, the log cleaner's settings) are read-only here.
 *
 * A rejected change is INVALID_REQUEST with Kafka's message (Kafka wraps its
 * ConfigException so, KAFKA-13609), in Kafka's order: "Cannot update these
 * configs dynamically: Set(log.dirs)", "These security configs can be
 * dynamically updated only per-listener using the listener prefix: ...",
 * "Invalid value x for configuration y: ...", "Cannot update these configs at
 * default cluster level, broker id must be specified: ...", then "Invalid
 * dynamic configuration" for a thread count outside Kafka's bounds.
 */
import type { ConfigView } from './broker-config.js';
import { configValueProblem, invalidValueMessage, type ConfigDef } from './config-values.js';
import { BROKER_CONFIG_BY_NAME } from './definitions.js';
import { listenerBaseName } from './listeners.js';
import { TOPIC_CONFIGS, type TopicConfigDef } from './topic-configs.js';

export { listenerBaseName } from './listeners.js';

/** Kafka's DynamicLogConfig.ExcludedConfigs. */
const EXCLUDED_LOG_CONFIGS = new Set(['log.message.format.version']);

/** The broker configs Gregor applies live (the others it accepts have no effect). */
/** A TLS listener's key store, trust store and protocol settings: what a dynamic change may replace (security/tls-context.ts reads them with the principal mapping rules). */
export const LISTENER_SSL_CONFIGS: readonly string[] = [
  'ssl.keystore.type',
  'ssl.keystore.location',
  'ssl.keystore.password',
  'ssl.key.password',
  'ssl.keystore.key',
  'ssl.keystore.certificate.chain',
  'ssl.truststore.type',
  'ssl.truststore.location',
  'ssl.truststore.password',
  'ssl.truststore.certificates',
  'ssl.client.auth',
  'ssl.enabled.protocols',
  'ssl.protocol',
  'ssl.cipher.suites',
];

export const LIVE_BROKER_CONFIGS: ReadonlySet<string> = new Set([
  ...TOPIC_CONFIGS.flatMap((def) => {
    const first = def.synonyms[0]?.name;
    return first !== undefined && BROKER_CONFIG_BY_NAME.has(first) && !EXCLUDED_LOG_CONFIGS.has(first) ? [first] : [];
  }),
  'gregor.max.partitions.per.topic',
  'gregor.max.broker.partitions',
  // a TLS listener's settings (security/tls-listeners.ts): with the listener prefix, applied to new connections
  ...LISTENER_SSL_CONFIGS,
  'max.connection.creation.rate',
]);

/** Kafka's SslConfigs.RECONFIGURABLE_CONFIGS: dynamic only with a listener prefix. */
const LISTENER_ONLY_SECURITY_CONFIGS: ReadonlySet<string> = new Set([
  'ssl.keystore.type',
  'ssl.keystore.location',
  'ssl.keystore.password',
  'ssl.key.password',
  'ssl.truststore.type',
  'ssl.truststore.location',
  'ssl.truststore.password',
  'ssl.keystore.certificate.chain',
  'ssl.keystore.key',
  'ssl.truststore.certificates',
]);

/** Kafka's DynamicBrokerConfig.ClusterLevelListenerConfigs: listener configs that may be cluster-wide. */
const CLUSTER_LEVEL_LISTENER_CONFIGS: ReadonlySet<string> = new Set(['max.connections', 'max.connection.creation.rate', 'num.network.threads']);

/** Kafka's DynamicThreadPool.ReconfigurableConfigs and the log cleaner's thread count. */
const THREAD_COUNTS: ReadonlySet<string> = new Set(['num.io.threads', 'num.replica.fetchers', 'num.recovery.threads.per.data.dir', 'background.threads', 'log.cleaner.threads']);


/** Whether AlterConfigs may change a known broker config (see above); custom names are not known. */
export function isDynamicBrokerConfig(name: string): boolean {
  const def = BROKER_CONFIG_BY_NAME.get(name);
  if (def === undefined || def.name !== name) return false;
  return LIVE_BROKER_CONFIGS.has(name) || (def.noEffect === true && def.mode !== undefined);
}

/** Whether DescribeConfigs reports a broker config read-only (Kafka: every name that is not a dynamic config). */
export function isReadOnlyBrokerConfig(name: string): boolean {
  return !isDynamicBrokerConfig(name);
}

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
 * `current` is the broker config, for the changes that depend on the current value (thread counts).
 */
export function brokerConfigChangeProblem(configs: Readonly<Record<string, string>>, perBroker: boolean, current?: ConfigView): string | undefined {
  const names = Object.keys(configs);
  const readOnly = names.filter((n) => BROKER_CONFIG_BY_NAME.has(n) && isReadOnlyBrokerConfig(n));
  if (readOnly.length > 0) return `Cannot update these configs dynamically: ${scalaSet(readOnly)}`;
  const unprefixed = names.filter((n) => LISTENER_ONLY_SECURITY_CONFIGS.has(n));
  if (unprefixed.length > 0) return `These security configs can be dynamically updated only per-listener using the listener prefix: ${scalaSet(unprefixed)}`;
  for (const name of names) {
    const problem = valueProblem(name, configs[name]!);
    if (problem) return problem;
  }
  if (!perBroker) {
    const perBrokerOnly = names.filter((n) => {
      const base = listenerBaseName(n);
      return base === undefined ? BROKER_CONFIG_BY_NAME.get(n)?.mode === 'per-broker' : !CLUSTER_LEVEL_LISTENER_CONFIGS.has(base);
    });
    if (perBrokerOnly.length > 0) return `Cannot update these configs at default cluster level, broker id must be specified: ${scalaSet(perBrokerOnly)}`;
  }
  if (current !== undefined && names.some((n) => threadCountProblem(n, configs[n]!, perBroker, current))) return 'Invalid dynamic configuration';
  return undefined;
}

/**
 * Why a stored name/value cannot be a dynamic broker config (read-only, bad value), or undefined: the check of
 * one config on its own, as at start for the configs a data dir holds.
 */
export function dynamicBrokerConfigProblem(name: string, value: string): string | undefined {
  if (BROKER_CONFIG_BY_NAME.has(name) && isReadOnlyBrokerConfig(name)) return `Cannot update these configs dynamically: ${scalaSet([name])}`;
  return valueProblem(name, value);
}

/** The definition a dynamic name is checked against: its own, or its base config's for a listener prefix. */
export function dynamicConfigDef(name: string): ConfigDef | undefined {
  return BROKER_CONFIG_BY_NAME.get(listenerBaseName(name) ?? name);
}

/**
 * A broker config value as it may be logged, as Kafka's ConfigUtils.configMapToRedactedString: a password
 * "[hidden]", a custom config (which may hold anything) "[redacted]", any other as it is.
 */
export function redactedValue(name: string, value: string | null): string | null {
  const def = dynamicConfigDef(name);
  if (def === undefined) return '[redacted]';
  return def.type === 'password' ? '[hidden]' : value;
}

/** Configs as they may be logged (redactedValue). */
export function redactedConfigs(configs: Readonly<Record<string, string>>): Record<string, string | null> {
  return Object.fromEntries(Object.entries(configs).map(([name, value]) => [name, redactedValue(name, value)]));
}

/** Kafka's validateConfigTypes, and Gregor's check that a topic default is one its topic configs accept. */
function valueProblem(name: string, value: string): string | undefined {
  const base = listenerBaseName(name);
  const def = BROKER_CONFIG_BY_NAME.get(base ?? name);
  // custom configs (names Kafka does not know) are kept as given
  if (!def) return undefined;
  const problem = configValueProblem(def, value);
  if (problem !== undefined) return invalidValueMessage(def.name, value, problem);
  if (base !== undefined) return undefined;
  // it becomes the value of topic configs: it must be one they accept (log.roll.ms=0 cannot be a segment.ms)
  for (const { def: topicDef, factor } of TOPIC_CONFIGS_OF.get(name) ?? []) {
    const converted = factor === 1 ? value : String(BigInt(value.trim()) * BigInt(factor));
    const topicProblem = configValueProblem(topicDef, converted);
    // "segment.ms: Value must be at least 1"
    if (topicProblem !== undefined) return invalidValueMessage(name, value, { ...topicProblem, kafka: `${topicDef.name}: ${topicProblem.kafka}` });
  }
  return undefined;
}

/**
 * Kafka's DynamicThreadPool (and LogCleaner) rule for a changed thread count: at least 1, at least half the
 * current count and at most double it (Java int division).
 */
function threadCountProblem(name: string, value: string, perBroker: boolean, current: ConfigView): boolean {
  if (!THREAD_COUNTS.has(name) || !current.has(name)) return false;
  // at the cluster level, a broker's own value still wins: nothing changes
  if (!perBroker && current.dynamicConfigs('broker')[name] !== undefined) return false;
  const next = Number(value.trim());
  const old = current.int(name);
  if (next === old) return false;
  return next <= 0 || next < Math.trunc(old / 2) || next > old * 2;
}
