/**
 * DescribeConfigs' view of the broker and topic configs, as Kafka 3.9's
 * ConfigHelper builds it.
 *
 * Each entry has its value as Kafka prints it, a source, the synonyms (every
 * layer that has a value for the setting: this broker's dynamic value, the
 * cluster's dynamic default, the static value, the default — for all the names
 * the setting goes by, layer by layer), read-only and sensitive flags, its type
 * and documentation. Two of Kafka's rules are kept to the letter, because
 * clients show what they get:
 * - the synonyms start at the first one carrying the described name itself:
 *   a topic's retention.ms on a broker with only log.retention.hours=168 (a
 *   default) has no synonyms and the source DEFAULT_CONFIG, with the value
 *   604800000 computed from the hours;
 * - the source is the first synonym's source, or DEFAULT_CONFIG without one.
 * (CreateTopics' result configs follow another rule of Kafka's, see
 * describeTopicConfigs in topic-configs.ts.)
 */
import type { ConfigSourceKind, ConfigView } from './broker-config.js';
import { splitList, type ConfigDef, type ConfigType } from './config-values.js';
import { BROKER_CONFIG_BY_NAME, BROKER_CONFIGS } from './definitions.js';
import { brokerConfigSynonyms, isReadOnlyBrokerConfig, listenerBaseName } from './dynamic-broker-configs.js';
import { KAFKA_BROKER_CONFIG_DOCS } from './kafka-broker-config-docs.js';
import { CONFIG_SOURCE_ID, describeTopicConfigs, TOPIC_CONFIGS } from './topic-configs.js';

export interface DescribedSynonym {
  readonly name: string;
  readonly value: string | null;
  /** ConfigSource id (CONFIG_SOURCE_ID). */
  readonly source: number;
}

export interface DescribedConfig {
  readonly name: string;
  readonly value: string | null;
  /** ConfigSource id. */
  readonly source: number;
  readonly readOnly: boolean;
  readonly sensitive: boolean;
  readonly synonyms: readonly DescribedSynonym[];
  /** DescribeConfigs ConfigType id. */
  readonly type: number;
  readonly documentation: string | null;
}

/** DescribeConfigsResponse.ConfigType ids (UNKNOWN 0: a custom config). */
export const CONFIG_TYPE_ID: Readonly<Record<ConfigType, number>> = {
  boolean: 1,
  string: 2,
  int: 3,
  short: 4,
  long: 5,
  double: 6,
  list: 7,
  class: 8,
  password: 9,
};
const UNKNOWN_TYPE = 0;

/** ConfigSource id of the broker logger levels (DescribeConfigs on BROKER_LOGGER). */
export const DYNAMIC_BROKER_LOGGER_CONFIG = 6;

/** A value as Kafka prints the parsed config: lists joined with ',', booleans in lower case, doubles with a fraction. */
export function formatConfigValue(def: ConfigDef, raw: string): string {
  switch (def.type) {
    case 'list':
      return splitList(raw).join(',');
    case 'boolean':
      return raw.trim().toLowerCase();
    case 'short':
    case 'int':
    case 'long':
      return /^[-+]?\d+$/.test(raw.trim()) ? BigInt(raw.trim()).toString() : raw;
    case 'double':
      return javaDouble(Number(raw.trim().replace(/[fFdD]$/, '')));
    default:
      return raw.trim();
  }
}

