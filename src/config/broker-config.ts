/**
 * The broker's configuration: values from defaults, a server.properties file,
 * GREGOR_* environment variables and --override flags (later wins), each
 * validated against its definition, with the source kept for DescribeConfigs.
 * Besides the definitions, Kafka's listener-prefixed configs
 * (listener.name.<listener>.<config>, checked as <config> when it is one; a
 * listener's value of a config is listenerValue) and the config providers'
 * (config.providers.*): values may name secrets kept elsewhere,
 * `${env:NAME}`, resolved at load (config-providers.ts).
 * On top of those static values sit Kafka's two dynamic layers, changed at
 * runtime through AlterConfigs (see dynamic-broker-configs.ts): the cluster
 * default (DYNAMIC_DEFAULT_BROKER_CONFIG) and this broker's own
 * (DYNAMIC_BROKER_CONFIG), which wins.
 */
import { readFileSync } from 'node:fs';
import { configTransformer, isConfigProviderName } from './config-providers.js';
import { configValueProblem, splitList, validateConfigValue } from './config-values.js';
import { BROKER_CONFIG_BY_NAME, BROKER_CONFIGS, type ConfigDef } from './definitions.js';
import { parseProperties } from './properties.js';
import { ConfigError } from './config-error.js';
import { brokerListenersOf, listenerBaseName, listenerConfigPrefix } from './listeners.js';

export { invalidValueMessage, splitList, validateConfigValue } from './config-values.js';

export type ConfigSourceKind = 'DEFAULT_CONFIG' | 'STATIC_BROKER_CONFIG' | 'DYNAMIC_BROKER_CONFIG' | 'DYNAMIC_DEFAULT_BROKER_CONFIG';

/** The dynamic layers: this broker's own configs, and the cluster-wide defaults. */
export type DynamicConfigLevel = 'broker' | 'default';

/** One layer's value of a config. */
export interface ConfigLayerValue {
  readonly value: string;
  readonly source: ConfigSourceKind;
}

export { ConfigError };

interface Entry {
  value: string | null;
  source: ConfigSourceKind;
  /** Where a static value came from (a file, an environment variable, a flag), for messages. */
  origin?: string;
}

/**
 * The broker config as its readers see it (handlers, the topic configs, DescribeConfigs): values, their
 * sources and layers, never a change. Only TopicManager sets dynamic configs, on the BrokerConfig itself.
 */
export type ConfigView = Pick<
  BrokerConfig,
  | 'has'
  | 'get'
  | 'source'
  | 'isSet'
  | 'int'
  | 'long'
  | 'optionalLong'
  | 'bool'
  | 'string'
  | 'list'
  | 'all'
  | 'dynamicConfigs'
  | 'layers'
  | 'listenerValue'
  | 'listenerIsSet'
  | 'otherStaticConfigs'
>;

/** Whether a name outside the definitions is still a config: listener-prefixed, or a config provider's. */
export function isOtherConfigName(name: string): boolean {
  return listenerBaseName(name) !== undefined || isConfigProviderName(name);
}

export class BrokerConfig {
  /** Static values (file, environment, overrides) and defaults. */
  private readonly entries = new Map<string, Entry>();
  private readonly dynamic: Record<DynamicConfigLevel, Map<string, string>> = { broker: new Map(), default: new Map() };
  /** Static values of the names outside the definitions (isOtherConfigName), as Kafka keeps them in its originals. */
  private readonly others = new Map<string, Entry>();

  /** Keys of the config file that Gregor does not know (ignored, as Kafka ignores unknown keys with a warning). */
  readonly ignored: string[] = [];
  /** Values that start but will not do what they say (checkConfig); the command line logs them as warnings. */
  readonly warnings: string[] = [];

  /** Values as [key, value, source, origin]; origin names where the value came from, for error messages. */
  constructor(values: Iterable<readonly [string, string, ConfigSourceKind, string?]> = []) {
    for (const def of BROKER_CONFIGS) this.entries.set(def.name, { value: def.default, source: 'DEFAULT_CONFIG' });
    for (const [key, value, source, origin] of values) this.set(key, value, source, origin);
  }

