/**
 * AlterConfigs and IncrementalAlterConfigs on config resources, with Kafka
 * 3.9's checks in Kafka's order and words (ConfigAdminManager on the broker,
 * then ConfigurationControlManager and ControllerConfigurationValidator on the
 * controller).
 *
 * Per request: a resource named twice → INVALID_REQUEST "Each resource must
 * appear at most once." for both. Per resource: a config key given twice →
 * INVALID_REQUEST; a null value (incremental: except with DELETE) →
 * INVALID_REQUEST; an unknown operation → INVALID_REQUEST.
 * - TOPIC: the new overrides are the given ones (AlterConfigs: every override
 *   not named is removed, i.e. back to the broker's value) or the current ones
 *   with the operations applied (SET, DELETE, and APPEND/SUBTRACT on list
 *   configs, starting from the topic default when not set). An empty name →
 *   INVALID_REQUEST, an illegal one → INVALID_TOPIC_EXCEPTION, a bad key or
 *   value → INVALID_CONFIG, then an unknown topic → UNKNOWN_TOPIC_OR_PARTITION.
 *   Stored and applied live through TopicManager.alterConfigs.
 * - BROKER: name "" (cluster-wide defaults) or this node's id (else
 *   INVALID_REQUEST); the new dynamic configs of that level are checked as
 *   dynamic-broker-configs.ts describes (read-only or bad values →
 *   INVALID_REQUEST, as Kafka), then stored and applied to every topic that
 *   has no override of its own (TopicManager.alterBrokerConfigs); a change of
 *   a TLS listener's ssl.* configs is validated before (INVALID_REQUEST
 *   "Invalid dynamic configuration", as Kafka) and applied to the listener
 *   after (security/tls-listeners.ts: certificate rotation).
 * - BROKER_LOGGER (incremental only, as in Kafka): this node's id; SET of a
 *   known logger to a log4j level, DELETE of a logger other than root.
 * - GROUP (KIP-848 group configs): any group name but ""; the group's new
 *   configs are checked as group/group-configs.ts describes (INVALID_CONFIG
 *   with Kafka's messages), then stored (TopicManager.alterGroupConfigs) and
 *   read by the consumer protocol from the next heartbeat.
 * - CLIENT_METRICS: Gregor keeps no such configs → INVALID_REQUEST.
 * validate_only runs every check and changes nothing.
 *
 * Authorization (with an authorizer: AlterOptions.authorize, as Kafka's
 * ControllerApis.authorizeAlterResource, after the request-level checks
 * above and, for BROKER, the node id check): ALTER_CONFIGS
 * on the topic (TOPIC_AUTHORIZATION_FAILED), the group
 * (GROUP_AUTHORIZATION_FAILED) or the cluster for BROKER, BROKER_LOGGER and
 * CLIENT_METRICS (CLUSTER_AUTHORIZATION_FAILED); a refusal carries Kafka's
 * default message (none for BROKER_LOGGER, as Kafka's logger manager).
 */
import { ErrorCode, errorInfo, KafkaError } from '../../protocol/index.js';
import { apiErrorOf, isKnownError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ConfigView } from './broker-config.js';
import type { TopicManager } from '../metadata/topic-manager.js';
import { topicNameProblem } from '../metadata/topic-names.js';
import { loggerExists, ROOT_LOGGER, setLoggerLevel, VALID_LOG_LEVELS } from './broker-loggers.js';
import { BROKER_CONFIG_BY_NAME } from './definitions.js';
import { brokerConfigChangeProblem } from './dynamic-broker-configs.js';
import type { ListenerReconfiguration } from '../security/tls-listeners.js';
import { TOPIC_CONFIG_BY_NAME } from './topic-configs.js';
import { groupConfigOf } from '../group/group-config.js';
import { GROUP_CONFIG_BY_NAME, validateGroupConfigs } from '../group/group-configs.js';
import { CLUSTER_NAME } from '../security/acl/acl-types.js';

/** ConfigResource.Type ids. */
export const ResourceType = {
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
  CLIENT_METRICS: 16,
  GROUP: 32,
} as const;

/** AlterConfigOp.OpType ids. */
export const ConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;
const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'] as const;

