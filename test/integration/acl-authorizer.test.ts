/**
 * The authorizer on a real broker (authorizer.class.name set), driven over the wire by our codec client as
 * User:ANONYMOUS from 127.0.0.1 (a PLAINTEXT connection's principal): for each API Gregor serves, the
 * request without the ACL Kafka checks is refused with Kafka's error where Kafka checks it, and the same
 * request succeeds (or gets the answer it gets without an authorizer) once the ACL is there. Then the
 * rules on the wire: PREFIXED ACLs, a DENY over an ALLOW, hosts, super.users, allow.everyone.if.no.acl.found,
 * authorized operations, ACLs kept across a restart, the ACL APIs' own checks, and the metrics.
 *
 * The ACLs are set through the broker's authorizer in the same process (the store and the decisions the
 * wire uses), so that each case starts from no ACL at all; the ACL APIs are tested on the wire below.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, ZERO_UUID } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import type { AclBinding, AclBindingFilter } from '../../src/security/acl/acl-binding.js';
import type { AclOperationName, PatternTypeName, ResourceTypeName } from '../../src/security/acl/acl-types.js';
import { batchOf, produceRaw, testRecords } from '../helpers/produce-records.js';
import { fetchRequestBody } from '../helpers/fetch-records.js';
import { RawClient } from '../helpers/raw-client.js';

const AUTHORIZER = { 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer' };
const ANONYMOUS = 'User:ANONYMOUS';
const ANY: AclBindingFilter = { resourceType: 'ANY', resourceName: null, patternType: 'ANY', principal: null, host: null, operation: 'ANY', permissionType: 'ANY' };
const TOPIC = 'orders';
const GROUP = 'app';
const TXN = 'txn-1';
/** DescribeConfigs / AlterConfigs resource types. */
const CONFIG_TOPIC = 2;
const CONFIG_BROKER = 4;
const CONFIG_GROUP = 32;

function acl(resourceType: ResourceTypeName, resourceName: string, operation: AclOperationName, over: Partial<AclBinding> = {}): AclBinding {
  return { resourceType, resourceName, patternType: 'LITERAL' as PatternTypeName, principal: ANONYMOUS, host: '*', operation, permissionType: 'ALLOW', ...over };
}
const cluster = (operation: AclOperationName) => acl('CLUSTER', 'kafka-cluster', operation);