  /** Sets a known key (or alias) after validation; throws ConfigError naming the key, the value and where it came from. */
  set(key: string, value: string, source: ConfigSourceKind, origin?: string): void {
    const from = origin ? ` (from ${origin})` : '';
    const def = BROKER_CONFIG_BY_NAME.get(key);
    if (!def && isOtherConfigName(key)) {
      const baseDef = BROKER_CONFIG_BY_NAME.get(listenerBaseName(key) ?? '');
      const problem = baseDef && configValueProblem(baseDef, value);
      if (problem) throw new ConfigError(`invalid configuration ${key}: ${problem.detail}${from}`);
      this.others.set(key, origin === undefined ? { value, source } : { value, source, origin });
      return;
    }
    if (!def) throw new ConfigError(`unknown configuration '${key}'${from}`);
    const problem = validateConfigValue(def, value);
    if (problem) throw new ConfigError(`invalid configuration ${problem}${from}`);
    this.entries.set(def.name, origin === undefined ? { value, source } : { value, source, origin });
  }

  /** Where the static value of a config came from ("server.properties", "--port", ...); undefined for a default. */
  originOf(name: string): string | undefined {
    return (this.entries.get(name) ?? this.others.get(name))?.origin;
  }

  /**
   * A listener's value of a config, as Kafka's valuesWithPrefixOverride: listener.name.<listener>.<name> in
   * the first layer that has it (this broker's dynamic value, the cluster default, the static value), else
   * the config's own value (null for a name outside the definitions).
   */
  listenerValue(listenerName: string, name: string): string | null {
    const prefixed = listenerConfigPrefix(listenerName) + name;
    const own = this.dynamic.broker.get(prefixed) ?? this.dynamic.default.get(prefixed) ?? this.others.get(prefixed)?.value;
    if (own !== undefined) return own;
    return this.entries.has(name) ? this.get(name) : null;
  }

  /** Whether the listener has its own value of the config (listener.name.<listener>.<name>, in any layer). */
  listenerIsSet(listenerName: string, name: string): boolean {
    const prefixed = listenerConfigPrefix(listenerName) + name;
    return this.dynamic.broker.has(prefixed) || this.dynamic.default.has(prefixed) || this.others.has(prefixed);
  }

  /** The static values of the names outside the definitions (listener-prefixed, config providers'). */
  otherStaticConfigs(): Record<string, string> {
    return Object.fromEntries([...this.others].map(([k, e]) => [k, e.value!]));
  }

  /** Whether the name is a known broker config. */
  has(name: string): boolean {
    return this.entries.has(name);
  }
  get(name: string): string | null {
    const e = this.entries.get(name);
    if (!e) throw new ConfigError(`unknown configuration '${name}'`);
    return this.dynamic.broker.get(name) ?? this.dynamic.default.get(name) ?? e.value;
  }
  source(name: string): ConfigSourceKind {
    if (this.dynamic.broker.has(name)) return 'DYNAMIC_BROKER_CONFIG';
    if (this.dynamic.default.has(name)) return 'DYNAMIC_DEFAULT_BROKER_CONFIG';
    return this.entries.get(name)?.source ?? 'DEFAULT_CONFIG';
  }
  isSet(name: string): boolean {
    return this.source(name) !== 'DEFAULT_CONFIG';
  }
  int(name: string): number {
    return Number(this.get(name));
  }
  /** A long: Long.MAX_VALUE and other out-of-range values are clamped to Number.MAX_SAFE_INTEGER. */
  long(name: string): number {
    const n = Number(this.get(name));
    return Math.min(n, Number.MAX_SAFE_INTEGER);
  }
  optionalLong(name: string): number | undefined {
    const v = this.get(name);
    return v === null ? undefined : Math.min(Number(v), Number.MAX_SAFE_INTEGER);
  }
  bool(name: string): boolean {
    return String(this.get(name)).toLowerCase() === 'true';
  }
  string(name: string): string {
    return this.get(name) ?? '';
  }
  list(name: string): string[] {
    return splitList(this.get(name) ?? '');
  }
  /** Every known config with its current value and source. */
  all(): Array<{ def: ConfigDef; value: string | null; source: ConfigSourceKind }> {
    return BROKER_CONFIGS.map((def) => ({ def, value: this.get(def.name), source: this.source(def.name) }));
  }

