/**
 * DescribeConfigs: v0-4.
 * Behavior: as Kafka 3.9's ConfigHelper (see config/describe-configs.ts for
 * values, sources and synonyms).
 * - TOPIC: every topic config with its effective value; an illegal name →
 *   INVALID_TOPIC_EXCEPTION with Kafka's message, an unknown topic →
 *   UNKNOWN_TOPIC_OR_PARTITION.
 * - BROKER: this node's id → every broker config Gregor has, with its current
 *   value (read-only unless dynamic-broker-configs.ts lists it); "" → only the
 *   cluster-wide dynamic defaults that are set; another id → INVALID_REQUEST.
 * - BROKER_LOGGER: this node's id → the "root" logger's level
 *   (DYNAMIC_BROKER_LOGGER_CONFIG); "" or another id → INVALID_REQUEST.
 * - GROUP: any group name but "" → its group configs (group/group-configs.ts:
 *   consumer.session.timeout.ms, consumer.heartbeat.interval.ms), set on the
 *   group (GROUP_CONFIG) or the broker's (DEFAULT_CONFIG).
 * - CLIENT_METRICS: INVALID_REQUEST "Unsupported resource type" (Gregor
 *   keeps no such configs). Any other type fails the whole request: every
 *   resource gets INVALID_REQUEST, as in Kafka.
 * configuration_keys (null or empty = all) keeps the named configs only;
 * unknown names are left out.
 * Authorization (an authorizer's, as Kafka's ConfigHelper, before anything
 * else of the resource): DESCRIBE_CONFIGS on the cluster for BROKER,
 * BROKER_LOGGER and CLIENT_METRICS (else CLUSTER_AUTHORIZATION_FAILED), on
 * the topic for TOPIC (TOPIC_AUTHORIZATION_FAILED), on the group for GROUP
 * (GROUP_AUTHORIZATION_FAILED); a refusal carries Kafka's default message and
 * no configs.
 * Version notes: v0 has is_default (source DEFAULT_CONFIG) and no source or
 * synonyms; v1+ config_source and synonyms when include_synonyms; v3+
 * config_type, and documentation when include_documentation; v4 flexible.
 */
import { ApiKey, apiByKey, ErrorCode, errorInfo, KafkaError, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { ResourceType } from '../config/alter-config-resources.js';
import { brokerLoggers } from '../config/broker-loggers.js';
import { describeBrokerConfigEntries, describeTopicConfigEntries, DYNAMIC_BROKER_LOGGER_CONFIG, type DescribedConfig } from '../config/describe-configs.js';
import { CONFIG_SOURCE_ID } from '../config/topic-configs.js';
import { apiErrorOf, isKnownError } from '../errors.js';
import { groupConfigOf } from '../group/group-config.js';
import { describeGroupConfigEntries } from '../group/group-configs.js';
import { topicNameProblem } from '../metadata/topic-names.js';
import { authorize, authorizeCluster, type AuthContext } from '../security/auth-helper.js';
import type { BrokerServices } from '../services.js';
import { defineHandler } from './handler.js';

type Result = NonNullable<MessageInput<typeof schemas.describeConfigsResponse>['results']>[number];
type Resource = MessageValue<typeof schemas.describeConfigsRequest>['resources'][number];

const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(ResourceType));
const TYPE_NAMES: Readonly<Record<number, string>> = { [ResourceType.GROUP]: 'GROUP', [ResourceType.CLIENT_METRICS]: 'CLIENT_METRICS' };

export const describeConfigsHandler = defineHandler({
  api: apiByKey(ApiKey.DescribeConfigs)!,
  request: schemas.describeConfigsRequest,
  response: schemas.describeConfigsResponse,
  handle(ctx, req) {
    if (req.resources.some((r) => !KNOWN_TYPES.has(r.resourceType))) {
      // Kafka refuses the request as a whole (InvalidRequestException before any resource is described)
      const results = req.resources.map((r) => failure(r, ErrorCode.INVALID_REQUEST, errorInfo(ErrorCode.INVALID_REQUEST).message));
      return { throttleTimeMs: 0, results };
    }
    const opts = { synonyms: ctx.version >= 1 && req.includeSynonyms, documentation: ctx.version >= 3 && req.includeDocumentation };
    return {
      throttleTimeMs: 0,
      results: req.resources.map((r) => {
        const refused = refusalOf(ctx, r);
        return refused === undefined ? describeResource(ctx.services, r, opts) : failure(r, refused, errorInfo(refused).message);
      }),
    };
  },
});