export interface ConfigChange {
  readonly name: string;
  /** ConfigOp id; AlterConfigs' changes are all SET. */
  readonly op: number;
  readonly value: string | null;
}

export interface ConfigResourceChange {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly configs: readonly ConfigChange[];
}

export interface ConfigResourceResult {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export interface AlterOptions {
  /**
   * AlterConfigs: the changes (all SET) replace the resource's whole set, as if applied to no configs;
   * IncrementalAlterConfigs: they are applied to the current configs.
   */
  readonly replace: boolean;
  readonly validateOnly: boolean;
  /** Whether the session may ALTER_CONFIGS the resource (the cluster: name kafka-cluster); undefined: no authorizer. */
  readonly authorize?: (resourceType: 'TOPIC' | 'GROUP' | 'CLUSTER', name: string) => boolean;
}

/** What config changes use of the broker (the request context's services satisfy it). */
export interface ConfigAdminDeps {
  readonly identity: { readonly nodeId: number };
  /** The current broker config (thread counts are checked against their current value). */
  readonly config: ConfigView;
  readonly logger: Logger;
  /** Stores and applies topic overrides and dynamic broker configs. */
  readonly topics: Pick<TopicManager, 'alterConfigs' | 'alterBrokerConfigs' | 'alterGroupConfigs'>;
  /** Validates and applies the TLS listeners' settings a broker config change changes (none: no TLS listener). */
  readonly listenerSecurity?: ListenerReconfiguration;
}

/** Applies the changes of one request; one result per resource, in request order. */
export async function alterConfigResources(deps: ConfigAdminDeps, resources: readonly ConfigResourceChange[], opts: AlterOptions): Promise<ConfigResourceResult[]> {
  const seen = new Map<string, number>();
  for (const r of resources) {
    const key = `${r.resourceType}\u0000${r.resourceName}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const results: ConfigResourceResult[] = [];
  for (const r of resources) {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    if (seen.get(`${r.resourceType}\u0000${r.resourceName}`)! > 1) {
      results.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Each resource must appear at most once.' });
      continue;
    }
    try {
      await alterOne(deps, r, opts);
      results.push({ ...base, errorCode: ErrorCode.NONE, errorMessage: null });
    } catch (err) {
      if (!isKnownError(err)) throw err;
      results.push({ ...base, ...(err instanceof Refused ? { errorCode: err.code, errorMessage: err.refusalMessage } : apiErrorOf(err)) });
    }
  }
  return results;
}

/** An authorization refusal, answered with Kafka's message (which apiErrorOf would drop as the default one). */
class Refused extends KafkaError {
  constructor(
    code: number,
    readonly refusalMessage: string | null,
  ) {
    super(code, errorInfo(code).message);
  }
}

/** Throws Refused unless the session may ALTER_CONFIGS the resource. */
function checkAuthorized(opts: AlterOptions, r: ConfigResourceChange): void {
  if (opts.authorize === undefined) return;
  switch (r.resourceType) {
    case ResourceType.TOPIC:
      if (!opts.authorize('TOPIC', r.resourceName)) throw new Refused(ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorInfo(ErrorCode.TOPIC_AUTHORIZATION_FAILED).message);
      return;
    case ResourceType.GROUP:
      if (!opts.authorize('GROUP', r.resourceName)) throw new Refused(ErrorCode.GROUP_AUTHORIZATION_FAILED, errorInfo(ErrorCode.GROUP_AUTHORIZATION_FAILED).message);
      return;
    default: {
      if (opts.authorize('CLUSTER', CLUSTER_NAME)) return;
      const message = r.resourceType === ResourceType.BROKER_LOGGER ? null : errorInfo(ErrorCode.CLUSTER_AUTHORIZATION_FAILED).message;
      throw new Refused(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, message);
    }
  }
}

function invalidRequest(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_REQUEST, message);
}

async function alterOne(deps: ConfigAdminDeps, r: ConfigResourceChange, opts: AlterOptions): Promise<void> {
  const names = r.configs.map((c) => c.name);
  if (new Set(names).size !== names.length) throw invalidRequest('Error due to duplicate config keys');
  const nullValues = r.configs.filter((c) => c.value === null && c.op !== ConfigOp.DELETE).map((c) => c.name);
  if (nullValues.length > 0) throw invalidRequest(`Null value not supported for : ${nullValues.join(', ')}`);
  switch (r.resourceType) {
    case ResourceType.TOPIC:
      checkAuthorized(opts, r);
      return alterTopic(deps, r, opts);
    case ResourceType.BROKER:
      return alterBroker(deps, r, opts);
    case ResourceType.BROKER_LOGGER:
      // as in Kafka, the legacy AlterConfigs has no BROKER_LOGGER
      if (opts.replace) throw invalidRequest(`Unknown resource type ${r.resourceType}`);
      checkAuthorized(opts, r);
      return alterLoggers(deps, r, opts.validateOnly);
    case ResourceType.GROUP:
      checkAuthorized(opts, r);
      return alterGroup(deps, r, opts);
    case ResourceType.CLIENT_METRICS:
      checkAuthorized(opts, r);
      throw invalidRequest('Gregor keeps no configs of resource type CLIENT_METRICS');
    default:
      throw invalidRequest(`Unknown resource type ${r.resourceType}`);
  }
}

function checkOps(configs: readonly ConfigChange[]): void {
  for (const c of configs) {
    if (!Number.isInteger(c.op) || c.op < 0 || c.op >= OP_NAMES.length) throw invalidRequest(`Unknown operations type ${c.op}`);
  }
}

interface ListSchema {
  /** Whether the key is a list config; undefined for an unknown key. */
  isList(name: string): boolean | undefined;
  defaultOf(name: string): string | null;
  /** The error for APPEND/SUBTRACT on a key that is not a list. */
  notAList(op: 'APPEND' | 'SUBTRACT', name: string): KafkaError;
}

const TOPIC_SCHEMA: ListSchema = {
  isList: (name) => (TOPIC_CONFIG_BY_NAME.has(name) ? TOPIC_CONFIG_BY_NAME.get(name)!.type === 'list' : undefined),
  defaultOf: (name) => TOPIC_CONFIG_BY_NAME.get(name)?.default ?? null,
  notAList: (op, name) => new KafkaError(ErrorCode.INVALID_CONFIG, `Can't ${op} to key ${name} because its type is not LIST.`),
};

const BROKER_SCHEMA: ListSchema = {
  isList: (name) => (BROKER_CONFIG_BY_NAME.has(name) ? BROKER_CONFIG_BY_NAME.get(name)!.type === 'list' : undefined),
  defaultOf: (name) => BROKER_CONFIG_BY_NAME.get(name)?.default ?? null,
  notAList: (op, name) =>
    BROKER_CONFIG_BY_NAME.has(name)
      ? new KafkaError(ErrorCode.INVALID_CONFIG, `Config value ${op.toLowerCase()} is not allowed for config key: ${name}`)
      : new KafkaError(ErrorCode.INVALID_CONFIG, `Unknown config name: ${name}`),
};

/** The operations applied to the configs of a resource (AlterConfigs: to none, see AlterOptions). */
function applyOps(current: Readonly<Record<string, string>>, configs: readonly ConfigChange[], schema: ListSchema): Record<string, string> {
  const next: Record<string, string> = { ...current };
  for (const c of configs) {
    const op = OP_NAMES[c.op]!;
    if (op === 'SET') {
      next[c.name] = c.value!;
      continue;
    }
    if (op === 'DELETE') {
      delete next[c.name];
      continue;
    }
    if (schema.isList(c.name) !== true) throw schema.notAList(op, c.name);
    const parts = (next[c.name] ?? schema.defaultOf(c.name) ?? '').split(',').filter((s) => s !== '');
    for (const value of c.value!.split(',')) {
      if (op === 'APPEND') {
        if (!parts.includes(value)) parts.push(value);
      } else {
        const at = parts.indexOf(value);
        if (at >= 0) parts.splice(at, 1);
      }
    }
    next[c.name] = parts.join(',');
  }
  return next;
}

async function alterTopic(deps: ConfigAdminDeps, r: ConfigResourceChange, opts: AlterOptions): Promise<void> {
  checkOps(r.configs);
  const name = r.resourceName;
  if (name === '') throw invalidRequest('Default topic resources are not allowed.');
  const problem = topicNameProblem(name);
  if (problem) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
  const configs = (current: ReadonlyMap<string, string>): Record<string, string> => applyOps(opts.replace ? {} : Object.fromEntries(current), r.configs, TOPIC_SCHEMA);
  await deps.topics.alterConfigs(name, configs, opts.validateOnly);
}

const GROUP_SCHEMA: ListSchema = {
  isList: (name) => (GROUP_CONFIG_BY_NAME.has(name) ? false : undefined),
  defaultOf: () => null,
  notAList: (op, name) => new KafkaError(ErrorCode.INVALID_CONFIG, `Can't ${op} to key ${name} because its type is not LIST.`),
};

async function alterGroup(deps: ConfigAdminDeps, r: ConfigResourceChange, opts: AlterOptions): Promise<void> {
  checkOps(r.configs);
  const broker = groupConfigOf(deps.config);
  await deps.topics.alterGroupConfigs(
    r.resourceName,
    (current) => {
      const configs = applyOps(opts.replace ? {} : current, r.configs, GROUP_SCHEMA);
      validateGroupConfigs(r.resourceName, configs, broker);
      return configs;
    },
    opts.validateOnly,
  );
}

/** Kafka's validateResourceNameIsCurrentNodeId. */
function checkNodeId(deps: ConfigAdminDeps, name: string, what: 'broker' | 'node'): void {
  if (!/^[-+]?\d+$/.test(name) || !Number.isSafeInteger(Number(name)) || Math.abs(Number(name)) > 2147483647) {
    throw invalidRequest(`Node id must be an integer, but it is: ${name}`);
  }
  if (Number(name) !== deps.identity.nodeId) {
    throw invalidRequest(what === 'broker' ? `Unexpected broker id, expected ${deps.identity.nodeId}, but received ${name}` : `Unexpected node id. Expected ${deps.identity.nodeId}, but received ${name}`);
  }
}

async function alterBroker(deps: ConfigAdminDeps, r: ConfigResourceChange, opts: AlterOptions): Promise<void> {
  const level = r.resourceName === '' ? 'default' : 'broker';
  if (level === 'broker') checkNodeId(deps, r.resourceName, 'broker');
  checkAuthorized(opts, r);
  checkOps(r.configs);
  await deps.topics.alterBrokerConfigs(
    level,
    (current) => {
      const configs = applyOps(opts.replace ? {} : current, r.configs, BROKER_SCHEMA);
      const problem = brokerConfigChangeProblem(configs, level === 'broker', deps.config) ?? deps.listenerSecurity?.validateReconfiguration(level, configs);
      if (problem) throw invalidRequest(problem);
      return configs;
    },
    opts.validateOnly,
  );
  if (!opts.validateOnly) deps.listenerSecurity?.reconfigure();
}

function alterLoggers(deps: ConfigAdminDeps, r: ConfigResourceChange, validateOnly: boolean): void {
  checkNodeId(deps, r.resourceName, 'node');
  for (const c of r.configs) {
    switch (c.op) {
      case ConfigOp.SET:
        if (!loggerExists(c.name)) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Logger ${c.name} does not exist!`);
        if (!VALID_LOG_LEVELS.includes(c.value!)) {
          throw new KafkaError(
            ErrorCode.INVALID_CONFIG,
            `Cannot set the log level of ${c.name} to ${c.value} as it is not a supported log level. Valid log levels are ${VALID_LOG_LEVELS.join(', ')}`,
          );
        }
        break;
      case ConfigOp.DELETE:
        if (!loggerExists(c.name)) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Logger ${c.name} does not exist!`);
        if (c.name === ROOT_LOGGER) throw invalidRequest(`Removing the log level of the ${ROOT_LOGGER} logger is not allowed`);
        break;
      case ConfigOp.APPEND:
      case ConfigOp.SUBTRACT:
        throw invalidRequest(`${OP_NAMES[c.op]} operation is not allowed for the BROKER_LOGGER resource`);
      default:
        throw invalidRequest(`Unknown operation type ${c.op} is not allowed for the BROKER_LOGGER resource`);
    }
  }
  if (validateOnly) return;
  for (const c of r.configs) {
    if (c.op === ConfigOp.SET) {
      setLoggerLevel(deps.logger, c.name, c.value!);
      deps.logger.warn({ logger: c.name, level: c.value }, 'updated the log level');
    }
  }
}