  /**
   * Replaces one dynamic layer (AlterConfigs on this broker's id or on the cluster default). Known names must
   * be canonical and their values valid (else ConfigError before anything changes); other names are custom
   * configs, kept as given, as Kafka keeps them for plugins.
   */
  setDynamic(level: DynamicConfigLevel, configs: Readonly<Record<string, string>>): void {
    const next = new Map<string, string>();
    for (const [name, value] of Object.entries(configs)) {
      const def = BROKER_CONFIG_BY_NAME.get(name);
      if (def && def.name !== name) throw new ConfigError(`configuration '${name}' is an alias of ${def.name}`);
      const problem = def && validateConfigValue(def, value);
      if (problem) throw new ConfigError(`invalid configuration ${problem}`);
      next.set(name, value);
    }
    this.dynamic[level] = next;
  }

  /**
   * This config with one dynamic layer replaced, unchecked and apart from this one: what a change would
   * make of it, to validate the change before it is made.
   */
  withDynamic(level: DynamicConfigLevel, configs: Readonly<Record<string, string>>): BrokerConfig {
    const copy = Object.create(BrokerConfig.prototype) as BrokerConfig;
    Object.assign(copy, this, { dynamic: { ...this.dynamic, [level]: new Map(Object.entries(configs)) } });
    return copy;
  }

  /** The configs of one dynamic layer. */
  dynamicConfigs(level: DynamicConfigLevel): Record<string, string> {
    return Object.fromEntries(this.dynamic[level]);
  }

  /**
   * Every layer that has a value for the config, highest precedence first: this broker's dynamic value, the
   * cluster's dynamic default, the static value, the default (DescribeConfigs lists them as synonyms).
   */
  layers(name: string): ConfigLayerValue[] {
    const out: ConfigLayerValue[] = [];
    const broker = this.dynamic.broker.get(name);
    if (broker !== undefined) out.push({ value: broker, source: 'DYNAMIC_BROKER_CONFIG' });
    const clusterDefault = this.dynamic.default.get(name);
    if (clusterDefault !== undefined) out.push({ value: clusterDefault, source: 'DYNAMIC_DEFAULT_BROKER_CONFIG' });
    const e = this.entries.get(name) ?? this.others.get(name);
    if (e?.source === 'STATIC_BROKER_CONFIG' && e.value !== null) out.push({ value: e.value, source: 'STATIC_BROKER_CONFIG' });
    const def = BROKER_CONFIG_BY_NAME.get(name);
    if (def?.default !== null && def?.default !== undefined) out.push({ value: def.default, source: 'DEFAULT_CONFIG' });
    return out;
  }
}

export interface LoadConfigOptions {
  /** Path of a server.properties file. */
  file?: string;
  /** --override key=value pairs and short flags, applied last. */
  overrides?: Record<string, string>;
  /** Where each override came from, for messages (a flag such as `--log-level`); default "overrides". */
  origins?: Readonly<Record<string, string>>;
  /** Environment, for GREGOR_* variables (GREGOR_LOG_DIRS → log.dirs). */
  env?: NodeJS.ProcessEnv;
}

/** GREGOR_NUM_PARTITIONS → num.partitions; GREGOR_GREGOR_FLUSH_ACKS_ALL is not needed: GREGOR_FLUSH_ACKS_ALL → gregor.flush.acks.all. */
export function envKey(variable: string): string | undefined {
  if (!variable.startsWith('GREGOR_')) return undefined;
  const dotted = variable.slice('GREGOR_'.length).toLowerCase().replace(/_/g, '.');
  if (BROKER_CONFIG_BY_NAME.has(dotted)) return dotted;
  if (BROKER_CONFIG_BY_NAME.has(`gregor.${dotted}`)) return `gregor.${dotted}`;
  return undefined;
}

