/**
 * Metadata: v0-13.
 * Behavior: one broker (this node, at the advertised host and port of the
 * listener the client is connected to), which is also the controller; the cluster id from meta.properties; every partition led
 * by this node with replicas = ISR = [this node]. Requested topics that do not
 * exist are auto-created when the request allows it and auto.create.topics.enable
 * is true (with num.partitions and default.replication.factor), and answered
 * once created; `__consumer_offsets` and `__transaction_state` are created then
 * too, by their owners, the group and transaction coordinators, with
 * offsets.topic.num.partitions / transaction.state.log.num.partitions and their
 * compacted configs (the same creation FindCoordinator triggers), as Kafka's
 * AutoTopicCreationManager creates internal topics with their own settings.
 * Otherwise they get UNKNOWN_TOPIC_OR_PARTITION, or
 * INVALID_TOPIC_EXCEPTION when the name is illegal; a creation past a limit or
 * on a failing disk gets its error (POLICY_VIOLATION, KAFKA_STORAGE_ERROR).
 * Without an authorizer every operation is allowed: authorized
 * operations are answered with the full set Kafka reports when asked, and
 * -2147483648 when not asked.
 * A client connected to a listener that is not advertised gets no broker and
 * every partition without a leader (leader -1), as Kafka answers when the
 * leader has no endpoint for the listener: LISTENER_NOT_FOUND from v6 on,
 * LEADER_NOT_AVAILABLE before (v0 also leaves out the replicas and ISR).
 * Authorization (as Kafka's KafkaApis; without an authorizer everything is
 * allowed): a topic needs DESCRIBE. All topics: those not allowed are left
 * out. Requested topics: TOPIC_AUTHORIZATION_FAILED for each one not allowed
 * (by name: with the name and no topic id, its existence not disclosed; by
 * id: with the id and no name); an auto-creation needs CREATE on the
 * cluster or on the topic, else TOPIC_AUTHORIZATION_FAILED. Authorized
 * operations when asked (-2147483648 when not): each answered topic's (the
 * ones refused excepted), and the cluster's when the session may DESCRIBE
 * it (else 0); without an authorizer, every operation the resource has.
 * Version notes: v0 reads an empty topic list as "all topics", v1+ a null list
 * (an empty one means none). v0-3 always allow auto-creation, v4+ carry
 * allow_auto_topic_creation. v7+ leader epochs; v8-10 cluster authorized
 * operations; v8+ topic authorized operations; v10+ topic ids in responses;
 * v12+ topics looked up by id (UNKNOWN_TOPIC_ID when unknown) — as in Kafka,
 * v10-11 requests with a null name or a topic id get INVALID_REQUEST; v13+
 * a top-level error code (KIP-1102: REBOOTSTRAP_REQUIRED tells a client to
 * bootstrap again; Kafka's brokers never send it and neither does Gregor: 0).
 */