/** Java's Double.toString: "0.5", "10.0", "1.0E7", "1.7976931348623157E308". */
export function javaDouble(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
  const abs = Math.abs(n);
  if (n === 0 || (abs >= 1e-3 && abs < 1e7)) return Number.isInteger(n) ? n.toFixed(1) : String(n);
  const [mantissa, exponent] = n.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/** A config's documentation: Gregor's, or Kafka's for the configs Gregor does not implement. */
export function documentationOf(def: ConfigDef): string | null {
  return def.doc ?? KAFKA_BROKER_CONFIG_DOCS[def.name] ?? null;
}

const SOURCE_ORDER: readonly ConfigSourceKind[] = ['DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG', 'STATIC_BROKER_CONFIG', 'DEFAULT_CONFIG'];

/**
 * Kafka's configSynonyms: for each layer in precedence order, the names (in their order) that have a value
 * in it; then everything before the first entry for `name` itself is dropped.
 */
function brokerSynonyms(broker: ConfigView, name: string, names: readonly string[], sensitive: boolean): DescribedSynonym[] {
  const layered = names.filter((n) => broker.has(n)).map((n) => ({ name: n, layers: broker.layers(n) }));
  const out: DescribedSynonym[] = [];
  for (const source of SOURCE_ORDER) {
    for (const { name: n, layers } of layered) {
      const layer = layers.find((l) => l.source === source);
      if (layer) out.push({ name: n, value: sensitive ? null : layer.value, source: CONFIG_SOURCE_ID[source] });
    }
  }
  const first = out.findIndex((s) => s.name === name);
  return first < 0 ? [] : out.slice(first);
}

/**
 * Every topic config of a topic with the given overrides. Values are the effective ones (override, else the
 * broker's value of the first synonym that has one, else the topic default).
 */
export function describeTopicConfigEntries(broker: ConfigView, overrides: ReadonlyMap<string, string>): DescribedConfig[] {
  const effective = new Map(describeTopicConfigs(broker, overrides).map((e) => [e.def.name, e.value] as const));
  return TOPIC_CONFIGS.map((def) => {
    const sensitive = def.type === 'password';
    const value = sensitive ? null : formatConfigValue(def, effective.get(def.name) ?? '');
    const main = def.synonyms[0]?.name;
    const synonyms = main === undefined ? [] : brokerSynonyms(broker, main, brokerConfigSynonyms(main), sensitive);
    const override = overrides.get(def.name);
    if (override !== undefined) synonyms.unshift({ name: def.name, value, source: CONFIG_SOURCE_ID.TOPIC_CONFIG });
    return {
      name: def.name,
      value,
      source: synonyms[0]?.source ?? CONFIG_SOURCE_ID.DEFAULT_CONFIG,
      readOnly: false,
      sensitive,
      synonyms,
      type: CONFIG_TYPE_ID[def.type],
      documentation: def.doc ?? null,
    };
  });
}

/**
 * The broker's configs: with `perBroker` (resource name = this node's id) every config with its current value,
 * then the custom and listener-prefixed ones set dynamically; otherwise (resource name "") only the cluster-wide
 * dynamic defaults, each with its dynamic default synonyms.
 */
export function describeBrokerConfigEntries(broker: ConfigView, perBroker: boolean): DescribedConfig[] {
  const defaults = broker.dynamicConfigs('default');
  const described = perBroker ? BROKER_CONFIGS.filter((def) => def.hidden !== true) : BROKER_CONFIGS.filter((def) => defaults[def.name] !== undefined && def.hidden !== true);
  const known = described.map((def) => {
    const sensitive = def.type === 'password';
    const raw = perBroker ? broker.get(def.name) : defaults[def.name]!;
    const value = sensitive || raw === null ? null : perBroker ? formatConfigValue(def, raw) : raw;
    const all = brokerSynonyms(broker, def.name, brokerConfigSynonyms(def.name), sensitive);
    const synonyms = perBroker ? all : all.filter((s) => s.source === CONFIG_SOURCE_ID.DYNAMIC_DEFAULT_BROKER_CONFIG);
    return {
      name: def.name,
      value,
      source: synonyms[0]?.source ?? CONFIG_SOURCE_ID.DEFAULT_CONFIG,
      readOnly: isReadOnlyBrokerConfig(def.name),
      sensitive,
      synonyms,
      type: CONFIG_TYPE_ID[def.type],
      documentation: documentationOf(def),
    };
  });
  return [...known, ...describeOtherDynamicConfigs(broker, perBroker)];
}

/**
 * The configs that are not broker configs, set dynamically or (described per broker) statically, as Kafka
 * describes the names of its originals: a custom name (for a plugin, a config provider's) with type UNKNOWN,
 * so sensitive (no value) and read-only; a listener-prefixed name with its base config's type and
 * sensitivity, read-only, its synonyms the prefixed name's layers then the base config's.
 */
function describeOtherDynamicConfigs(broker: ConfigView, perBroker: boolean): DescribedConfig[] {
  const layers = { broker: broker.dynamicConfigs('broker'), default: broker.dynamicConfigs('default'), static: perBroker ? broker.otherStaticConfigs() : {} };
  const names = new Set([...(perBroker ? Object.keys(layers.broker) : []), ...Object.keys(layers.default), ...Object.keys(layers.static)]);
  const out: DescribedConfig[] = [];
  for (const name of names) {
    if (BROKER_CONFIG_BY_NAME.has(name)) continue;
    const base = listenerBaseName(name);
    const baseDef = base === undefined ? undefined : BROKER_CONFIG_BY_NAME.get(base);
    const sensitive = baseDef === undefined || baseDef.type === 'password';
    const synonyms: DescribedSynonym[] = [];
    if (perBroker && layers.broker[name] !== undefined) synonyms.push({ name, value: sensitive ? null : layers.broker[name]!, source: CONFIG_SOURCE_ID.DYNAMIC_BROKER_CONFIG });
    if (layers.default[name] !== undefined) synonyms.push({ name, value: sensitive ? null : layers.default[name]!, source: CONFIG_SOURCE_ID.DYNAMIC_DEFAULT_BROKER_CONFIG });
    if (layers.static[name] !== undefined) synonyms.push({ name, value: sensitive ? null : layers.static[name]!, source: CONFIG_SOURCE_ID.STATIC_BROKER_CONFIG });
    if (perBroker && baseDef !== undefined) synonyms.push(...brokerSynonyms(broker, baseDef.name, [baseDef.name], sensitive));
    const raw = perBroker ? (layers.broker[name] ?? layers.default[name] ?? layers.static[name]!) : layers.default[name]!;
    out.push({
      name,
      value: sensitive ? null : raw,
      source: synonyms[0]!.source,
      readOnly: true,
      sensitive,
      synonyms,
      type: baseDef === undefined ? UNKNOWN_TYPE : CONFIG_TYPE_ID[baseDef.type],
      documentation: null,
    });
  }
  return out;
}
