/**
 * Broker configuration: every key a broker accepts, with Kafka's property
 * names. Two tables make it:
 * - Gregor's own (GREGOR_CONFIGS, below): the configs Gregor implements, with
 *   Gregor's defaults and documentation (Kafka's names, Kafka's meaning where
 *   Gregor follows it, gregor.* for Gregor's own);
 * - Kafka 3.9's (kafka-broker-configs.ts): every other config a Kafka broker
 *   knows, accepted, validated, stored and described as Kafka does, with no
 *   effect in Gregor (noEffect).
 * Each config also carries Kafka's dynamic update mode and importance, taken
 * from Kafka's table by name. The same definitions answer DescribeConfigs.
 */
import { KAFKA_VALIDATORS, type ConfigDef } from './config-values.js';
import { KAFKA_BROKER_CONFIGS } from './kafka-broker-configs.js';
import { metadataVersionProblem } from './kafka-version.js';
import { parsePrincipal, principalProblem } from '../security/acl/acl-types.js';
import { principalMappingRulesProblem } from '../security/ssl-principal-mapper.js';

/** ssl.enabled.protocols: TLSv1.2 and TLSv1.3 only. */
function tlsProtocolsProblem(value: string): string | undefined {
  const other = value.split(',').map((s) => s.trim()).find((p) => p !== '' && p !== 'TLSv1.2' && p !== 'TLSv1.3');
  return other === undefined ? undefined : `${other} is not served: Gregor serves TLSv1.2 and TLSv1.3 only`;
}

export type { ConfigDef, ConfigType } from './config-values.js';

const LONG_MAX = '9223372036854775807';

