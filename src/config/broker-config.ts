/**
 * The broker's configuration: values from defaults, a server.properties file,
 * GREGOR_* environment variables and --override flags (later wins), each
 * validated against its definition, with the source kept for DescribeConfigs.
 * On top of those static values sit Kafka's two dynamic layers, changed at
 * runtime through AlterConfigs (see dynamic-broker-configs.ts): the cluster
 * default (DYNAMIC_DEFAULT_BROKER_CONFIG) and this broker's own
 * (DYNAMIC_BROKER_CONFIG), which wins.
 */
import { readFileSync } from 'node:fs';
import { splitList, validateConfigValue } from './config-values.js';
import { BROKER_CONFIG_BY_NAME, BROKER_CONFIGS, type ConfigDef } from './definitions.js';
import { parseProperties } from './properties.js';

export { invalidValueMessage, splitList, validateConfigValue } from './config-values.js';

export type ConfigSourceKind = 'DEFAULT_CONFIG' | 'STATIC_BROKER_CONFIG' | 'DYNAMIC_BROKER_CONFIG' | 'DYNAMIC_DEFAULT_BROKER_CONFIG';

/** The dynamic layers: this broker's own configs, and the cluster-wide defaults. */
export type DynamicConfigLevel = 'broker' | 'default';

/** One layer's value of a config. */
export interface ConfigLayerValue {
  readonly value: string;
  readonly source: ConfigSourceKind;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

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
  'has' | 'get' | 'source' | 'isSet' | 'int' | 'long' | 'optionalLong' | 'bool' | 'string' | 'list' | 'all' | 'dynamicConfigs' | 'layers'
>;

export class BrokerConfig {
  /** Static values (file, environment, overrides) and defaults. */
  private readonly entries = new Map<string, Entry>();
  private readonly dynamic: Record<DynamicConfigLevel, Map<string, string>> = { broker: new Map(), default: new Map() };

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
    if (!def) throw new ConfigError(`unknown configuration '${key}'${from}`);
    const problem = validateConfigValue(def, value);
    if (problem) throw new ConfigError(`invalid configuration ${problem}${from}`);
    this.entries.set(def.name, origin === undefined ? { value, source } : { value, source, origin });
  }

  /** Where the static value of a config came from ("server.properties", "--port", ...); undefined for a default. */
  originOf(name: string): string | undefined {
    return this.entries.get(name)?.origin;
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
    const e = this.entries.get(name);
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
      if (BROKER_CONFIG_BY_NAME.has(k)) values.push([k, v, 'STATIC_BROKER_CONFIG', opts.file]);
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
  const { ignored } = clientListener(config, 'listeners');
  advertisedListenerOf(config);
  if (ignored.length > 0) {
    config.warnings.push(
      `ignoring the controller listener ${ignored.join(', ')} (controller.listener.names): Gregor is its own controller and serves only the client listener`,
    );
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

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

const LISTENER_URI = /^([A-Za-z_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/;

/** Parses a PLAINTEXT listener URI ("PLAINTEXT://host:port"; empty host = all interfaces). */
export function parseListener(uri: string, key: string, from = ''): Endpoint {
  const m = LISTENER_URI.exec(uri.trim());
  if (!m) throw new ConfigError(`invalid configuration ${key}: '${uri}' is not of the form PLAINTEXT://host:port${from}`);
  if (m[1]!.toUpperCase() !== 'PLAINTEXT') {
    throw new ConfigError(`invalid configuration ${key}: only PLAINTEXT listeners are supported (got ${m[1]})${from}`);
  }
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`invalid configuration ${key}: port ${port} out of range${from}`);
  return { host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * The one listener of `key` (listeners or advertised.listeners) that clients use, and the controller listeners
 * beside it. Kafka's rules, as far as Gregor has them: every entry is NAME://host:port, each name once, and a
 * name must have a security protocol — Kafka's listener.security.protocol.map, which Gregor has not yet: only
 * PLAINTEXT is served. A name in controller.listener.names (a KRaft server.properties has CONTROLLER) is the
 * controller's, which Gregor is itself: it is left out. Any other second listener is refused rather than
 * ignored, as clients told to use it would find nothing there.
 */
function clientListener(config: BrokerConfig, key: 'listeners' | 'advertised.listeners'): { uri: string | undefined; ignored: string[] } {
  const from = fromOf(config, key);
  const controllers = new Set(config.list('controller.listener.names').map((n) => n.toUpperCase()));
  const names = new Set<string>();
  const served: string[] = [];
  const ignored: string[] = [];
  for (const uri of config.list(key)) {
    const name = LISTENER_URI.exec(uri)?.[1]?.toUpperCase();
    if (name === undefined) throw new ConfigError(`invalid configuration ${key}: '${uri}' is not of the form PLAINTEXT://host:port${from}`);
    if (names.has(name)) throw new ConfigError(`invalid configuration ${key}: the listener name ${name} appears more than once${from}`);
    names.add(name);
    if (controllers.has(name)) ignored.push(uri);
    else served.push(uri);
  }
  if (served.length > 1) {
    throw new ConfigError(
      `invalid configuration ${key}: '${config.string(key)}' names ${served.length} listeners; Gregor serves one (PLAINTEXT) for now` +
        ` (a KRaft controller listener named in controller.listener.names is left out)${from}`,
    );
  }
  if (served.length === 0 && ignored.length > 0) {
    throw new ConfigError(`invalid configuration ${key}: '${config.string(key)}' has only controller listeners (controller.listener.names), none for clients${from}`);
  }
  return { uri: served[0], ignored };
}

/** The listener clients connect to (see clientListener for the rules). */
export function listenerOf(config: BrokerConfig): Endpoint {
  const { uri } = clientListener(config, 'listeners');
  if (uri === undefined) throw new ConfigError(`invalid configuration listeners: empty${fromOf(config, 'listeners')}`);
  return parseListener(uri, 'listeners', fromOf(config, 'listeners'));
}
/**
 * Where clients are told to connect: advertised.listeners when set; otherwise the listener's port on
 * the listener's host, or on localhost when the listener binds all interfaces (never 0.0.0.0 or the
 * machine's host name, which clients often cannot resolve).
 */
export function advertisedListenerOf(config: BrokerConfig): Endpoint {
  const first = config.isSet('advertised.listeners') ? clientListener(config, 'advertised.listeners').uri : undefined;
  if (first === undefined) {
    const listener = listenerOf(config);
    const wildcard = listener.host === '' || listener.host === '0.0.0.0' || listener.host === '::';
    return { host: wildcard ? 'localhost' : listener.host, port: listener.port };
  }
  const from = fromOf(config, 'advertised.listeners');
  const ep = parseListener(first, 'advertised.listeners', from);
  if (ep.host === '' || ep.host === '0.0.0.0' || ep.host === '::') {
    throw new ConfigError(`invalid configuration advertised.listeners: '${first}' must name a host clients can reach${from}`);
  }
  return ep;
}
