/**
 * Every handler, one module per API key. Adding an API = writing its module
 * and listing it here; ApiVersions answers from this list. The APIs clients
 * use from their first requests on are loaded with the broker; the others
 * (administration, ACLs, SASL, rarely used group and log calls) are loaded at
 * their first request, so that startup loads fewer modules.
 */
import { apiByKey, ApiKey, type ApiDef } from '../../protocol/index.js';
import { apiVersionsHandler } from './api-versions.js';
import { fetchHandler } from './fetch.js';
import { findCoordinatorHandler } from './find-coordinator.js';
import type { Handler } from './handler.js';
import { heartbeatHandler } from './heartbeat.js';
import { joinGroupHandler } from './join-group.js';
import { leaveGroupHandler } from './leave-group.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { offsetCommitHandler } from './offset-commit.js';
import { offsetFetchHandler } from './offset-fetch.js';
import { produceHandler } from './produce.js';
import { registerHandlers, type LazyHandler } from './registry.js';
import { syncGroupHandler } from './sync-group.js';

/** A handler loaded from its module at the first request of `key`. */
function lazy(key: number, load: () => Promise<Handler>): LazyHandler {
  return { api: apiByKey(key) as ApiDef, load };
}

registerHandlers([
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  findCoordinatorHandler,
  joinGroupHandler,
  heartbeatHandler,
  leaveGroupHandler,
  syncGroupHandler,
  lazy(ApiKey.DescribeGroups, async () => (await import('./describe-groups.js')).describeGroupsHandler),
  lazy(ApiKey.ListGroups, async () => (await import('./list-groups.js')).listGroupsHandler),
  apiVersionsHandler,
  lazy(ApiKey.CreateTopics, async () => (await import('./create-topics.js')).createTopicsHandler),
  lazy(ApiKey.DeleteTopics, async () => (await import('./delete-topics.js')).deleteTopicsHandler),
  lazy(ApiKey.DeleteGroups, async () => (await import('./delete-groups.js')).deleteGroupsHandler),
  lazy(ApiKey.OffsetDelete, async () => (await import('./offset-delete.js')).offsetDeleteHandler),
  lazy(ApiKey.DescribeClientQuotas, async () => (await import('./describe-client-quotas.js')).describeClientQuotasHandler),
  lazy(ApiKey.AlterClientQuotas, async () => (await import('./alter-client-quotas.js')).alterClientQuotasHandler),
  lazy(ApiKey.InitProducerId, async () => (await import('./init-producer-id.js')).initProducerIdHandler),
  lazy(ApiKey.OffsetForLeaderEpoch, async () => (await import('./offset-for-leader-epoch.js')).offsetForLeaderEpochHandler),
  lazy(ApiKey.DescribeConfigs, async () => (await import('./describe-configs.js')).describeConfigsHandler),
  lazy(ApiKey.AlterConfigs, async () => (await import('./alter-configs.js')).alterConfigsHandler),
  lazy(ApiKey.IncrementalAlterConfigs, async () => (await import('./incremental-alter-configs.js')).incrementalAlterConfigsHandler),
  lazy(ApiKey.CreatePartitions, async () => (await import('./create-partitions.js')).createPartitionsHandler),
  lazy(ApiKey.DeleteRecords, async () => (await import('./delete-records.js')).deleteRecordsHandler),
  lazy(ApiKey.DescribeUserScramCredentials, async () => (await import('./describe-user-scram-credentials.js')).describeUserScramCredentialsHandler),
  lazy(ApiKey.AlterUserScramCredentials, async () => (await import('./alter-user-scram-credentials.js')).alterUserScramCredentialsHandler),
  lazy(ApiKey.DescribeCluster, async () => (await import('./describe-cluster.js')).describeClusterHandler),
  lazy(ApiKey.DescribeLogDirs, async () => (await import('./describe-log-dirs.js')).describeLogDirsHandler),
  lazy(ApiKey.DescribeAcls, async () => (await import('./describe-acls.js')).describeAclsHandler),
  lazy(ApiKey.CreateAcls, async () => (await import('./create-acls.js')).createAclsHandler),
  lazy(ApiKey.DeleteAcls, async () => (await import('./delete-acls.js')).deleteAclsHandler),
  lazy(ApiKey.SaslHandshake, async () => (await import('./sasl-handshake.js')).saslHandshakeHandler),
  lazy(ApiKey.SaslAuthenticate, async () => (await import('./sasl-authenticate.js')).saslAuthenticateHandler),
  lazy(ApiKey.AddPartitionsToTxn, async () => (await import('./add-partitions-to-txn.js')).addPartitionsToTxnHandler),
  lazy(ApiKey.AddOffsetsToTxn, async () => (await import('./add-offsets-to-txn.js')).addOffsetsToTxnHandler),
  lazy(ApiKey.EndTxn, async () => (await import('./end-txn.js')).endTxnHandler),
  lazy(ApiKey.TxnOffsetCommit, async () => (await import('./txn-offset-commit.js')).txnOffsetCommitHandler),
  lazy(ApiKey.DescribeProducers, async () => (await import('./describe-producers.js')).describeProducersHandler),
  lazy(ApiKey.DescribeTransactions, async () => (await import('./describe-transactions.js')).describeTransactionsHandler),
  lazy(ApiKey.ListTransactions, async () => (await import('./list-transactions.js')).listTransactionsHandler),
  lazy(ApiKey.ConsumerGroupHeartbeat, async () => (await import('./consumer-group-heartbeat.js')).consumerGroupHeartbeatHandler),
  lazy(ApiKey.ConsumerGroupDescribe, async () => (await import('./consumer-group-describe.js')).consumerGroupDescribeHandler),
  lazy(ApiKey.ShareGroupHeartbeat, async () => (await import('./share-group-heartbeat.js')).shareGroupHeartbeatHandler),
  lazy(ApiKey.ShareGroupDescribe, async () => (await import('./share-group-describe.js')).shareGroupDescribeHandler),
  lazy(ApiKey.DescribeShareGroupOffsets, async () => (await import('./describe-share-group-offsets.js')).describeShareGroupOffsetsHandler),
  lazy(ApiKey.AlterShareGroupOffsets, async () => (await import('./alter-share-group-offsets.js')).alterShareGroupOffsetsHandler),
  lazy(ApiKey.DeleteShareGroupOffsets, async () => (await import('./delete-share-group-offsets.js')).deleteShareGroupOffsetsHandler),
  lazy(ApiKey.ShareFetch, async () => (await import('./share-fetch.js')).shareFetchHandler),
  lazy(ApiKey.ShareAcknowledge, async () => (await import('./share-acknowledge.js')).shareAcknowledgeHandler),
  lazy(ApiKey.DescribeTopicPartitions, async () => (await import('./describe-topic-partitions.js')).describeTopicPartitionsHandler),
  // unlisted, as Kafka without a telemetry receiver: answered when asked
  { ...lazy(ApiKey.GetTelemetrySubscriptions, async () => (await import('./get-telemetry-subscriptions.js')).getTelemetrySubscriptionsHandler), listed: false },
  { ...lazy(ApiKey.PushTelemetry, async () => (await import('./push-telemetry.js')).pushTelemetryHandler), listed: false },
]);

export { handlerFor, loadHandler, supportedApis, versionsFor } from './registry.js';
