/**
 * What a request handler may use of the broker: narrow services, never the
 * Broker itself. Each request context carries one BrokerServices (the same
 * object for every request, built by broker.ts) and the connection's
 * Session; a handler reaches nothing else.
 *
 * Each service names the members handlers use of the class behind it (a
 * Pick), so a signature stays defined once, by its class. To give handlers a
 * new capability, add the member here; to add a subsystem, add a field to
 * BrokerServices and fill it in broker.ts.
 *
 * Only handlers, dispatch, connection, server and broker import this module.
 * The subsystems behind it (topic manager, fetch manager, group coordinator,
 * metrics) declare the deps they need in their own modules and never import
 * this one, so it can name their types without an import circle.
 */
import type { LogManager } from '../storage/index.js';
import type { ConfigView, Endpoint } from './config/broker-config.js';
import type { TransactionCoordinator } from './coordinator/transaction/transaction-coordinator.js';
import type { FetchManager } from './fetch/fetch-manager.js';
import type { GroupCoordinator } from './group/coordinator.js';
import type { Logger } from './logger.js';
import type { MemoryBudget } from './memory-budget.js';
import type { TopicManager } from './metadata/topic-manager.js';
import type { ClientMetricsManager } from './metrics/client-metrics-manager.js';
import type { MetricsRecorder } from './metrics/recorder.js';
import type { ProducerIdManager } from './produce/producer-ids.js';
import type { ProducerStateManager } from './produce/producer-state-manager.js';
import type { ListenerReconfiguration } from './security/tls-listeners.js';
import type { StandardAuthorizer } from './security/acl/standard-authorizer.js';
import type { ClientQuotas as ClientQuotasImpl } from './security/quota/client-quotas.js';
import type { ConnectionRates } from './security/quota/connection-rates.js';
import type { ShareFetches as ShareFetchesImpl } from './share/share-fetches.js';
import type { ScramCredentialStore } from './security/sasl/scram-credential-store.js';
import type { SaslListeners } from './security/sasl/sasl-listeners.js';
import type { ShareStatePersister } from './share/share-state-api.js';

export type { ConfigView } from './config/broker-config.js';

/** Topics and partitions: lookup, create, delete, configs (metadata/topic-manager.ts). */
export type Topics = Pick<
  TopicManager,
  | 'get'
  | 'getById'
  | 'all'
  | 'partition'
  | 'getOrAutoCreate'
  | 'create'
  | 'createTopics'
  | 'createPartitions'
  | 'delete'
  | 'deleteTopics'
  | 'alterConfigs'
  | 'alterBrokerConfigs'
  | 'groupConfigs'
  | 'alterGroupConfigs'
>;

/** Classic consumer groups and their committed offsets (group/coordinator.ts). */
export type Groups = Pick<
  GroupCoordinator,
  | 'offsetsTopic'
  | 'join'
  | 'sync'
  | 'heartbeat'
  | 'consumerGroupHeartbeat'
  | 'describeConsumerGroups'
  | 'shareGroupHeartbeat'
  | 'describeShareGroups'
  | 'shareGroupInitializedTopics'
  | 'alterShareGroupOffsets'
  | 'deleteShareGroupOffsets'
  | 'leave'
  | 'commitOffsets'
  | 'commitTransactionalOffsets'
  | 'partitionFor'
  | 'fetchOffsets'
  | 'deleteOffsets'
  | 'describe'
  | 'list'
  | 'deleteGroups'
  | 'onTopicDeleted'
>;

/** Idempotent producers' state per partition; Produce appends through it (produce/producer-state-manager.ts). */
export type ProducerStates = Pick<ProducerStateManager, 'append' | 'lastStableOffset' | 'activeProducers'>;

/** Producer ids for InitProducerId (produce/producer-ids.ts). */
export type ProducerIds = Pick<ProducerIdManager, 'nextId'>;

/** The transaction coordinator over `__transaction_state` (coordinator/transaction/transaction-coordinator.ts). */
export type Transactions = Pick<TransactionCoordinator, 'stateTopic' | 'unavailable' | 'initProducerId' | 'addPartitions' | 'addOffsets' | 'endTxn' | 'endTxnV2' | 'verifyPartitions' | 'metadata' | 'listTransactions'>;

/** The ACLs and the decisions on them (security/acl/standard-authorizer.ts); handlers ask through security/auth-helper.ts. */
export type Authorizer = Pick<StandardAuthorizer, 'authorize' | 'authorizeByResourceType' | 'matching' | 'createAcls' | 'deleteAcls'>;

/** Fetch sessions, long polls and the fetch memory budget (fetch/fetch-manager.ts). */
export type Fetches = Pick<FetchManager, 'fetch'>;