describe('the authorizer, API by API (User:ANONYMOUS, no ACL → refused, the ACL → allowed)', () => {
  let dataDir: string;
  let broker: RunningBroker;
  let c: RawClient;
  let topicId: string;

  const authorizer = () => broker.broker.authorizer!;
  const grant = (...acls: AclBinding[]) => authorizer().createAcls(acls);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-acl-'));
    broker = await startBroker({ dataDir, config: { ...AUTHORIZER, 'auto.create.topics.enable': true, 'share.coordinator.state.topic.num.partitions': 1, 'offsets.topic.num.partitions': 1, 'transaction.state.log.num.partitions': 1 } });
    topicId = (await broker.broker.topics.create({ name: TOPIC, numPartitions: 1, replicationFactor: 1, configs: {} })).topicId;
    c = await RawClient.connect(broker.port);
  });

  afterAll(async () => {
    c?.close();
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await authorizer().deleteAcls([ANY]);
  });

  it('Produce: WRITE on the topic (TOPIC_AUTHORIZATION_FAILED before the topic is looked for), WRITE on the transactional id', async () => {
    const batch = await batchOf(testRecords(2));
    expect((await produceRaw(c, TOPIC, 0, Buffer.from(batch))).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect((await produceRaw(c, 'no-such-topic', 0, Buffer.from(batch))).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(acl('TOPIC', TOPIC, 'WRITE'));
    expect((await produceRaw(c, TOPIC, 0, Buffer.from(batch))).errorCode).toBe(ErrorCode.NONE);
    expect((await produceRaw(c, 'no-such-topic', 0, Buffer.from(batch))).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    // transactional records need WRITE on the transactional id first
    const txnBatch = await batchOf(testRecords(1), { producerId: 1, producerEpoch: 0, baseSequence: 0, transactional: true });
    expect((await produceRaw(c, TOPIC, 0, txnBatch, { transactionalId: TXN })).errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    await grant(acl('TRANSACTIONAL_ID', TXN, 'WRITE'));
    expect((await produceRaw(c, TOPIC, 0, txnBatch, { transactionalId: TXN })).errorCode).not.toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  });

  it('Fetch: READ on the topic for a consumer, CLUSTER_ACTION for a follower; unknown topic ids stay UNKNOWN_TOPIC_ID', async () => {
    const fetch = (body = fetchRequestBody(TOPIC, [{ partition: 0, fetchOffset: 0 }], 1 << 20)) => c.request(schemas.fetchRequest, schemas.fetchResponse, 12, body);
    expect((await fetch()).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(acl('TOPIC', TOPIC, 'READ'));
    expect((await fetch()).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    const follower = { ...fetchRequestBody(TOPIC, [{ partition: 0, fetchOffset: 0 }], 1 << 20), replicaId: 7 };
    expect((await fetch(follower)).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(cluster('CLUSTER_ACTION'));
    expect((await fetch(follower)).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    const byId = await c.request(schemas.fetchRequest, schemas.fetchResponse, 13, fetchRequestBody('', [{ partition: 0, fetchOffset: 0 }], 1 << 20, 'AAAAAAAAAAAAAAAAAAAAAQ'));
    expect(byId.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
  });

  it('ListOffsets and OffsetForLeaderEpoch: DESCRIBE on the topic (READ implies it; CLUSTER_ACTION allows OffsetForLeaderEpoch too)', async () => {
    const listOffsets = () =>
      c.request(schemas.listOffsetsRequest, schemas.listOffsetsResponse, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }] });
    const epochs = () =>
      c.request(schemas.offsetForLeaderEpochRequest, schemas.offsetForLeaderEpochResponse, 4, { replicaId: -1, topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }] });
    expect((await listOffsets()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect((await epochs()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(cluster('CLUSTER_ACTION'));
    expect((await epochs()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    await grant(acl('TOPIC', TOPIC, 'READ'));
    expect((await listOffsets()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
  });

  it('Metadata: topics not describable are hidden from "all topics" and refused by name or id; auto-creation needs CREATE', async () => {
    const metadata = (topics: Array<{ name: string | null; topicId?: string }> | null, allowAutoTopicCreation = false) =>
      c.request(schemas.metadataRequest, schemas.metadataResponse, 12, {
        topics: topics === null ? null : topics.map((t) => ({ name: t.name, topicId: t.topicId ?? ZERO_UUID })),
        allowAutoTopicCreation,
        includeTopicAuthorizedOperations: true,
      });
    expect((await metadata(null)).topics).toEqual([]);
    const byName = (await metadata([{ name: TOPIC }])).topics[0]!;
    expect(byName).toMatchObject({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name: TOPIC, topicId: ZERO_UUID, partitions: [], topicAuthorizedOperations: -2147483648 });
    expect((await metadata([{ name: null, topicId }])).topics[0]).toMatchObject({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name: null, topicId });
    // an unknown name is refused the same way: nothing says whether it exists
    expect((await metadata([{ name: 'secret-topic' }])).topics[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(acl('TOPIC', TOPIC, 'DESCRIBE'));
    const all = (await metadata(null)).topics;
    expect(all.map((t) => [t.name, t.errorCode, t.topicAuthorizedOperations])).toEqual([[TOPIC, ErrorCode.NONE, 1 << 8]]);
    // auto-creation: DESCRIBE is not enough, CREATE on the topic (or the cluster) is
    await grant(acl('TOPIC', 'auto-', 'DESCRIBE', { patternType: 'PREFIXED' }));
    expect((await metadata([{ name: 'auto-1' }], true)).topics[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(broker.broker.topics.get('auto-1')).toBeUndefined();
    await grant(acl('TOPIC', 'auto-1', 'CREATE'));
    expect((await metadata([{ name: 'auto-1' }], true)).topics[0]!.errorCode).toBe(ErrorCode.NONE);
    await grant(cluster('CREATE'));
    expect((await metadata([{ name: 'auto-2' }], true)).topics[0]!.errorCode).toBe(ErrorCode.NONE);
  });

  it('OffsetCommit and OffsetFetch: READ (commit) or DESCRIBE (fetch) on the group, then on each topic', async () => {
    const commit = () =>
      c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 8, {
        groupId: GROUP,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
    const fetch = (topics: Array<{ name: string; partitionIndexes: number[] }> | null) =>
      c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 8, { groups: [{ groupId: GROUP, topics }], requireStable: false });
    expect((await commit()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await fetch(null)).groups[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    await grant(acl('GROUP', GROUP, 'READ'));
    expect((await commit()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(acl('TOPIC', TOPIC, 'READ'));
    expect((await commit()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    // READ on the group implies DESCRIBE; without DESCRIBE on a topic its offsets are not shown
    await authorizer().deleteAcls([{ ...ANY, resourceType: 'TOPIC' }]);
    expect((await fetch(null)).groups[0]).toMatchObject({ errorCode: ErrorCode.NONE, topics: [] });
    expect((await fetch([{ name: TOPIC, partitionIndexes: [0] }])).groups[0]!.topics[0]!.partitions[0]).toMatchObject({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, committedOffset: -1n });
    await grant(acl('TOPIC', TOPIC, 'DESCRIBE'));
    expect((await fetch(null)).groups[0]!.topics[0]!.partitions[0]).toMatchObject({ errorCode: ErrorCode.NONE, committedOffset: 1n });
  });

  it('FindCoordinator: DESCRIBE on the group, or on the transactional id', async () => {
    const find = (keyType: number, key: string) => c.request(schemas.findCoordinatorRequest, schemas.findCoordinatorResponse, 4, { keyType, coordinatorKeys: [key] });
    expect((await find(0, GROUP)).coordinators[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await find(1, TXN)).coordinators[0]!.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    await grant(acl('GROUP', GROUP, 'DESCRIBE'), acl('TRANSACTIONAL_ID', TXN, 'DESCRIBE'));
    expect((await find(0, GROUP)).coordinators[0]!.errorCode).toBe(ErrorCode.NONE);
    expect((await find(1, TXN)).coordinators[0]!.errorCode).toBe(ErrorCode.NONE);
  });

  it('JoinGroup, SyncGroup, Heartbeat, LeaveGroup: READ on the group', async () => {
    const join = () =>
      c.request(schemas.joinGroupRequest, schemas.joinGroupResponse, 5, {
        groupId: GROUP, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', groupInstanceId: null, protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
      });
    const sync = () => c.request(schemas.syncGroupRequest, schemas.syncGroupResponse, 3, { groupId: GROUP, generationId: 1, memberId: 'm', groupInstanceId: null, assignments: [] });
    const heartbeat = () => c.request(schemas.heartbeatRequest, schemas.heartbeatResponse, 3, { groupId: GROUP, generationId: 1, memberId: 'm', groupInstanceId: null });
    const leave = () => c.request(schemas.leaveGroupRequest, schemas.leaveGroupResponse, 3, { groupId: GROUP, members: [{ memberId: 'm', groupInstanceId: null }] });
    expect((await join()).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await sync()).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await heartbeat()).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await leave()).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    await grant(acl('GROUP', GROUP, 'READ'));
    expect((await join()).errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect((await sync()).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await heartbeat()).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await leave()).errorCode).toBe(ErrorCode.NONE);
  });

  it('DescribeGroups, ListGroups, DeleteGroups, OffsetDelete: DESCRIBE, DESCRIBE (or the cluster\'s), DELETE on the group', async () => {
    await grant(acl('GROUP', 'listed', 'READ'), acl('TOPIC', TOPIC, 'READ'));
    for (const groupId of ['listed', 'hidden']) {
      await grant(acl('GROUP', groupId, 'READ'));
      await c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 2, {
        groupId, generationIdOrMemberEpoch: -1, memberId: '', retentionTimeMs: -1n,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: '' }] }],
      });
    }
    await authorizer().deleteAcls([ANY]);
    const describe = () => c.request(schemas.describeGroupsRequest, schemas.describeGroupsResponse, 5, { groups: ['listed'], includeAuthorizedOperations: true });
    const list = async () => (await c.request(schemas.listGroupsRequest, schemas.listGroupsResponse, 4, { statesFilter: [] })).groups.map((g) => g.groupId).sort();
    const offsetDelete = () => c.request(schemas.offsetDeleteRequest, schemas.offsetDeleteResponse, 0, { groupId: 'listed', topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0 }] }] });
    expect((await describe()).groups[0]).toMatchObject({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, authorizedOperations: -2147483648 });
    expect(await list()).toEqual([]);
    expect((await offsetDelete()).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    await grant(acl('GROUP', 'listed', 'DESCRIBE'));
    // only DESCRIBE: the authorized operations say so
    expect((await describe()).groups[0]).toMatchObject({ errorCode: ErrorCode.NONE, groupState: 'Empty', authorizedOperations: 1 << 8 });
    expect(await list()).toEqual(['listed']);
    await grant(cluster('DESCRIBE'));
    expect(await list()).toEqual(expect.arrayContaining(['hidden', 'listed']));
    await grant(acl('GROUP', 'listed', 'DELETE'));
    expect((await offsetDelete()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(acl('TOPIC', TOPIC, 'READ'));
    expect((await offsetDelete()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    const deleted = await c.request(schemas.deleteGroupsRequest, schemas.deleteGroupsResponse, 2, { groupsNames: ['listed', 'hidden'] });
    // listed: past the check (its offsets are gone, so it may be gone too); hidden: refused
    expect(deleted.results.map((r) => r.groupId)).toEqual(['listed', 'hidden']);
    expect([ErrorCode.NONE, ErrorCode.GROUP_ID_NOT_FOUND]).toContain(deleted.results[0]!.errorCode);
    expect(deleted.results[1]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
  });

  it('CreateTopics, CreatePartitions, DeleteRecords, DeleteTopics: CREATE (topic or cluster), ALTER, DELETE, DELETE (DESCRIBE first)', async () => {
    const create = (name: string) =>
      c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, { topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
    expect((await create('made')).topics[0]).toMatchObject({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' });
    await grant(acl('TOPIC', 'made', 'CREATE'));
    // created, but without DESCRIBE_CONFIGS its configs are not answered
    expect((await create('made')).topics[0]).toMatchObject({ errorCode: ErrorCode.NONE, topicConfigErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, numPartitions: -1, configs: [] });
    await grant(cluster('CREATE'), acl('TOPIC', '*', 'DESCRIBE_CONFIGS'));
    const made2 = (await create('made-2')).topics[0]!;
    expect(made2).toMatchObject({ errorCode: ErrorCode.NONE, topicConfigErrorCode: ErrorCode.NONE, numPartitions: 1 });
    expect(made2.configs!.length).toBeGreaterThan(10);

    const partitions = () => c.request(schemas.createPartitionsRequest, schemas.createPartitionsResponse, 2, { topics: [{ name: 'made', count: 2, assignments: null }], timeoutMs: 10_000, validateOnly: false });
    expect((await partitions()).results[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(acl('TOPIC', 'made', 'ALTER'));
    expect((await partitions()).results[0]!.errorCode).toBe(ErrorCode.NONE);

    const deleteRecords = () => c.request(schemas.deleteRecordsRequest, schemas.deleteRecordsResponse, 2, { topics: [{ name: 'made', partitions: [{ partitionIndex: 0, offset: -1n }] }], timeoutMs: 10_000 });
    expect((await deleteRecords()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(acl('TOPIC', 'made', 'DELETE'));
    expect((await deleteRecords()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);

    const deleteTopics = (names: string[]) => c.request(schemas.deleteTopicsRequest, schemas.deleteTopicsResponse, 5, { topicNames: names, timeoutMs: 10_000 });
    const codes = async (names: string[]) => Object.fromEntries((await deleteTopics(names)).responses.map((r) => [r.name, r.errorCode]));
    // made-2: DESCRIBE_CONFIGS does not imply DESCRIBE; an unknown name is refused before it is looked for
    expect(await codes(['made-2', 'never-there'])).toEqual({ 'made-2': ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'never-there': ErrorCode.TOPIC_AUTHORIZATION_FAILED });
    expect(await codes(['made'])).toEqual({ made: ErrorCode.NONE });
    expect(broker.broker.topics.get('made')).toBeUndefined();
    await grant(acl('CLUSTER', 'kafka-cluster', 'DELETE'));
    expect(await codes(['made-2', 'never-there'])).toEqual({ 'made-2': ErrorCode.NONE, 'never-there': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
  });

  it('DescribeConfigs, AlterConfigs, IncrementalAlterConfigs: DESCRIBE_CONFIGS / ALTER_CONFIGS on the topic, the cluster (broker) or the group', async () => {
    const resources = [
      { resourceType: CONFIG_TOPIC, resourceName: TOPIC },
      { resourceType: CONFIG_BROKER, resourceName: '1' },
      { resourceType: CONFIG_GROUP, resourceName: GROUP },
    ];
    const describe = async () =>
      (await c.request(schemas.describeConfigsRequest, schemas.describeConfigsResponse, 4, {
        resources: resources.map((r) => ({ ...r, configurationKeys: null })),
        includeSynonyms: false,
        includeDocumentation: false,
      })).results.map((r) => [r.errorCode, r.errorMessage]);
    const incremental = async () =>
      (await c.request(schemas.incrementalAlterConfigsRequest, schemas.incrementalAlterConfigsResponse, 1, {
        resources: [
          { ...resources[0]!, configs: [{ name: 'retention.ms', configOperation: 0, value: '3600000' }] },
          { ...resources[1]!, configs: [{ name: 'log.retention.ms', configOperation: 0, value: '86400000' }] },
          { ...resources[2]!, configs: [{ name: 'consumer.session.timeout.ms', configOperation: 0, value: '50000' }] },
        ],
        validateOnly: true,
      })).responses.map((r) => [r.errorCode, r.errorMessage]);
    const legacy = async () =>
      (await c.request(schemas.alterConfigsRequest, schemas.alterConfigsResponse, 1, {
        resources: [{ ...resources[0]!, configs: [{ name: 'retention.ms', value: '3600000' }] }],
        validateOnly: true,
      })).responses.map((r) => r.errorCode);
    expect(await describe()).toEqual([
      [ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.'],
      [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.'],
      [ErrorCode.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.'],
    ]);
    expect(await incremental()).toEqual([
      [ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.'],
      [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.'],
      [ErrorCode.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.'],
    ]);
    expect(await legacy()).toEqual([ErrorCode.TOPIC_AUTHORIZATION_FAILED]);
    await grant(acl('TOPIC', TOPIC, 'DESCRIBE_CONFIGS'), cluster('DESCRIBE_CONFIGS'), acl('GROUP', GROUP, 'DESCRIBE_CONFIGS'));
    expect(await describe()).toEqual([[ErrorCode.NONE, null], [ErrorCode.NONE, null], [ErrorCode.NONE, null]]);
    expect((await incremental()).map(([code]) => code)).toEqual([ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, ErrorCode.GROUP_AUTHORIZATION_FAILED]);
    await grant(acl('TOPIC', TOPIC, 'ALTER_CONFIGS'), cluster('ALTER_CONFIGS'), acl('GROUP', GROUP, 'ALTER_CONFIGS'));
    expect(await incremental()).toEqual([[ErrorCode.NONE, null], [ErrorCode.NONE, null], [ErrorCode.NONE, null]]);
    expect(await legacy()).toEqual([ErrorCode.NONE]);
  });

  it('DescribeLogDirs and DescribeCluster: DESCRIBE on the cluster (DescribeCluster\'s authorized operations: 0 without it)', async () => {
    const logDirs = () => c.request(schemas.describeLogDirsRequest, schemas.describeLogDirsResponse, 4, { topics: null });
    const describeCluster = () => c.request(schemas.describeClusterRequest, schemas.describeClusterResponse, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 });
    expect(await logDirs()).toMatchObject({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] });
    expect(await describeCluster()).toMatchObject({ errorCode: ErrorCode.NONE, clusterAuthorizedOperations: 0 });
    await grant(cluster('DESCRIBE'));
    expect((await logDirs()).results[0]!.topics.map((t) => t.name)).toContain(TOPIC);
    expect((await describeCluster()).clusterAuthorizedOperations).toBe(1 << 8);
    await grant(cluster('ALL'));
    // ALL: every cluster operation (CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE)
    expect((await describeCluster()).clusterAuthorizedOperations).toBe([5, 7, 8, 9, 10, 11, 12].reduce((a, b) => a | (1 << b), 0));
  });

  it('DescribeTopicPartitions and DescribeProducers: DESCRIBE and READ on the topic', async () => {
    const dtp = () => c.request(schemas.describeTopicPartitionsRequest, schemas.describeTopicPartitionsResponse, 0, { topics: [{ name: TOPIC }], responsePartitionLimit: 100, cursor: null });
    const producers = () => c.request(schemas.describeProducersRequest, schemas.describeProducersResponse, 0, { topics: [{ name: TOPIC, partitionIndexes: [0] }] });
    expect((await dtp()).topics[0]).toMatchObject({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name: TOPIC, topicId: ZERO_UUID, partitions: [] });
    expect((await producers()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(acl('TOPIC', TOPIC, 'READ'));
    expect((await dtp()).topics[0]).toMatchObject({ errorCode: ErrorCode.NONE, topicId, topicAuthorizedOperations: (1 << 3) | (1 << 8) });
    expect((await producers()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
  });

  it('InitProducerId: WRITE on the transactional id; an idempotent producer IDEMPOTENT_WRITE on the cluster or WRITE on some topic', async () => {
    const init = (transactionalId: string | null) =>
      c.request(schemas.initProducerIdRequest, schemas.initProducerIdResponse, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    expect((await init(TXN)).errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    expect((await init(null)).errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    await grant(acl('TOPIC', 'some-', 'WRITE', { patternType: 'PREFIXED' }));
    expect((await init(null)).errorCode).toBe(ErrorCode.NONE);
    await authorizer().deleteAcls([ANY]);
    await grant(cluster('IDEMPOTENT_WRITE'), acl('TRANSACTIONAL_ID', TXN, 'WRITE'));
    expect((await init(null)).errorCode).toBe(ErrorCode.NONE);
    expect((await init(TXN)).errorCode).toBe(ErrorCode.NONE);
  });

  it('AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit: WRITE on the transactional id, then the group and topics', async () => {
    const addPartitions = (topics: Array<{ name: string; partitions: number[] }>) =>
      c.request(schemas.addPartitionsToTxnRequest, schemas.addPartitionsToTxnResponse, 3, {
        v3AndBelowTransactionalId: TXN, v3AndBelowProducerId: 99n, v3AndBelowProducerEpoch: 0, v3AndBelowTopics: topics, transactions: [],
      });
    const codesOf = (res: Awaited<ReturnType<typeof addPartitions>>) => res.resultsByTopicV3AndBelow.flatMap((t) => t.resultsByPartition.map((p) => [t.name, p.partitionErrorCode]));
    const addOffsets = () => c.request(schemas.addOffsetsToTxnRequest, schemas.addOffsetsToTxnResponse, 3, { transactionalId: TXN, producerId: 99n, producerEpoch: 0, groupId: GROUP });
    const endTxn = () => c.request(schemas.endTxnRequest, schemas.endTxnResponse, 3, { transactionalId: TXN, producerId: 99n, producerEpoch: 0, committed: true });
    const txnCommit = () =>
      c.request(schemas.txnOffsetCommitRequest, schemas.txnOffsetCommitResponse, 3, {
        transactionalId: TXN, groupId: GROUP, producerId: 99n, producerEpoch: 0, generationId: -1, memberId: '', groupInstanceId: null,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
    expect(codesOf(await addPartitions([{ name: TOPIC, partitions: [0] }]))).toEqual([[TOPIC, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]]);
    expect((await addOffsets()).errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    expect((await endTxn()).errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    expect((await txnCommit()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    await grant(acl('TRANSACTIONAL_ID', TXN, 'WRITE'));
    // a topic without WRITE fails the whole add; internal topics are never allowed here
    expect(codesOf(await addPartitions([{ name: TOPIC, partitions: [0] }, { name: '__consumer_offsets', partitions: [0] }]))).toEqual([
      [TOPIC, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ['__consumer_offsets', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
    expect((await addOffsets()).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await endTxn()).errorCode).not.toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    expect((await txnCommit()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    await grant(acl('GROUP', GROUP, 'READ'));
    expect((await txnCommit()).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(acl('TOPIC', TOPIC, 'WRITE'), acl('TOPIC', TOPIC, 'READ'));
    // past the checks: the coordinator's own answers (this producer id has no transaction)
    expect(codesOf(await addPartitions([{ name: TOPIC, partitions: [0] }]))[0]![1]).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect((await addOffsets()).errorCode).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect((await txnCommit()).topics[0]!.partitions[0]!.errorCode).not.toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    // the brokers' batched form (v4+) needs CLUSTER_ACTION
    const batched = () =>
      c.request(schemas.addPartitionsToTxnRequest, schemas.addPartitionsToTxnResponse, 4, {
        transactions: [{ transactionalId: TXN, producerId: 99n, producerEpoch: 0, verifyOnly: true, topics: [{ name: TOPIC, partitions: [0] }] }],
      });
    expect(await batched()).toMatchObject({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, resultsByTransaction: [] });
    await grant(cluster('CLUSTER_ACTION'));
    expect((await batched()).errorCode).toBe(ErrorCode.NONE);
  });

  it('DescribeTransactions and ListTransactions: DESCRIBE on the transactional id', async () => {
    await grant(acl('TRANSACTIONAL_ID', TXN, 'WRITE'));
    await c.request(schemas.initProducerIdRequest, schemas.initProducerIdResponse, 4, { transactionalId: TXN, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    await authorizer().deleteAcls([ANY]);
    const describe = () => c.request(schemas.describeTransactionsRequest, schemas.describeTransactionsResponse, 0, { transactionalIds: [TXN] });
    const list = () => c.request(schemas.listTransactionsRequest, schemas.listTransactionsResponse, 1, { stateFilters: [], producerIdFilters: [], durationFilter: -1n });
    expect((await describe()).transactionStates[0]!.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    expect((await list()).transactionStates).toEqual([]);
    await grant(acl('TRANSACTIONAL_ID', TXN, 'DESCRIBE'));
    expect((await describe()).transactionStates[0]!.errorCode).toBe(ErrorCode.NONE);
    expect((await list()).transactionStates.map((t) => t.transactionalId)).toEqual([TXN]);
  });

  it('ConsumerGroupHeartbeat and ConsumerGroupDescribe: READ / DESCRIBE on the group, DESCRIBE on the subscribed and assigned topics', async () => {
    const heartbeat = () =>
      c.request(schemas.consumerGroupHeartbeatRequest, schemas.consumerGroupHeartbeatResponse, 0, {
        groupId: 'kip848', memberId: 'member-a-0000000000', memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30_000,
        subscribedTopicNames: [TOPIC], serverAssignor: null, topicPartitions: [],
      });
    const describe = () => c.request(schemas.consumerGroupDescribeRequest, schemas.consumerGroupDescribeResponse, 0, { groupIds: ['kip848'], includeAuthorizedOperations: true });
    expect((await heartbeat()).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await describe()).groups[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    await grant(acl('GROUP', 'kip848', 'READ'));
    expect((await heartbeat()).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(acl('TOPIC', TOPIC, 'DESCRIBE'));
    const joined = await heartbeat();
    expect(joined.errorCode).toBe(ErrorCode.NONE);
    expect(joined.assignment?.topicPartitions.map((tp) => tp.topicId)).toEqual([topicId]);
    // READ on the group implies DESCRIBE; the member's assignment names a describable topic
    expect((await describe()).groups[0]).toMatchObject({ errorCode: ErrorCode.NONE, authorizedOperations: (1 << 3) | (1 << 8) });
    await authorizer().deleteAcls([{ ...ANY, resourceType: 'TOPIC' }]);
    expect((await describe()).groups[0]).toMatchObject({
      errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      errorMessage: 'The group has described topic(s) that the client is not authorized to describe.',
      members: [],
    });
  });

  it('ConsumerGroupHeartbeat with a SubscribedTopicRegex: resolves only to the topics the member may DESCRIBE', async () => {
    const visible = (await broker.broker.topics.create({ name: 'regex-visible', numPartitions: 1, replicationFactor: 1, configs: {} })).topicId;
    await broker.broker.topics.create({ name: 'regex-hidden', numPartitions: 1, replicationFactor: 1, configs: {} });
    await grant(acl('GROUP', 'kip848-regex', 'READ'), acl('TOPIC', 'regex-visible', 'DESCRIBE'));
    const joined = await c.request(schemas.consumerGroupHeartbeatRequest, schemas.consumerGroupHeartbeatResponse, 1, {
      groupId: 'kip848-regex', memberId: 'member-r-0000000000', memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: [], subscribedTopicRegex: 'regex-.*', serverAssignor: null, topicPartitions: [],
    });
    expect(joined.errorCode).toBe(ErrorCode.NONE);
    expect(joined.assignment?.topicPartitions.map((tp) => tp.topicId)).toEqual([visible]);
  });

  it('ShareGroupHeartbeat, ShareGroupDescribe, ShareFetch, ShareAcknowledge, DescribeShareGroupOffsets: the group, then READ or DESCRIBE on the topic', async () => {
    const heartbeat = () =>
      c.request(schemas.shareGroupHeartbeatRequest, schemas.shareGroupHeartbeatResponse, 1, { groupId: 'share', memberId: 'share-member-0000000', memberEpoch: 0, rackId: null, subscribedTopicNames: [TOPIC] });
    const describe = () => c.request(schemas.shareGroupDescribeRequest, schemas.shareGroupDescribeResponse, 1, { groupIds: ['share'], includeAuthorizedOperations: false });
    const shareFetch = (epoch: number) =>
      c.request(schemas.shareFetchRequest, schemas.shareFetchResponse, 2, {
        groupId: 'share', memberId: 'share-member-0000000', shareSessionEpoch: epoch, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, maxRecords: 10, batchSize: 10,
        topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [] }] }], forgottenTopicsData: [],
      });
    const acknowledge = () =>
      c.request(schemas.shareAcknowledgeRequest, schemas.shareAcknowledgeResponse, 2, {
        groupId: 'share', memberId: 'share-member-0000000', shareSessionEpoch: 1,
        topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [{ firstOffset: 0n, lastOffset: 0n, acknowledgeTypes: [1] }] }] }],
      });
    const offsets = (topics: Array<{ topicName: string; partitions: number[] }> | null) =>
      c.request(schemas.describeShareGroupOffsetsRequest, schemas.describeShareGroupOffsetsResponse, 1, { groups: [{ groupId: 'share', topics }] });
    expect((await heartbeat()).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await describe()).groups[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await shareFetch(0)).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await acknowledge()).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await offsets(null)).groups[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    await grant(acl('GROUP', 'share', 'READ'));
    expect((await heartbeat()).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect((await describe()).groups[0]!.errorCode).not.toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const refused = await shareFetch(0);
    expect(refused.errorCode).toBe(ErrorCode.NONE);
    expect(refused.responses[0]!.partitions[0]).toMatchObject({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, acquiredRecords: [] });
    expect((await acknowledge()).responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(acl('TOPIC', TOPIC, 'READ'));
    expect((await heartbeat()).errorCode).toBe(ErrorCode.NONE);
    const fetched = await shareFetch(1);
    expect(fetched.responses.flatMap((t) => t.partitions.map((p) => p.errorCode))).not.toContain(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const partitionOffsets = async () => (await offsets([{ topicName: TOPIC, partitions: [0] }])).groups[0]!.topics[0]!.partitions[0]!;
    expect((await partitionOffsets()).errorCode).not.toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    // the group exists now: a topic it may not describe is refused, and left out of "all topics"
    await broker.broker.authorizer!.deleteAcls([{ ...ANY, resourceType: 'TOPIC' }]);
    expect(await partitionOffsets()).toMatchObject({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.' });
    expect((await offsets(null)).groups[0]).toMatchObject({ errorCode: ErrorCode.NONE, topics: [] });
  });

  it('AlterShareGroupOffsets and DeleteShareGroupOffsets: READ / DELETE on the group, then READ on each topic', async () => {
    const group = 'share-admin';
    const alter = () =>
      c.request(schemas.alterShareGroupOffsetsRequest, schemas.alterShareGroupOffsetsResponse, 0, {
        groupId: group, topics: [{ topicName: TOPIC, partitions: [{ partitionIndex: 0, startOffset: 0n }] }],
      });
    const del = () => c.request(schemas.deleteShareGroupOffsetsRequest, schemas.deleteShareGroupOffsetsResponse, 0, { groupId: group, topics: [{ topicName: TOPIC }] });
    expect(await alter()).toMatchObject({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: 'Group authorization failed.', responses: [] });
    expect(await del()).toMatchObject({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: 'Group authorization failed.', responses: [] });
    await grant(acl('GROUP', group, 'READ'));
    // a topic it may not read is refused on each partition (with its id, as Kafka), the group's own errors apply still
    expect(await alter()).toMatchObject({
      errorCode: ErrorCode.NONE,
      responses: [{ topicName: TOPIC, topicId, partitions: [{ partitionIndex: 0, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.' }] }],
    });
    // READ on the group is not DELETE
    expect((await del()).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    await grant(acl('TOPIC', TOPIC, 'READ'));
    expect(await alter()).toMatchObject({ errorCode: ErrorCode.NONE, responses: [{ topicName: TOPIC, topicId, partitions: [{ partitionIndex: 0, errorCode: ErrorCode.NONE }] }] });
    await grant(acl('GROUP', group, 'DELETE'));
    await authorizer().deleteAcls([{ ...ANY, resourceType: 'TOPIC' }]);
    expect(await del()).toMatchObject({
      errorCode: ErrorCode.NONE,
      responses: [{ topicName: TOPIC, topicId: ZERO_UUID, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.' }],
    });
    await grant(acl('TOPIC', TOPIC, 'READ'));
    expect(await del()).toMatchObject({ errorCode: ErrorCode.NONE, responses: [{ topicName: TOPIC, topicId, errorCode: ErrorCode.NONE }] });
  });

  it('DescribeClientQuotas and AlterClientQuotas: DESCRIBE_CONFIGS / ALTER_CONFIGS on the cluster', async () => {
    const entity = [{ entityType: 'user', entityName: 'alice' }];
    const alter = () =>
      c.request(schemas.alterClientQuotasRequest, schemas.alterClientQuotasResponse, 1, { entries: [{ entity, ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }] }], validateOnly: false });
    const describe = () => c.request(schemas.describeClientQuotasRequest, schemas.describeClientQuotasResponse, 1, { components: [{ entityType: 'user', matchType: 2, match: null }], strict: false });
    expect(await describe()).toMatchObject({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', entries: null });
    expect((await alter()).entries).toEqual([{ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', entity }]);
    // DESCRIBE_CONFIGS does not allow altering, and nothing was set
    await grant(cluster('DESCRIBE_CONFIGS'));
    expect(await describe()).toMatchObject({ errorCode: ErrorCode.NONE, entries: [] });
    expect((await alter()).entries[0]!.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    await grant(cluster('ALTER_CONFIGS'));
    expect((await alter()).entries).toEqual([{ errorCode: ErrorCode.NONE, errorMessage: null, entity }]);
    expect((await describe()).entries).toEqual([{ entity, values: [{ key: 'producer_byte_rate', value: 1024 }] }]);
    await c.request(schemas.alterClientQuotasRequest, schemas.alterClientQuotasResponse, 1, { entries: [{ entity, ops: [{ key: 'producer_byte_rate', value: 0, remove: true }] }], validateOnly: false });
  });

  it('DescribeUserScramCredentials and AlterUserScramCredentials: DESCRIBE / ALTER on the cluster', async () => {
    const describe = () => c.request(schemas.describeUserScramCredentialsRequest, schemas.describeUserScramCredentialsResponse, 0, { users: [{ name: 'nobody' }] });
    const alter = () => c.request(schemas.alterUserScramCredentialsRequest, schemas.alterUserScramCredentialsResponse, 0, { deletions: [{ name: 'nobody', mechanism: 1 }, { name: 'ghost', mechanism: 2 }], upsertions: [] });
    // Kafka's error response: the error at the top and once per user named (the name left empty)
    expect(await describe()).toMatchObject({
      errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      errorMessage: 'Cluster authorization failed.',
      results: [{ user: '', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', credentialInfos: [] }],
    });
    expect((await alter()).results.map((r) => [r.user, r.errorCode])).toEqual([['ghost', ErrorCode.CLUSTER_AUTHORIZATION_FAILED], ['nobody', ErrorCode.CLUSTER_AUTHORIZATION_FAILED]]);
    await grant(cluster('DESCRIBE'));
    expect(await describe()).toMatchObject({ errorCode: ErrorCode.NONE, results: [{ user: 'nobody', errorCode: ErrorCode.RESOURCE_NOT_FOUND }] });
    expect((await alter()).results[0]!.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    await grant(cluster('ALTER'));
    expect((await alter()).results.map((r) => [r.user, r.errorCode])).toEqual([['nobody', ErrorCode.RESOURCE_NOT_FOUND], ['ghost', ErrorCode.RESOURCE_NOT_FOUND]]);
  });
});

describe('authorizer rules on the wire', () => {
  let dataDir: string;
  let broker: RunningBroker | undefined;
  const dirs: string[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-acl-rules-'));
    dirs.push(dataDir);
  });

  afterAll(async () => {
    await broker?.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function start(config: Record<string, string | number | boolean> = {}): Promise<{ broker: RunningBroker; c: RawClient }> {
    broker = await startBroker({ dataDir, config: { ...AUTHORIZER, ...config } });
    if (broker.broker.topics.get(TOPIC) === undefined) await broker.broker.topics.create({ name: TOPIC, numPartitions: 1, replicationFactor: 1, configs: {} });
    if (broker.broker.topics.get('payments') === undefined) await broker.broker.topics.create({ name: 'payments', numPartitions: 1, replicationFactor: 1, configs: {} });
    return { broker, c: await RawClient.connect(broker.port) };
  }

  async function stop(c: RawClient): Promise<void> {
    c.close();
    await broker?.close();
    broker = undefined;
  }

  async function readCode(c: RawClient, topic: string): Promise<number> {
    const res = await c.request(schemas.fetchRequest, schemas.fetchResponse, 12, fetchRequestBody(topic, [{ partition: 0, fetchOffset: 0 }], 1 << 20));
    return res.responses[0]!.partitions[0]!.errorCode;
  }

  it('applies PREFIXED ACLs to the topics under their prefix, and a DENY over any ALLOW', async () => {
    const { broker, c } = await start();
    try {
      await broker.broker.authorizer!.createAcls([acl('TOPIC', 'ord', 'READ', { patternType: 'PREFIXED' })]);
      expect([await readCode(c, TOPIC), await readCode(c, 'payments')]).toEqual([ErrorCode.NONE, ErrorCode.TOPIC_AUTHORIZATION_FAILED]);
      await broker.broker.authorizer!.createAcls([acl('TOPIC', '*', 'ALL', { principal: 'User:*' }), acl('TOPIC', TOPIC, 'READ', { permissionType: 'DENY' })]);
      expect([await readCode(c, TOPIC), await readCode(c, 'payments')]).toEqual([ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.NONE]);
      // the DENY of READ leaves DESCRIBE (implied by the ALLOW of ALL)
      const md = await c.request(schemas.metadataRequest, schemas.metadataResponse, 12, { topics: [{ name: TOPIC, topicId: ZERO_UUID }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      expect(md.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    } finally {
      await stop(c);
    }
  });

  it('matches hosts: "*" or the client\'s address, as Kafka writes it', async () => {
    const { broker, c } = await start();
    try {
      await broker.broker.authorizer!.createAcls([acl('TOPIC', TOPIC, 'READ', { host: '10.9.9.9' })]);
      expect(await readCode(c, TOPIC)).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      await broker.broker.authorizer!.createAcls([acl('TOPIC', TOPIC, 'READ', { host: '127.0.0.1' })]);
      expect(await readCode(c, TOPIC)).toBe(ErrorCode.NONE);
      await broker.broker.authorizer!.createAcls([acl('TOPIC', TOPIC, 'READ', { host: '127.0.0.1', permissionType: 'DENY' })]);
      expect(await readCode(c, TOPIC)).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    } finally {
      await stop(c);
    }
  });

  it('allows super users everything, DENY ACLs and all', async () => {
    const { broker, c } = await start({ 'super.users': 'User:admin; User:ANONYMOUS' });
    try {
      await broker.broker.authorizer!.createAcls([acl('TOPIC', '*', 'ALL', { principal: 'User:*', permissionType: 'DENY' })]);
      expect(await readCode(c, TOPIC)).toBe(ErrorCode.NONE);
      const logDirs = await c.request(schemas.describeLogDirsRequest, schemas.describeLogDirsResponse, 4, { topics: null });
      expect(logDirs.errorCode).toBe(ErrorCode.NONE);
      const ops = await c.request(schemas.describeClusterRequest, schemas.describeClusterResponse, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 });
      expect(ops.clusterAuthorizedOperations).toBe([5, 7, 8, 9, 10, 11, 12].reduce((a, b) => a | (1 << b), 0));
    } finally {
      await stop(c);
    }
  });

  it('allow.everyone.if.no.acl.found: allowed while no ACL names the resource, refused once one does', async () => {
    const { broker, c } = await start({ 'allow.everyone.if.no.acl.found': true });
    try {
      expect(await readCode(c, TOPIC)).toBe(ErrorCode.NONE);
      await broker.broker.authorizer!.createAcls([acl('TOPIC', TOPIC, 'READ', { principal: 'User:alice' })]);
      expect([await readCode(c, TOPIC), await readCode(c, 'payments')]).toEqual([ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.NONE]);
    } finally {
      await stop(c);
    }
  });

  it('keeps the ACLs across a restart, in the metadata file, and applies them at once', async () => {
    let { broker, c } = await start();
    await broker.broker.authorizer!.createAcls([acl('TOPIC', TOPIC, 'READ'), acl('GROUP', 'g', 'READ', { patternType: 'PREFIXED', permissionType: 'DENY' })]);
    expect(await readCode(c, TOPIC)).toBe(ErrorCode.NONE);
    await stop(c);
    const stored = JSON.parse(await readFile(join(dataDir, 'gregor-metadata.json'), 'utf8')) as { acls: unknown[] };
    expect(stored.acls).toContainEqual({ resourceType: 'TOPIC', resourceName: TOPIC, patternType: 'LITERAL', principal: ANONYMOUS, host: '*', operation: 'READ', permissionType: 'ALLOW' });
    ({ broker, c } = await start());
    try {
      expect(await readCode(c, TOPIC)).toBe(ErrorCode.NONE);
      expect(broker.broker.authorizer!.matching({ resourceType: 'ANY', resourceName: null, patternType: 'ANY', principal: null, host: null, operation: 'ANY', permissionType: 'ANY' })).toHaveLength(2);
      await broker.broker.authorizer!.deleteAcls([{ resourceType: 'TOPIC', resourceName: TOPIC, patternType: 'LITERAL', principal: null, host: null, operation: 'ANY', permissionType: 'ANY' }]);
      expect(await readCode(c, TOPIC)).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    } finally {
      await stop(c);
    }
  });

  it('without authorizer.class.name nothing is refused and the ACL APIs answer SECURITY_DISABLED', async () => {
    broker = await startBroker({ dataDir });
    await broker.broker.topics.create({ name: TOPIC, numPartitions: 1, replicationFactor: 1, configs: {} });
    const c = await RawClient.connect(broker.port);
    try {
      expect(broker.broker.authorizer).toBeUndefined();
      expect(await readCode(c, TOPIC)).toBe(ErrorCode.NONE);
      const described = await c.request(schemas.describeAclsRequest, schemas.describeAclsResponse, 3, {
        resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1,
      });
      expect(described.errorCode).toBe(ErrorCode.SECURITY_DISABLED);
    } finally {
      await stop(c);
    }
  });
});

describe('the ACL APIs on the wire', () => {
  let dataDir: string;
  let broker: RunningBroker;
  let c: RawClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-acl-apis-'));
    broker = await startBroker({ dataDir, metrics: true, config: AUTHORIZER });
    c = await RawClient.connect(broker.port);
  });

  afterAll(async () => {
    c?.close();
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const creation = (over: Record<string, unknown> = {}) => ({ resourceType: 2, resourceName: 'orders', resourcePatternType: 3, principal: 'User:alice', host: '*', operation: 3, permissionType: 3, ...over });
  const anyFilter = { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 };

  it('needs ALTER on the cluster to create and delete, DESCRIBE to describe (CLUSTER_AUTHORIZATION_FAILED)', async () => {
    await broker.broker.authorizer!.deleteAcls([ANY]);
    const created = await c.request(schemas.createAclsRequest, schemas.createAclsResponse, 3, { creations: [creation(), creation({ principal: 'User:bob' })] });
    expect(created.results.map((r) => r.errorCode)).toEqual([ErrorCode.CLUSTER_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED]);
    expect((await c.request(schemas.describeAclsRequest, schemas.describeAclsResponse, 3, anyFilter)).errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect((await c.request(schemas.deleteAclsRequest, schemas.deleteAclsResponse, 3, { filters: [anyFilter] })).filterResults[0]!.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    // ALTER implies DESCRIBE
    await broker.broker.authorizer!.createAcls([cluster('ALTER')]);
    expect((await c.request(schemas.createAclsRequest, schemas.createAclsResponse, 3, { creations: [creation()] })).results).toEqual([{ errorCode: ErrorCode.NONE, errorMessage: null }]);
    const described = await c.request(schemas.describeAclsRequest, schemas.describeAclsResponse, 3, { ...anyFilter, resourceTypeFilter: 2 });
    expect(described).toMatchObject({ errorCode: ErrorCode.NONE, resources: [{ resourceType: 2, resourceName: 'orders', patternType: 3, acls: [{ principal: 'User:alice', host: '*', operation: 3, permissionType: 3 }] }] });
  });

  it('answers Kafka\'s validation errors per creation and per filter, and closes the connection for UNKNOWN codes', async () => {
    await broker.broker.authorizer!.createAcls([cluster('ALTER')]);
    const created = await c.request(schemas.createAclsRequest, schemas.createAclsResponse, 3, {
      creations: [
        creation({ resourceType: 4, resourceName: 'other' }),
        creation({ resourceName: '' }),
        creation({ resourceType: 1 }),
        creation({ resourcePatternType: 2 }),
        creation({ operation: 1 }),
        creation({ permissionType: 1 }),
        creation({ principal: 'alice' }),
        creation({ resourceName: 'fine', resourcePatternType: 4 }),
      ],
    });
    expect(created.results).toEqual([
      { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'The only valid name for the CLUSTER resource is kafka-cluster' },
      { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Invalid empty resource name' },
      { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Invalid resourceType ANY' },
      { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Invalid patternType MATCH' },
      { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Invalid operation ANY' },
      { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Invalid permissionType ANY' },
      { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'expected a string in format principalType:principalName but got alice' },
      { errorCode: ErrorCode.NONE, errorMessage: null },
    ]);
    const deleted = await c.request(schemas.deleteAclsRequest, schemas.deleteAclsResponse, 3, { filters: [{ ...anyFilter, resourceTypeFilter: 99 }, { ...anyFilter, operation: 99 }] });
    expect(deleted.filterResults.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      [ErrorCode.INVALID_REQUEST, 'Unknown patternFilter.'],
      [ErrorCode.INVALID_REQUEST, 'Unknown entryFilter.'],
    ]);
    const other = await RawClient.connect(broker.port);
    await expect(other.request(schemas.createAclsRequest, schemas.createAclsResponse, 3, { creations: [creation({ operation: 0 })] })).rejects.toThrow('connection closed');
    await other.closed;
  });

  it('deletes what the filters match (MATCH included) in one change, v0 reading ANY as LITERAL', async () => {
    const authorizer = broker.broker.authorizer!;
    await authorizer.deleteAcls([ANY]);
    await authorizer.createAcls([cluster('ALTER'), acl('TOPIC', 'orders', 'READ'), acl('TOPIC', 'ord', 'WRITE', { patternType: 'PREFIXED' }), acl('TOPIC', '*', 'DESCRIBE')]);
    const v0 = await c.request(schemas.describeAclsRequest, schemas.describeAclsResponse, 0, { ...anyFilter, resourceTypeFilter: 2 });
    expect(v0.resources.map((r) => r.resourceName).sort()).toEqual(['*', 'orders']);
    const deleted = await c.request(schemas.deleteAclsRequest, schemas.deleteAclsResponse, 3, {
      filters: [{ ...anyFilter, resourceTypeFilter: 2, resourceNameFilter: 'orders-eu', patternTypeFilter: 2 }, { ...anyFilter, resourceTypeFilter: 2, resourceNameFilter: 'orders', patternTypeFilter: 3 }],
    });
    expect(deleted.filterResults.map((r) => r.matchingAcls.map((a) => `${a.resourceName}/${a.patternType}/${a.operation}`).sort())).toEqual([
      ['*/3/8', 'ord/4/4'],
      ['orders/3/3'],
    ]);
    expect(authorizer.matching({ ...ANY, resourceType: 'TOPIC' })).toEqual([]);
  });

  it('counts decisions and ACLs in the metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${broker.metricsPort}/metrics`)).text();
    expect(text).toMatch(/^gregor_authorizer_decisions_total\{result="allowed"\} [1-9]\d*$/m);
    expect(text).toMatch(/^gregor_authorizer_decisions_total\{result="denied"\} [1-9]\d*$/m);
    expect(text).toMatch(new RegExp(`^gregor_acls ${broker.broker.authorizer!.matching(ANY).length}$`, 'm'));
  });
});