/** The configs Gregor implements (modes and importance are added from Kafka's table). */
const GREGOR_CONFIGS: readonly ConfigDef[] = [
  { name: 'node.id', type: 'int', default: '1', min: 0, aliases: ['broker.id'], doc: 'The node id of this broker.' },
  { name: 'listeners', type: 'list', default: 'PLAINTEXT://:9092', doc: 'Listener URIs, NAME://host:port, each name once and with a security protocol in listener.security.protocol.map (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL); an empty host binds all interfaces.' },
  { name: 'listener.security.protocol.map', type: 'string', default: 'SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT', doc: 'Map between listener names and security protocols (NAME:PROTOCOL pairs): each listener of listeners must have one. Listener-prefixed configs (listener.name.<name>.<config>) set a config for one listener.' },
  { name: 'advertised.listeners', type: 'list', default: 'PLAINTEXT://localhost:9092', doc: 'Listener URIs given to clients in Metadata, FindCoordinator and DescribeCluster responses, by listener name: a client is given the one of the listener it is connected to; a listener left out is not advertised. When not set: each listener at its port, on localhost (or on the listener host when it names one).' },
  { name: 'controller.listener.names', type: 'list', default: null, doc: 'Names of the KRaft controller listeners. Gregor is its own controller and serves no controller listener: entries of listeners with these names are ignored (with a warning), so a KRaft server.properties works as it is.' },
  { name: 'log.dirs', type: 'string', default: './data', aliases: ['log.dir'], doc: 'The directory in which the log data is kept.' },
  { name: 'num.partitions', type: 'int', default: '1', min: 1, doc: 'The default number of log partitions per topic.' },
  { name: 'default.replication.factor', type: 'int', default: '1', min: 1, doc: 'The default replication factor for automatically created topics.' },
  { name: 'auto.create.topics.enable', type: 'boolean', default: 'true', doc: 'Enable auto creation of topics on the server.' },
  { name: 'delete.topic.enable', type: 'boolean', default: 'true', doc: 'Enables delete topic.' },
  { name: 'log.segment.bytes', type: 'int', default: '1073741824', min: 14, doc: 'The maximum size of a single log file.' },
  { name: 'log.roll.ms', type: 'long', default: null, doc: 'The maximum time before a new log segment is rolled out (in milliseconds).' },
  { name: 'log.roll.hours', type: 'int', default: '168', min: 1, doc: 'The maximum time before a new log segment is rolled out (in hours).' },
  { name: 'log.retention.ms', type: 'long', default: null, doc: 'The number of milliseconds to keep a log file before deleting it; -1 means no time limit.' },
  { name: 'log.retention.minutes', type: 'int', default: null, doc: 'The number of minutes to keep a log file before deleting it.' },
  { name: 'log.retention.hours', type: 'int', default: '168', doc: 'The number of hours to keep a log file before deleting it.' },
  { name: 'log.retention.bytes', type: 'long', default: '-1', doc: 'The maximum size of the log before deleting it.' },
  { name: 'log.retention.check.interval.ms', type: 'long', default: '300000', min: 1, doc: 'The frequency in milliseconds that the log cleaner checks whether any log is eligible for deletion.' },
  { name: 'log.index.interval.bytes', type: 'int', default: '4096', min: 0, doc: 'The interval with which we add an entry to the offset index.' },
  { name: 'log.index.size.max.bytes', type: 'int', default: '10485760', min: 4, doc: 'The maximum size in bytes of the offset index.' },
  { name: 'log.flush.interval.messages', type: 'long', default: LONG_MAX, min: 1, doc: 'The number of messages accumulated on a log partition before messages are flushed to disk.' },
  { name: 'log.flush.interval.ms', type: 'long', default: null, doc: 'The maximum time in ms that a message in any topic is kept in memory before flushed to disk.' },
  { name: 'log.segment.delete.delay.ms', type: 'long', default: '60000', min: 0, doc: 'The amount of time to wait before deleting a file from the filesystem.' },
  { name: 'log.flush.scheduler.interval.ms', type: 'long', default: LONG_MAX, doc: 'The frequency in ms that the log flusher checks whether any log needs to be flushed to disk.' },
  { name: 'log.roll.jitter.ms', type: 'long', default: null, doc: 'The maximum jitter to subtract from logRollTimeMillis (in milliseconds).' },
  { name: 'log.roll.jitter.hours', type: 'int', default: '0', min: 0, doc: 'The maximum jitter to subtract from logRollTimeMillis (in hours).' },
  { name: 'log.preallocate', type: 'boolean', default: 'false', doc: 'Should pre allocate file when create new segment?' },
  { name: 'log.cleaner.delete.retention.ms', type: 'long', default: '86400000', min: 0, doc: 'The amount of time to retain tombstone message markers for log compacted topics.' },
  { name: 'log.cleaner.min.compaction.lag.ms', type: 'long', default: '0', min: 0, doc: 'The minimum time a message will remain uncompacted in the log.' },
  { name: 'log.cleaner.max.compaction.lag.ms', type: 'long', default: LONG_MAX, min: 1, doc: 'The maximum time a message will remain ineligible for compaction in the log.' },
  { name: 'log.cleaner.min.cleanable.ratio', type: 'double', default: '0.5', min: 0, max: 1, doc: 'The minimum ratio of dirty log to total log for a log to eligible for cleaning.' },
  { name: 'log.cleaner.enable', type: 'boolean', default: 'true', doc: 'Enable the log cleaner process to run on the server. Should be enabled if using any topics with a cleanup.policy=compact including the internal offsets topic.' },
  { name: 'log.cleaner.backoff.ms', type: 'long', default: '15000', min: 1, doc: 'The amount of time to sleep when there are no logs to clean.' },
  { name: 'log.cleaner.dedupe.buffer.size', type: 'long', default: '134217728', min: 1024, doc: 'The total memory used for log deduplication (the key → offset map of one cleaning).' },
  { name: 'log.cleaner.io.buffer.size', type: 'int', default: '524288', min: 512, doc: 'The memory used for log cleaner I/O buffers: bytes read and written at a time (grown for a larger batch).' },
  { name: 'log.cleaner.io.buffer.load.factor', type: 'double', default: '0.9', min: 0.01, max: 1, doc: 'Log cleaner dedupe buffer load factor: the share of the dedupe buffer that may become full.' },
  { name: 'log.cleaner.io.max.bytes.per.second', type: 'double', default: '1.7976931348623157E308', min: 1, doc: 'The log cleaner will be throttled so that the sum of its read and write i/o will be less than this value on average.' },
  { name: 'log.message.downconversion.enable', type: 'boolean', default: 'true', doc: 'Whether down-conversion of message formats is enabled to satisfy consume requests.' },
  { name: 'log.message.format.version', type: 'string', default: '3.0-IV1', check: metadataVersionProblem, doc: '[DEPRECATED] The message format version the broker uses to append messages to the logs; ignored since 3.0.' },
  { name: 'log.message.timestamp.difference.max.ms', type: 'long', default: LONG_MAX, min: 0, doc: '[DEPRECATED] The maximum difference allowed between the timestamp when a broker receives a message and the timestamp specified in the message.' },
  { name: 'log.message.timestamp.before.max.ms', type: 'long', default: LONG_MAX, min: 0, doc: 'How far a message timestamp may be earlier than the broker\'s timestamp.' },
  { name: 'log.message.timestamp.after.max.ms', type: 'long', default: LONG_MAX, min: 0, doc: 'How far a message timestamp may be later than the broker\'s timestamp.' },
  { name: 'log.local.retention.ms', type: 'long', default: '-2', min: -2, doc: 'Local (tiered storage) retention in ms; -2 means log.retention.ms.' },
  { name: 'log.local.retention.bytes', type: 'long', default: '-2', min: -2, doc: 'Local (tiered storage) retention in bytes; -2 means log.retention.bytes.' },
  { name: 'unclean.leader.election.enable', type: 'boolean', default: 'false', doc: 'Indicates whether to enable replicas not in the ISR set to be elected as leader as a last resort.' },
  { name: 'compression.gzip.level', type: 'int', default: '-1', check: KAFKA_VALIDATORS['gzip-level'], doc: 'The compression level to use if compression.type is set to gzip.' },
  { name: 'compression.lz4.level', type: 'int', default: '9', min: 1, max: 17, doc: 'The compression level to use if compression.type is set to lz4.' },
  { name: 'compression.zstd.level', type: 'int', default: '3', min: -131072, max: 22, doc: 'The compression level to use if compression.type is set to zstd.' },
  { name: 'log.cleanup.policy', type: 'list', default: 'delete', choices: ['delete', 'compact'], doc: 'The default cleanup policy for segments beyond the retention window.' },
  { name: 'log.message.timestamp.type', type: 'string', default: 'CreateTime', choices: ['CreateTime', 'LogAppendTime'], doc: 'Whether the timestamp in the message is message create time or log append time.' },
  { name: 'compression.type', type: 'string', default: 'producer', choices: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'], doc: 'The final compression type for a given topic.' },
  { name: 'message.max.bytes', type: 'int', default: '1048588', min: 0, doc: 'The largest record batch size allowed by Kafka (after compression if compression is enabled).' },
  { name: 'min.insync.replicas', type: 'int', default: '1', min: 1, doc: 'The minimum number of replicas that must acknowledge a write for acks=all to succeed.' },
  { name: 'socket.request.max.bytes', type: 'int', default: '104857600', min: 1, doc: 'The maximum number of bytes in a socket request.' },
  { name: 'connections.max.idle.ms', type: 'long', default: '600000', doc: 'Idle connections timeout: the server closes connections idle for more than this.' },
  { name: 'max.connections', type: 'int', default: '2147483647', min: 0, doc: 'The maximum number of connections the broker allows at any time.' },
  { name: 'max.connections.per.ip', type: 'int', default: '2147483647', min: 0, doc: 'The maximum number of connections the broker allows from each ip address.' },
  { name: 'max.connection.creation.rate', type: 'int', default: '2147483647', min: 0, doc: 'The maximum connection creation rate we allow in the broker at any time. Gregor: broker-wide (no listener-level limits); a new connection over it waits its throttle time, at most quota.window.size.seconds, before it is admitted, and the ones behind it wait too.' },
  { name: 'quota.window.num', type: 'int', default: '11', min: 1, doc: 'The number of samples to retain in memory for client quotas' },
  { name: 'quota.window.size.seconds', type: 'int', default: '1', min: 1, doc: 'The time span of each sample for client quotas' },
  { name: 'socket.listen.backlog.size', type: 'int', default: '50', min: 1, doc: 'The maximum number of pending connections on the socket. Gregor: also how many connections wait, accepted and unread, while max.connections are open; one more is closed at once.' },
  { name: 'queued.max.requests', type: 'int', default: '500', min: 1, doc: 'The number of queued requests allowed before blocking the network threads. Gregor: per connection, requests read and waiting behind the one in progress; at this many the connection is not read further.' },
  { name: 'queued.max.request.bytes', type: 'long', default: '268435456', doc: 'The number of queued bytes allowed before no more requests are read. Gregor: broker-wide, bytes of requests read and not yet handled, counted as they arrive (a request holds what it has sent, not what its size prefix announces); a connection whose read finds them all taken is not read until some are freed, while the others go on; -1 means no limit (Kafka\'s default; Gregor\'s is 256 MiB).' },
  { name: 'gregor.request.read.timeout.ms', type: 'long', default: '60000', min: 0, doc: 'Gregor: the longest a request may take to arrive whole once its first bytes have (time the broker itself holds the connection unread does not count); slower connections are closed (slowloris). 0 means no limit.' },
  { name: 'gregor.decompression.max.memory.bytes', type: 'long', default: '268435456', doc: 'Gregor: broker-wide, bytes that compressed records may inflate to while produced ones are validated (each validation takes 4 MiB, or gregor.max.decompressed.bytes for a batch that inflates past that) or stored ones are down-converted for Fetch v0-3 (twice that); work beyond it waits, except that a down-converting fetch that already has a batch answers with what it has. -1 means no limit.' },
  { name: 'gregor.fetch.response.max.memory.bytes', type: 'long', default: '268435456', doc: 'Gregor: broker-wide, bytes of fetch responses held in memory until written to sockets: batch-cache slices, and message sets down-converted for Fetch v0-3 (record data still in segment files is streamed and not counted). A v4+ fetch uses cache slices only while their bytes are free and reads the rest from the files, so it never waits; v0-3 fetches beyond it wait, or return less than they asked for. -1 means no limit.' },
  { name: 'gregor.fetch.stream.window.bytes', type: 'int', default: '262144', min: 1024, doc: 'Gregor: per connection, the most bytes of fetch record data read from segment files and not yet taken by the kernel; a response is streamed from the files as its socket drains, so a client that does not read its responses holds this much of the broker\'s memory, whatever it asked for.' },
  { name: 'gregor.max.decompressed.bytes', type: 'int', default: '67108864', min: 1024, doc: 'Gregor: the largest decompressed records area of one produced batch or legacy wrapper; larger ones are rejected (MESSAGE_TOO_LARGE) before they are materialised.' },
  { name: 'fetch.max.bytes', type: 'int', default: '57671680', min: 1024, doc: 'The maximum number of bytes returned for a fetch request.' },
  { name: 'max.incremental.fetch.session.cache.slots', type: 'int', default: '1000', min: 0, doc: 'The maximum number of incremental fetch sessions.' },
  { name: 'group.initial.rebalance.delay.ms', type: 'int', default: '3000', min: 0, doc: 'The time the group coordinator waits for more consumers to join a new group before the first rebalance.' },
  { name: 'group.min.session.timeout.ms', type: 'int', default: '6000', doc: 'The minimum allowed session timeout for registered consumers.' },
  { name: 'group.max.session.timeout.ms', type: 'int', default: '1800000', doc: 'The maximum allowed session timeout for registered consumers.' },
  { name: 'group.consumer.heartbeat.interval.ms', type: 'int', default: '5000', min: 1, doc: 'The heartbeat interval given to the members of a consumer group that uses the consumer protocol.' },
  { name: 'group.consumer.session.timeout.ms', type: 'int', default: '45000', min: 1, doc: 'The timeout to detect client failures when using the consumer group protocol.' },
  { name: 'group.share.heartbeat.interval.ms', type: 'int', default: '5000', min: 1, doc: 'The heartbeat interval given to the members of a share group.' },
  { name: 'group.share.session.timeout.ms', type: 'int', default: '45000', min: 1, doc: 'The timeout to detect client failures when using the share group protocol.' },
  { name: 'group.share.min.session.timeout.ms', type: 'int', default: '45000', min: 1, doc: 'The minimum allowed session timeout for share group members: the lower bound of a group\'s share.session.timeout.ms.' },
  { name: 'group.share.max.session.timeout.ms', type: 'int', default: '60000', min: 1, doc: 'The maximum allowed session timeout for share group members: the upper bound of a group\'s share.session.timeout.ms.' },
  { name: 'group.share.min.heartbeat.interval.ms', type: 'int', default: '5000', min: 1, doc: 'The minimum heartbeat interval for share group members: the lower bound of a group\'s share.heartbeat.interval.ms.' },
  { name: 'group.share.max.heartbeat.interval.ms', type: 'int', default: '15000', min: 1, doc: 'The maximum heartbeat interval for share group members: the upper bound of a group\'s share.heartbeat.interval.ms.' },
  { name: 'group.share.max.size', type: 'int', default: '200', min: 1, max: 1000, doc: 'The maximum number of members that a single share group can accommodate.' },
  { name: 'group.consumer.min.session.timeout.ms', type: 'int', default: '45000', min: 1, doc: 'The minimum allowed session timeout for registered consumers (consumer protocol): the lower bound of group.consumer.session.timeout.ms and of a group\'s consumer.session.timeout.ms.' },
  { name: 'group.consumer.max.session.timeout.ms', type: 'int', default: '60000', min: 1, doc: 'The maximum allowed session timeout for registered consumers (consumer protocol): the upper bound of group.consumer.session.timeout.ms and of a group\'s consumer.session.timeout.ms.' },
  { name: 'group.consumer.min.heartbeat.interval.ms', type: 'int', default: '5000', min: 1, doc: 'The minimum heartbeat interval for registered consumers (consumer protocol): the lower bound of group.consumer.heartbeat.interval.ms and of a group\'s consumer.heartbeat.interval.ms.' },
  { name: 'group.consumer.max.heartbeat.interval.ms', type: 'int', default: '15000', min: 1, doc: 'The maximum heartbeat interval for registered consumers (consumer protocol): the upper bound of group.consumer.heartbeat.interval.ms and of a group\'s consumer.heartbeat.interval.ms.' },
  { name: 'group.consumer.max.size', type: 'int', default: '2147483647', min: 1, doc: 'The maximum number of consumers that a single consumer group (consumer protocol) can accommodate; a member joining beyond it gets GROUP_MAX_SIZE_REACHED.' },
  { name: 'group.consumer.migration.policy', type: 'string', default: 'bidirectional', choices: ['disabled', 'upgrade', 'downgrade', 'bidirectional'], doc: 'Which online conversions between a classic group and a consumer group are allowed: upgrade (a consumer-protocol member joins a classic group with members, which becomes a consumer group of classic members), downgrade (a consumer group left with classic members only becomes a classic group again), both (bidirectional) or neither (disabled). Kafka\'s internal config, with Kafka 4.0\'s default.' },
  { name: 'group.max.size', type: 'int', default: '2147483647', min: 1, doc: 'The maximum number of consumers that a single consumer group can accommodate.' },
  { name: 'offsets.topic.num.partitions', type: 'int', default: '50', min: 1, doc: 'The number of partitions for the offset commit topic.' },
  { name: 'offsets.topic.replication.factor', type: 'int', default: '1', min: 1, doc: 'The replication factor for the offsets topic.' },
  { name: 'offsets.topic.segment.bytes', type: 'int', default: '104857600', min: 1, doc: 'The offsets topic segment bytes.' },
  { name: 'offset.metadata.max.bytes', type: 'int', default: '4096', doc: 'The maximum size for a metadata entry associated with an offset commit.' },
  { name: 'offsets.retention.minutes', type: 'int', default: '10080', min: 1, doc: 'Committed offsets of a group that has been empty this long are discarded.' },
  { name: 'offsets.retention.check.interval.ms', type: 'long', default: '600000', min: 1, doc: 'Frequency at which to check for stale offsets.' },
  { name: 'producer.id.expiration.ms', type: 'int', default: '86400000', min: 1, doc: 'The time in ms that a topic partition leader will wait before expiring producer IDs.' },
  { name: 'producer.id.expiration.check.interval.ms', type: 'int', default: '600000', min: 1, doc: 'The interval at which to remove producer IDs that have expired due to producer.id.expiration.ms passing.' },
  { name: 'transaction.max.timeout.ms', type: 'int', default: '900000', min: 1, doc: 'The maximum allowed timeout for transactions. InitProducerId answers INVALID_TRANSACTION_TIMEOUT to a larger transaction.timeout.ms.' },
  { name: 'transactional.id.expiration.ms', type: 'int', default: '604800000', min: 1, doc: 'The time in ms that the transaction coordinator will wait without receiving any transaction status updates before expiring its transactional id.' },
  { name: 'transaction.state.log.num.partitions', type: 'int', default: '50', min: 1, doc: 'The number of partitions for the transaction topic (should not change after deployment).' },
  { name: 'transaction.state.log.segment.bytes', type: 'int', default: '104857600', min: 1, doc: 'The transaction topic segment bytes should be kept relatively small in order to facilitate faster log compaction and cache loads.' },
  { name: 'group.share.record.lock.duration.ms', type: 'int', default: '30000', min: 1000, max: 3600000, doc: 'The record acquisition lock duration in milliseconds for share groups; between group.share.min.record.lock.duration.ms and group.share.max.record.lock.duration.ms.' },
  { name: 'group.share.min.record.lock.duration.ms', type: 'int', default: '15000', min: 1000, max: 30000, doc: 'The record acquisition lock minimum duration in milliseconds for share groups.' },
  { name: 'group.share.max.record.lock.duration.ms', type: 'int', default: '60000', min: 30000, max: 3600000, doc: 'The record acquisition lock maximum duration in milliseconds for share groups.' },
  { name: 'group.share.delivery.count.limit', type: 'int', default: '5', min: 2, max: 10, doc: 'The maximum number of delivery attempts for a record delivered to a share group.' },
  { name: 'group.share.partition.max.record.locks', type: 'int', default: '2000', min: 100, max: 10000, doc: 'Share-group record lock limit per share-partition.' },
  { name: 'group.share.max.share.sessions', type: 'int', default: '2000', min: 1, doc: 'The maximum number of share sessions per broker.' },
  { name: 'share.coordinator.state.topic.num.partitions', type: 'int', default: '50', min: 1, doc: 'The number of partitions for the share-group state topic (should not change after deployment).' },
  { name: 'share.coordinator.state.topic.segment.bytes', type: 'int', default: '104857600', min: 1, doc: 'The log segment size for the share-group state topic.' },
  { name: 'share.coordinator.snapshot.update.records.per.snapshot', type: 'int', default: '500', min: 0, max: 500, doc: 'The number of update records the share coordinator writes between snapshot records.' },
  { name: 'share.coordinator.state.topic.prune.interval.ms', type: 'long', default: '300000', min: 1, doc: 'The duration in milliseconds that the share coordinator will wait between pruning eligible records in the share-group state topic.' },
  { name: 'transaction.abort.timed.out.transaction.cleanup.interval.ms', type: 'int', default: '10000', min: 1, doc: 'The interval at which to rollback transactions that have timed out.' },
  { name: 'transaction.remove.expired.transaction.cleanup.interval.ms', type: 'int', default: '3600000', min: 1, doc: 'The interval at which to remove transactions that have expired due to transactional.id.expiration.ms passing.' },
  { name: 'sasl.enabled.mechanisms', type: 'list', default: 'GSSAPI', doc: 'The SASL mechanisms a SASL_PLAINTEXT or SASL_SSL listener offers (listener.name.<listener>.sasl.enabled.mechanisms for one listener): PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER. Kafka\'s default, GSSAPI (Kerberos), is not supported: a SASL listener must set this.' },
  { name: 'connections.max.reauth.ms', type: 'long', default: '0', doc: 'When positive, the session lifetime given to SASL clients (SaslAuthenticate v1+): a connection not re-authenticated within it is closed at its next request other than a re-authentication (KIP-368). May be prefixed with the listener and the mechanism in lower case (listener.name.sasl_ssl.oauthbearer.connections.max.reauth.ms).' },
  { name: 'connection.failed.authentication.delay.ms', type: 'int', default: '100', min: 0, doc: 'Delay before the answer to a failed authentication and the close of its connection.' },
  { name: 'sasl.server.max.receive.size', type: 'int', default: '524288', doc: 'The largest request accepted before and during SASL authentication; a larger one closes the connection.' },
  { name: 'sasl.server.callback.handler.class', type: 'class', default: null, doc: 'The server callback handler of a SASL mechanism, prefixed with the listener and the mechanism in lower case. Gregor knows org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler (OAUTHBEARER: signed JWTs checked against sasl.oauthbearer.jwks.endpoint.url) and the mechanisms\' defaults.' },
  { name: 'sasl.oauthbearer.jwks.endpoint.url', type: 'string', default: null, doc: 'The JWKS (JSON Web Key Set) whose keys verify OAUTHBEARER tokens, as a file: URL (read at start; Gregor fetches no JWKS over HTTP).' },
  { name: 'sasl.oauthbearer.expected.audience', type: 'list', default: null, doc: 'When set, an OAUTHBEARER token\'s aud claim must hold one of these.' },
  { name: 'sasl.oauthbearer.expected.issuer', type: 'string', default: null, doc: 'When set, an OAUTHBEARER token\'s iss claim must be this.' },
  { name: 'sasl.oauthbearer.sub.claim.name', type: 'string', default: 'sub', doc: 'The claim of an OAUTHBEARER token that names its principal.' },
  { name: 'sasl.oauthbearer.scope.claim.name', type: 'string', default: 'scope', doc: 'The claim of an OAUTHBEARER token that holds its scope.' },
  { name: 'sasl.oauthbearer.clock.skew.seconds', type: 'int', default: '30', doc: 'Seconds of clock difference allowed when checking an OAUTHBEARER token\'s exp and nbf.' },
  { name: 'gregor.transaction.version', type: 'int', default: '2', min: 0, max: 2, doc: 'Gregor: the finalized transaction.version feature ApiVersions reports (Kafka finalizes it with kafka-features or at format; a new Kafka 4 cluster at 2). 2 is KIP-890 part 2: clients that see it bump the producer epoch at every transaction end (EndTxn v5) and add partitions with Produce v12+ and TxnOffsetCommit v5+; 0 or 1 keeps clients on the transactions of Kafka 3.9 (below 2, those request versions are served as the versions before them). Static.' },
  { name: 'ssl.keystore.type', type: 'string', default: 'JKS', doc: 'The file format of the key store of a TLS listener (SSL, SASL_SSL). Gregor reads PEM: set PEM (Kafka\'s default JKS, and PKCS12, are refused at start).' },
  { name: 'ssl.keystore.location', type: 'string', default: null, doc: 'A PEM file holding the private key and the certificate chain of a TLS listener.' },
  { name: 'ssl.keystore.password', type: 'password', default: null, doc: 'The key store password: not used with PEM (set ssl.key.password for an encrypted key).' },
  { name: 'ssl.key.password', type: 'password', default: null, doc: 'The password of the encrypted private key (ssl.keystore.location or ssl.keystore.key).' },
  { name: 'ssl.keystore.key', type: 'password', default: null, doc: 'The private key in PEM (PKCS#8, encrypted with ssl.key.password when it is), with ssl.keystore.certificate.chain; instead of ssl.keystore.location.' },
  { name: 'ssl.keystore.certificate.chain', type: 'password', default: null, doc: 'The certificate chain in PEM (the certificate, then its issuers), with ssl.keystore.key.' },
  { name: 'ssl.truststore.type', type: 'string', default: 'JKS', doc: 'The file format of the trust store (the CAs client certificates must chain to). Gregor reads PEM: set PEM.' },
  { name: 'ssl.truststore.location', type: 'string', default: null, doc: 'A PEM file of trusted CA certificates. Neither it nor ssl.truststore.certificates: the CAs Node trusts.' },
  { name: 'ssl.truststore.password', type: 'password', default: null, doc: 'The trust store password: not used with PEM.' },
  { name: 'ssl.truststore.certificates', type: 'password', default: null, doc: 'Trusted CA certificates in PEM, instead of ssl.truststore.location.' },
  { name: 'ssl.client.auth', type: 'string', default: 'none', choices: ['required', 'requested', 'none'], doc: 'Client authentication on TLS listeners: required (a trusted client certificate or no connection), requested (a certificate is asked for; one sent must be trusted), none. On a SASL_SSL listener only its listener-prefixed value applies, as in Kafka. The principal of an SSL connection is User:<the certificate\'s subject, mapped by ssl.principal.mapping.rules>, User:ANONYMOUS without one.' },
  { name: 'ssl.enabled.protocols', type: 'list', default: 'TLSv1.2,TLSv1.3', check: tlsProtocolsProblem, doc: 'The TLS versions served: TLSv1.2 and TLSv1.3 (older ones are never served).' },
  { name: 'ssl.protocol', type: 'string', default: 'TLSv1.3', choices: ['TLSv1.3', 'TLSv1.2', 'TLS'], doc: 'The highest TLS version of the context (as Java\'s SSLContext protocol): TLSv1.2 leaves TLSv1.3 out of ssl.enabled.protocols.' },
  { name: 'ssl.cipher.suites', type: 'list', default: '', doc: 'The cipher suites served, by their IANA names (as in Kafka) or OpenSSL\'s; empty: Node\'s defaults.' },
  { name: 'ssl.principal.mapping.rules', type: 'string', default: 'DEFAULT', check: principalMappingRulesProblem, doc: 'Rules mapping a client certificate\'s distinguished name (RFC 2253) to its principal name, as Kafka\'s: RULE:pattern/replacement/[LU], DEFAULT (the name itself), tried in order.' },
  { name: 'ssl.allow.dn.changes', type: 'boolean', default: 'false', doc: 'Whether a key store set at runtime may have another certificate subject than the one it replaces.' },
  { name: 'ssl.allow.san.changes', type: 'boolean', default: 'false', doc: 'Whether a key store set at runtime may drop subject alternative names of the certificate it replaces.' },
  {
    name: 'authorizer.class.name',
    type: 'string',
    default: '',
    doc: 'Any non-empty value (Kafka\'s org.apache.kafka.metadata.authorizer.StandardAuthorizer, or any other name) turns on Gregor\'s standard authorizer, which has Kafka\'s StandardAuthorizer\'s rules and keeps its ACLs with the topic metadata; empty: no authorizer, every operation is allowed and the ACL APIs answer SECURITY_DISABLED.',
  },
  {
    name: 'super.users',
    type: 'string',
    default: null,
    hidden: true,
    check: superUsersProblem,
    doc: 'The authorizer\'s super users, separated by semicolons ("User:admin;User:broker"): they may do anything, whatever the ACLs say.',
  },
  {
    name: 'allow.everyone.if.no.acl.found',
    type: 'boolean',
    default: 'false',
    hidden: true,
    doc: 'The authorizer\'s answer for a resource no ACL applies to: true allows everyone, false (the default) allows super users only.',
  },
  { name: 'gregor.flush.acks.all', type: 'boolean', default: 'true', doc: 'Gregor: complete acks=all produce requests only after their data is fdatasync\'ed (group commit).' },
  { name: 'gregor.log.level', type: 'string', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], doc: 'Gregor: log level.' },
  { name: 'gregor.metrics.enabled', type: 'boolean', default: 'true', doc: 'Gregor: serve Prometheus metrics over HTTP.' },
  { name: 'gregor.metrics.host', type: 'string', default: '0.0.0.0', doc: 'Gregor: interface the metrics HTTP server binds.' },
  { name: 'gregor.metrics.port', type: 'int', default: '9464', min: 0, max: 65535, doc: 'Gregor: port of the metrics HTTP server (/metrics, /healthz, /ready).' },
  { name: 'gregor.metrics.max.partitions', type: 'int', default: '1000', min: 0, doc: 'Gregor: most series of each per-partition or per-group metric (log offsets and sizes, group state and lag); the rest are counted in gregor_metrics_series_omitted.' },
  { name: 'gregor.metrics.max.client.software', type: 'int', default: '100', min: 1, doc: 'Gregor: most distinct client software name/version pairs in gregor_client_connections; further ones are counted as "other".' },
  { name: 'gregor.max.partitions.per.topic', type: 'int', default: '10000', min: 1, mode: 'cluster-wide', doc: 'Gregor: the most partitions one topic may have (CreateTopics answers INVALID_PARTITIONS above it).' },
  { name: 'gregor.max.broker.partitions', type: 'int', default: '100000', min: 1, mode: 'cluster-wide', doc: 'Gregor (KIP-578\'s max.broker.partitions, which Kafka never shipped): the most partitions this broker holds, internal topics included; CreateTopics, CreatePartitions and auto-creation answer POLICY_VIOLATION for a topic that would go past it.' },
  { name: 'gregor.cache.bytes', type: 'long', default: '67108864', min: 0, doc: 'Gregor: bytes of recently appended batches kept in memory for tailing consumers.' },
  { name: 'gregor.max.open.files', type: 'int', default: '1024', min: 8, doc: 'Gregor: maximum number of segment file handles kept open.' },
];