/** Share groups' records: share sessions and share-partitions (share/share-fetches.ts). */
export interface ShareFetches {
  readonly sessions: Pick<ShareFetchesImpl['sessions'], 'fetchContext' | 'acknowledgeContext'>;
  readonly partitions: Pick<ShareFetchesImpl['partitions'], 'fetch' | 'acknowledge' | 'releaseMember'>;
  /** The share coordinator's state (start offsets, delivery states), for DescribeShareGroupOffsets. */
  readonly persister: Pick<ShareStatePersister, 'readSummary' | 'read'>;
  /** The lock duration of a group's acquired records (AcquisitionLockTimeoutMs). */
  recordLockDurationMs(groupId: string): number;
  /**
   * Ends the share sessions a connection opened when it closes, releasing their members' records; the
   * signal that close aborts (the connection's waiting fetches stop acquiring).
   */
  watchConnection: ShareFetchesImpl['watchConnection'];
  /** Waits before SHARE_SESSION_LIMIT_REACHED is answered (MaxWaitMs; less when the connection closes). */
  idle: ShareFetchesImpl['idle'];
  /** Gives the record buffers of an answer back to storage once written. */
  releaseRecords(records: readonly Buffer[]): void;
}

/**
 * Client quotas (security/quota/client-quotas.ts): Describe/AlterClientQuotas, the per-request measure
 * (dispatch), the consumer byte rate of a fetch, and the connection rates (server).
 */
export interface Quotas extends Pick<ClientQuotasImpl, 'describe' | 'alter' | 'measuresRequestTime' | 'recordRequest' | 'fetchQuota'> {
  readonly connections: Pick<ConnectionRates, 'recordConnection' | 'recordIpConnection'>;
}

/** The partition logs as the log directory holds them (DeleteRecords, DescribeLogDirs). */
export type Logs = Pick<LogManager, 'getLog' | 'allLogs'>;

/** The broker-wide memory budgets (memory-budget.ts). */
export interface Budgets {
  /** queued.max.request.bytes: request bytes read from sockets and not yet handled. */
  readonly request: MemoryBudget;
  /** gregor.fetch.response.max.memory.bytes: fetch response bytes read and not yet written. */
  readonly fetch: MemoryBudget;
  /** gregor.decompression.max.memory.bytes: what produced compressed records may inflate to while validated. */
  readonly decompression: MemoryBudget;
}

/** Who this broker is, as responses name it. */
export interface BrokerIdentity {
  readonly nodeId: number;
  readonly clusterId: string;
  /**
   * Where clients of a listener are told to connect (advertised.listeners), by listener name (the session's
   * listenerName); undefined for a listener that is not advertised.
   */
  advertisedListener(listenerName: string): Endpoint | undefined;
  /** The log directory. */
  readonly dataDir: string;
}

/** Requests parked on something, counted for the metrics. */
export interface WaitingRequests {
  /** Produce requests with acks=all waiting for their appends. */
  acksAll: number;
  /** Fetches parked in a long poll. */
  fetches: number;
}

/** SASL (security/sasl): the listeners' exchanges, and the SCRAM credentials of the cluster's users. */
export interface Sasl {
  /** Makes the exchange of a SASL listener's new connection (server.ts) and of a re-authentication. */
  readonly listeners: Pick<SaslListeners, 'authentication' | 'reauthentication'>;
  /** DescribeUserScramCredentials and AlterUserScramCredentials (KIP-554). */
  readonly credentials: Pick<ScramCredentialStore, 'describe' | 'alter'>;
}

export interface BrokerServices {
  readonly identity: BrokerIdentity;
  readonly config: ConfigView;
  readonly logger: Logger;
  /** Hot-path metrics; undefined when gregor.metrics.enabled is false. */
  readonly metrics: MetricsRecorder | undefined;
  readonly topics: Topics;
  readonly groups: Groups;
  readonly producerStates: ProducerStates;
  readonly producerIds: ProducerIds;
  readonly fetches: Fetches;
  /** ShareFetch and ShareAcknowledge (KIP-932). */
  readonly shareFetches: ShareFetches;
  readonly logs: Logs;
  readonly budgets: Budgets;
  readonly waiting: WaitingRequests;
  /** The transaction coordinator. */
  readonly transactions: Transactions;
  /** Client metrics (KIP-714) as a broker without a telemetry receiver answers them. */
  readonly clientMetrics: Pick<ClientMetricsManager, 'getSubscription' | 'push'>;
  /** SASL listeners and SCRAM credentials. */
  readonly sasl: Sasl;
  /** The TLS listeners' settings, validated and replaced at a dynamic config change (certificate rotation). */
  readonly listenerSecurity: ListenerReconfiguration;
  /** The authorizer (authorizer.class.name set), undefined without one: everything is allowed. */
  readonly authorizer: Authorizer | undefined;
  /** Client quotas: set, stored, and enforced on every request. */
  readonly quotas: Quotas;
}