export function loadConfig(opts: LoadConfigOptions = {}): BrokerConfig {
  const values: Array<[string, string, ConfigSourceKind, string]> = [];
  const ignored: string[] = [];
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${opts.file}: ${(err as Error).message}`);
    }
    for (const [k, v] of parseProperties(text)) {
      // server.properties files carry many keys Gregor does not use (process.roles, controller.*, ...):
      // only known keys are applied, the others are reported as ignored
      if (BROKER_CONFIG_BY_NAME.has(k) || isOtherConfigName(k)) values.push([k, v, 'STATIC_BROKER_CONFIG', opts.file]);
      else ignored.push(k);
    }
  }
  for (const [variable, value] of Object.entries(opts.env ?? {})) {
    if (value === undefined || !variable.startsWith('GREGOR_')) continue;
    const key = envKey(variable);
    if (!key) throw new ConfigError(`unknown configuration in environment variable ${variable} (GREGOR_<KEY> with dots as underscores, e.g. GREGOR_NUM_PARTITIONS)`);
    values.push([key, value, 'STATIC_BROKER_CONFIG', `environment variable ${variable}`]);
  }
  for (const [k, v] of Object.entries(opts.overrides ?? {})) values.push([k, v, 'STATIC_BROKER_CONFIG', opts.origins?.[k] ?? 'overrides']);
  // ${provider:[path:]key} references, resolved with the providers the (later-wins) values configure
  const resolve = configTransformer(new Map(values.map(([k, v]) => [k, v] as const)), values.map(([, v]) => v), opts.env ?? process.env);
  for (const entry of values) entry[1] = resolve(entry[1]);
  const config = new BrokerConfig(values);
  config.ignored.push(...ignored);
  const noEffect = [...new Set(values.map(([k]) => BROKER_CONFIG_BY_NAME.get(k)).filter((d) => d?.noEffect === true).map((d) => d!.name))];
  if (noEffect.length > 0) {
    config.warnings.push(`these Kafka configs are accepted but have no effect in Gregor (README: Configuration): ${noEffect.join(', ')}`);
  }
  checkConfig(config);
  return config;
}

/** Gregor is one node: a replication factor or a min.insync.replicas above this cannot be met. */
const BROKER_COUNT = 1;

/** What a config above the broker count breaks, for the warnings at start. */
const ABOVE_BROKER_COUNT: ReadonlyArray<readonly [name: string, effect: string]> = [
  ['default.replication.factor', 'creating a topic with the default replication factor (auto-creation, CreateTopics with -1) fails with INVALID_REPLICATION_FACTOR'],
  ['offsets.topic.replication.factor', '__consumer_offsets cannot be created, so consumer groups and offset commits fail'],
  ['min.insync.replicas', 'acks=all produce requests to topics without their own min.insync.replicas fail with NOT_ENOUGH_REPLICAS'],
];

/**
 * Checks that need more than one value, so a bad combination fails at startup with a clear message. What
 * starts but will not do what it says goes to config.warnings.
 */
export function checkConfig(config: BrokerConfig): void {
  const { listeners, advertised, controllerListeners } = brokerListenersOf(config);
  if (controllerListeners.length > 0) {
    config.warnings.push(
      `ignoring the controller listener ${controllerListeners.join(', ')} (controller.listener.names): Gregor is its own controller and serves only the client listeners`,
    );
  }
  for (const l of listeners) {
    if (!advertised.has(l.name)) {
      config.warnings.push(`listener ${l.name} is not in advertised.listeners: clients connected to it find no broker in Metadata and no coordinator (as in Kafka)`);
    }
  }
  const minSession = config.int('group.min.session.timeout.ms');
  const maxSession = config.int('group.max.session.timeout.ms');
  if (minSession > maxSession) {
    throw new ConfigError(`invalid configuration group.min.session.timeout.ms: ${minSession} is above group.max.session.timeout.ms (${maxSession})`);
  }
  checkGroupBounds(config, 'consumer');
  checkGroupBounds(config, 'share');
  checkShareGroupConfig(config);
  if (config.string('log.dirs').trim() === '') throw new ConfigError(`invalid configuration log.dirs: empty${fromOf(config, 'log.dirs')}`);
  if (config.list('log.dirs').length > 1) {
    throw new ConfigError(`invalid configuration log.dirs: '${config.string('log.dirs')}' names several directories; Gregor supports one${fromOf(config, 'log.dirs')}`);
  }
  for (const [name, effect] of ABOVE_BROKER_COUNT) {
    const value = config.int(name);
    if (value > BROKER_COUNT) {
      config.warnings.push(`${name}=${value}${fromOf(config, name)} is above the number of brokers (${BROKER_COUNT}): ${effect}; set it to 1`);
    }
  }
  checkInternalTopicsFit(config);
}

/**
 * The consumer protocol's and share groups' session timeout and heartbeat interval against their bounds, as
 * Kafka's GroupCoordinatorConfig requires them at start (its checks, order and words): each max ≥ its min,
 * each default within its bounds, and the heartbeat interval below the session timeout.
 */
function checkGroupBounds(config: BrokerConfig, type: 'consumer' | 'share'): void {
  const value = (kind: string, bound = ''): Bound => {
    const name = `group.${type}.${bound}${kind}`;
    return [name, config.int(name)];
  };
  const rules: Rule[] = [];
  for (const kind of ['heartbeat.interval.ms', 'session.timeout.ms']) {
    const min = value(kind, 'min.');
    const max = value(kind, 'max.');
    const current = value(kind);
    rules.push([max, '>=', min], [current, '>=', min], [current, '<=', max]);
  }
  rules.push([value('heartbeat.interval.ms'), '<', value('session.timeout.ms')]);
  checkRules(config, rules);
}

/**
 * Share groups' record lock duration within its bounds, and room in the share session cache for a full
 * share group, as Kafka's ShareGroupConfig requires them at start (its checks, order and words). Each value
 * alone is within its range already (definitions.ts: the lock duration 1000-3600000, its min 1000-30000 and
 * max 30000-3600000, the delivery count limit 2-10, the record locks 100-10000, the group size 1-1000).
 */
function checkShareGroupConfig(config: BrokerConfig): void {
  const value = (name: string): Bound => [name, config.int(name)];
  checkRules(config, [
    [value('group.share.record.lock.duration.ms'), '>=', value('group.share.min.record.lock.duration.ms')],
    [value('group.share.max.record.lock.duration.ms'), '>=', value('group.share.record.lock.duration.ms')],
    [value('group.share.max.share.sessions'), '>=', value('group.share.max.size')],
  ]);
}

/** A config and its value. */
type Bound = readonly [string, number];
/** A relation two configs must keep. */
type Rule = readonly [Bound, '>=' | '<=' | '<', Bound];

function checkRules(config: BrokerConfig, rules: readonly Rule[]): void {
  const words = { '>=': 'greater than or equal to', '<=': 'less than or equal to', '<': 'less than' } as const;
  for (const [[name, a], op, [otherName, b]] of rules) {
    const holds = op === '>=' ? a >= b : op === '<=' ? a <= b : a < b;
    if (!holds) {
      throw new ConfigError(`invalid configuration ${name}: ${a}${fromOf(config, name)} must be ${words[op]} ${otherName} (${b}${fromOf(config, otherName)})`);
    }
  }
}

/**
 * The internal topics are created (on first use) with their configured partition counts, which must be
 * within gregor.max.partitions.per.topic: a bad combination is a configuration error at start, not a
 * failure at the first FindCoordinator.
 */
const INTERNAL_TOPIC_PARTITIONS: ReadonlyArray<readonly [key: string, topic: string]> = [
  ['offsets.topic.num.partitions', '__consumer_offsets'],
  ['transaction.state.log.num.partitions', '__transaction_state'],
];

function checkInternalTopicsFit(config: BrokerConfig): void {
  const max = config.int('gregor.max.partitions.per.topic');
  for (const [key, topic] of INTERNAL_TOPIC_PARTITIONS) {
    const partitions = config.int(key);
    if (max < partitions) {
      throw new ConfigError(
        `invalid configuration gregor.max.partitions.per.topic: ${max}${fromOf(config, 'gregor.max.partitions.per.topic')} is below ${key} (${partitions}${fromOf(config, key)}), so ${topic} could not be created; raise gregor.max.partitions.per.topic or lower ${key}`,
      );
    }
  }
}

/** " (from <origin>)" for a static value, "" for a default. */
function fromOf(config: BrokerConfig, name: string): string {
  const origin = config.originOf(name);
  return origin === undefined ? '' : ` (from ${origin})`;
}

export { advertisedListenerOf, brokerListenersOf, listenerOf, parseListener, type BrokerListeners, type Endpoint, type ListenerEndpoint } from './listeners.js';