/** super.users: each principal (separated by ";") "Type:name", in Kafka's words when not. */
function superUsersProblem(value: string): string | undefined {
  const bad = value
    .split(';')
    .map((u) => u.trim())
    .find((u) => u !== '' && parsePrincipal(u) === undefined);
  return bad === undefined ? undefined : principalProblem(bad);
}

const KAFKA_BY_NAME = new Map(KAFKA_BROKER_CONFIGS.map((k) => [k.name, k] as const));
const GREGOR_NAMES = new Set(GREGOR_CONFIGS.flatMap((d) => [d.name, ...(d.aliases ?? [])]));

/** Every broker config: Gregor's, then Kafka's others (alphabetically). */
export const BROKER_CONFIGS: readonly ConfigDef[] = [
  ...GREGOR_CONFIGS.map((def): ConfigDef => {
    const kafka = KAFKA_BY_NAME.get(def.name);
    if (kafka === undefined) return def;
    return { ...def, importance: kafka.importance, ...(kafka.mode === undefined ? {} : { mode: kafka.mode }) };
  }),
  ...KAFKA_BROKER_CONFIGS.filter((k) => !GREGOR_NAMES.has(k.name)).map(
    ({ valid, ...k }): ConfigDef => ({ ...k, noEffect: true, ...(valid === undefined ? {} : { check: KAFKA_VALIDATORS[valid] }) }),
  ),
];

export const BROKER_CONFIG_BY_NAME: ReadonlyMap<string, ConfigDef> = new Map(
  BROKER_CONFIGS.flatMap((d) => [[d.name, d] as const, ...(d.aliases ?? []).map((a) => [a, d] as const)]),
);