import { ApiKey, apiByKey, ErrorCode, schemas, ZERO_UUID, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { errorCodeOf, isKnownError } from '../errors.js';
import type { TopicInfo } from '../metadata/topic-manager.js';
import { INTERNAL_TOPICS, topicNameProblem } from '../metadata/topic-names.js';
import { operationsBitField, SUPPORTED_OPERATIONS } from '../security/acl/acl-types.js';
import { AUTHORIZED_OPERATIONS_OMITTED, authorize, authorizeCluster, authorizedOperations, clusterAuthorizedOperations, type AuthContext } from '../security/auth-helper.js';
import type { BrokerServices } from '../services.js';
import { defineHandler } from './handler.js';

type Response = MessageInput<typeof schemas.metadataResponse>;
type ResponseTopic = NonNullable<Response['topics']>[number];
type RequestTopic = MessageValue<typeof schemas.metadataRequest>['topics'] extends ReadonlyArray<infer T> | null ? T : never;

export { AUTHORIZED_OPERATIONS_OMITTED };
/** READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS: everything on a topic, as Kafka without an authorizer. */
export const TOPIC_AUTHORIZED_OPERATIONS = operationsBitField(SUPPORTED_OPERATIONS.TOPIC);
/** CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE. */
export const CLUSTER_AUTHORIZED_OPERATIONS = operationsBitField(SUPPORTED_OPERATIONS.CLUSTER);

/** A topic's authorized operations as the request asks for them (or not). */
type TopicOps = (name: string) => number;

export const metadataHandler = defineHandler({
  api: apiByKey(ApiKey.Metadata)!,
  request: schemas.metadataRequest,
  response: schemas.metadataResponse,
  async handle(ctx, req) {
    const { services, version } = ctx;
    const includeTopicOps = version >= 8 && req.includeTopicAuthorizedOperations;
    const topicOps: TopicOps = includeTopicOps ? (name) => authorizedOperations(ctx, 'TOPIC', name) : () => AUTHORIZED_OPERATIONS_OMITTED;
    const allTopics = req.topics === null || (version === 0 && req.topics.length === 0);
    const allowAutoCreate = version < 4 || req.allowAutoTopicCreation;
    const advertised = services.identity.advertisedListener(ctx.session.listenerName);
    const leader = leaderOf(services.identity.nodeId, advertised !== undefined, version);
    const topics: ResponseTopic[] = [];
    if (allTopics) {
      // topics the session may not describe are left out, unlogged
      for (const t of services.topics.all()) if (authorize(ctx, 'DESCRIBE', 'TOPIC', t.name, false)) topics.push(topicMetadata(leader, t, topicOps));
    } else {
      for (const t of req.topics ?? []) topics.push(await requestedTopic(ctx, leader, t, version, allowAutoCreate, topicOps));
    }
    const includeClusterOps = version >= 8 && version <= 10 && req.includeClusterAuthorizedOperations;
    return {
      throttleTimeMs: 0,
      brokers: advertised === undefined ? [] : [{ nodeId: services.identity.nodeId, host: advertised.host, port: advertised.port, rack: null }],
      clusterId: services.identity.clusterId,
      controllerId: services.identity.nodeId,
      topics,
      clusterAuthorizedOperations: !includeClusterOps ? AUTHORIZED_OPERATIONS_OMITTED : authorizeCluster(ctx, 'DESCRIBE') ? clusterAuthorizedOperations(ctx) : 0,
      errorCode: ErrorCode.NONE,
    };
  },
});

/** What every partition says of its leader, this node, to a client of the connection's listener. */
interface Leader {
  readonly errorCode: number;
  readonly leaderId: number;
  readonly replicas: readonly number[];
}

/** This node as the leader, or, on a listener it does not advertise, no leader (see the top of this file). */
function leaderOf(nodeId: number, advertised: boolean, version: number): Leader {
  if (advertised) return { errorCode: ErrorCode.NONE, leaderId: nodeId, replicas: [nodeId] };
  return { errorCode: version >= 6 ? ErrorCode.LISTENER_NOT_FOUND : ErrorCode.LEADER_NOT_AVAILABLE, leaderId: -1, replicas: version === 0 ? [] : [nodeId] };
}

async function requestedTopic(ctx: AuthContext, leader: Leader, t: RequestTopic, version: number, allowAutoCreate: boolean, topicOps: TopicOps): Promise<ResponseTopic> {
  const { services } = ctx;
  const byId = t.topicId !== ZERO_UUID;
  if (version < 12 && (t.name === null || byId)) {
    // v10-11 responses cannot carry a null name
    return errorTopic(ErrorCode.INVALID_REQUEST, t.name ?? '', t.topicId);
  }
  if (byId) {
    const found = services.topics.getById(t.topicId);
    // Kafka answers unknown ids without a name, so a client cannot learn which names exist.
    if (!found) return errorTopic(ErrorCode.UNKNOWN_TOPIC_ID, null, t.topicId);
    // (topic ids are not secret: a refusal names the id, not the topic)
    if (!authorize(ctx, 'DESCRIBE', 'TOPIC', found.name)) return errorTopic(ErrorCode.TOPIC_AUTHORIZATION_FAILED, null, t.topicId);
    return topicMetadata(leader, found, topicOps);
  }
  const name = t.name;
  if (name === null) return errorTopic(ErrorCode.INVALID_REQUEST, null, ZERO_UUID);
  // refused before anything is looked up, so that the answer says nothing of whether the topic exists
  if (!authorize(ctx, 'DESCRIBE', 'TOPIC', name)) return errorTopic(ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, ZERO_UUID);
  const autoCreate = allowAutoCreate && services.config.bool('auto.create.topics.enable');
  if (autoCreate && services.topics.get(name) === undefined && !authorizeCluster(ctx, 'CREATE', false) && !authorize(ctx, 'CREATE', 'TOPIC', name)) {
    return { ...errorTopic(ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, ZERO_UUID), isInternal: INTERNAL_TOPICS.has(name) };
  }
  try {
    // internal topics are created by their owners, with their own settings
    const owned = [services.groups.offsetsTopic, services.transactions.stateTopic].find((topic) => topic.name === name);
    if (owned !== undefined && autoCreate) await owned.ensureCreated();
    const found = await services.topics.getOrAutoCreate(name, allowAutoCreate);
    if (found) return topicMetadata(leader, found, topicOps);
  } catch (err) {
    if (!isKnownError(err)) throw err;
    return errorTopic(errorCodeOf(err), name, ZERO_UUID, topicOps(name));
  }
  return errorTopic(topicNameProblem(name) ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, ZERO_UUID, topicOps(name));
}

function errorTopic(errorCode: number, name: string | null, topicId: string, topicAuthorizedOperations = AUTHORIZED_OPERATIONS_OMITTED): ResponseTopic {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations };
}

function topicMetadata(leader: Leader, t: TopicInfo, topicOps: TopicOps): ResponseTopic {
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.topicId,
    isInternal: t.internal,
    partitions: t.partitions.map((p) => ({
      errorCode: leader.errorCode,
      partitionIndex: p.partition,
      leaderId: leader.leaderId,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [...leader.replicas],
      isrNodes: [...leader.replicas],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: topicOps(t.name),
  };
}