/** DESCRIBE_CONFIGS on what the resource belongs to: the error code of a refusal, or undefined. */
function refusalOf(ctx: AuthContext, r: Resource): number | undefined {
  switch (r.resourceType) {
    case ResourceType.TOPIC:
      return authorize(ctx, 'DESCRIBE_CONFIGS', 'TOPIC', r.resourceName) ? undefined : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    case ResourceType.GROUP:
      return authorize(ctx, 'DESCRIBE_CONFIGS', 'GROUP', r.resourceName) ? undefined : ErrorCode.GROUP_AUTHORIZATION_FAILED;
    default:
      return authorizeCluster(ctx, 'DESCRIBE_CONFIGS') ? undefined : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
  }
}

function failure(r: Resource, errorCode: number, errorMessage: string | null): Result {
  return { errorCode, errorMessage, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] };
}

function invalidRequest(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_REQUEST, message);
}

function brokerIdOf(name: string): number {
  if (!/^[-+]?\d+$/.test(name) || Math.abs(Number(name)) > 2147483647) throw invalidRequest(`Broker id must be an integer, but it is: ${name}`);
  return Number(name);
}

function describeResource(services: BrokerServices, r: Resource, opts: { synonyms: boolean; documentation: boolean }): Result {
  let entries: DescribedConfig[];
  try {
    entries = entriesOf(services, r);
  } catch (err) {
    if (!isKnownError(err)) throw err;
    const e = apiErrorOf(err);
    return failure(r, e.errorCode, e.errorMessage);
  }
  const keys = r.configurationKeys;
  const wanted = keys === null || keys.length === 0 ? entries : entries.filter((e) => keys.includes(e.name));
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    resourceType: r.resourceType,
    resourceName: r.resourceName,
    configs: wanted.map((e) => ({
      name: e.name,
      value: e.value,
      readOnly: e.readOnly,
      isDefault: e.source === CONFIG_SOURCE_ID.DEFAULT_CONFIG,
      configSource: e.source,
      isSensitive: e.sensitive,
      synonyms: opts.synonyms ? e.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })) : [],
      configType: e.type,
      documentation: opts.documentation ? e.documentation : null,
    })),
  };
}

function entriesOf(services: BrokerServices, r: Resource): DescribedConfig[] {
  const name = r.resourceName;
  switch (r.resourceType) {
    case ResourceType.TOPIC: {
      const problem = topicNameProblem(name);
      if (problem) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
      const topic = services.topics.get(name);
      if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      return describeTopicConfigEntries(services.config, topic.overrides);
    }
    case ResourceType.BROKER:
      if (name === '') return describeBrokerConfigEntries(services.config, false);
      if (brokerIdOf(name) !== services.identity.nodeId) {
        throw invalidRequest(`Unexpected broker id, expected ${services.identity.nodeId} or empty string, but received ${name}`);
      }
      return describeBrokerConfigEntries(services.config, true);
    case ResourceType.BROKER_LOGGER:
      if (name === '') throw invalidRequest('Broker id must not be empty');
      if (brokerIdOf(name) !== services.identity.nodeId) throw invalidRequest(`Unexpected broker id, expected ${services.identity.nodeId} but received ${name}`);
      return brokerLoggers(services.logger).map(([logger, level]) => ({
        name: logger,
        value: level,
        source: DYNAMIC_BROKER_LOGGER_CONFIG,
        readOnly: false,
        sensitive: false,
        synonyms: [],
        type: 0,
        documentation: null,
      }));
    case ResourceType.GROUP:
      return describeGroupConfigEntries(name, services.topics.groupConfigs(name), groupConfigOf(services.config));
    default:
      throw invalidRequest(`Unsupported resource type: ${TYPE_NAMES[r.resourceType] ?? r.resourceType}`);
  }
}
