/**
 * Byte fixtures checked by hand against Kafka 3.9's message schemas (and Kafka 4.3's for its newer versions), for what
 * neither kafkajs nor @platformatic/kafka can check: flexible versions they do
 * not implement (FindCoordinator v3, OffsetFetch v6-v7, CreateTopics v5-v6,
 * DeleteTopics v4-v5, Metadata v11 request), a few non-flexible versions
 * neither library encodes (ListOffsets v4, OffsetCommit v6-v7, Metadata v8),
 * non-empty tagged-field sections
 * (nested and top level, struct-valued), nullable structs, request header v2
 * and the ApiVersions response header. Each byte run is commented with the
 * schema field it encodes.
 */
import { describe, expect, it } from 'vitest';
import { decode, decodeRequestFrame, decodeResponseFrame, encode, encodeRequestFrame, encodeResponseFrame, message, schemas, type MessageDef } from '../../protocol/index.js';

// Tiny byte writers for fixtures (big-endian ints, unsigned varints, strings).
const i8 = (n: number): number[] => [n & 0xff];
const i16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const i32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const i64 = (n: bigint): number[] => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return [...b];
};
const uv = (n: number): number[] => {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const utf8 = (s: string): number[] => [...Buffer.from(s, 'utf8')];
/** compact string: uvarint length+1, bytes */
const cs = (s: string): number[] => [...uv(Buffer.byteLength(s) + 1), ...utf8(s)];
/** int16-length string */
const s16 = (s: string): number[] => [...i16(Buffer.byteLength(s)), ...utf8(s)];
const NULL_COMPACT = 0;
const NO_TAGS = 0;
const uuid = (b64: string): number[] => [...Buffer.from(b64, 'base64url')];
const UUID_A = 'ASNFZ4mrze_-3LqYdlQyEA';

function expectFixture(def: MessageDef, version: number, value: Record<string, unknown>, bytes: number[]): void {
  const encoded = encode(def, version, value);
  expect([...encoded], `${def.name} v${version} encode`).toEqual(bytes);
  expect(decode(def, version, Buffer.from(bytes)), `${def.name} v${version} decode`).toMatchObject(value);
}

describe('hand-checked fixtures: flexible versions no client library implements', () => {
  it('FindCoordinator v3 request and response', () => {
    expectFixture(schemas.findCoordinatorRequest, 3, { key: 'grp', keyType: 0 }, [
      ...cs('grp'), // Key (compact string, 0-3)
      ...i8(0), // KeyType
      NO_TAGS,
    ]);
    expectFixture(schemas.findCoordinatorResponse, 3, { throttleTimeMs: 7, errorCode: 15, errorMessage: null, nodeId: -1, host: '', port: -1 }, [
      ...i32(7), // ThrottleTimeMs
      ...i16(15), // ErrorCode (0-3)
      NULL_COMPACT, // ErrorMessage (compact nullable, 1-3)
      ...i32(-1), // NodeId
      ...cs(''), // Host
      ...i32(-1), // Port
      NO_TAGS,
    ]);
  });

  it('OffsetFetch v6 and v7 requests (v7 adds RequireStable) and their response', () => {
    const topicBytes = [
      ...uv(2), // Topics: compact nullable array of 1
      ...cs('t'), // Name
      ...uv(3), // PartitionIndexes: compact array of 2
      ...i32(0),
      ...i32(2),
      NO_TAGS, // topic struct
    ];
    expectFixture(schemas.offsetFetchRequest, 6, { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0, 2] }] }, [...cs('g'), ...topicBytes, NO_TAGS]);
    expectFixture(schemas.offsetFetchRequest, 7, { groupId: 'g', topics: null, requireStable: true }, [
      ...cs('g'), // GroupId (0-7)
      NULL_COMPACT, // Topics null = all topics (nullable 2-7)
      1, // RequireStable (7+)
      NO_TAGS,
    ]);
    const response = {
      throttleTimeMs: 0,
      topics: [{ name: 't', partitions: [{ partitionIndex: 2, committedOffset: 42n, committedLeaderEpoch: 5, metadata: null, errorCode: 0 }] }],
      errorCode: 0,
    };
    const bytes = [
      ...i32(0), // ThrottleTimeMs
      ...uv(2), // Topics
      ...cs('t'),
      ...uv(2), // Partitions
      ...i32(2), // PartitionIndex
      ...i64(42n), // CommittedOffset
      ...i32(5), // CommittedLeaderEpoch (5-7)
      NULL_COMPACT, // Metadata (nullable)
      ...i16(0), // ErrorCode
      NO_TAGS, // partition
      NO_TAGS, // topic
      ...i16(0), // ErrorCode (2-7)
      NO_TAGS,
    ];
    expectFixture(schemas.offsetFetchResponse, 6, response, bytes);
    expectFixture(schemas.offsetFetchResponse, 7, response, bytes);
  });

  it('CreateTopics v5 and v6 request and response, with the TopicConfigErrorCode tagged field', () => {
    const request = {
      topics: [{ name: 'ct', numPartitions: 3, replicationFactor: 1, assignments: [{ partitionIndex: 0, brokerIds: [1] }], configs: [{ name: 'k', value: null }] }],
      timeoutMs: 5000,
      validateOnly: true,
    };
    const requestBytes = [
      ...uv(2), // Topics
      ...cs('ct'), // Name
      ...i32(3), // NumPartitions
      ...i16(1), // ReplicationFactor
      ...uv(2), // Assignments
      ...i32(0), // PartitionIndex
      ...uv(2), // BrokerIds
      ...i32(1),
      NO_TAGS, // assignment
      ...uv(2), // Configs
      ...cs('k'), // Name
      NULL_COMPACT, // Value (nullable)
      NO_TAGS, // config
      NO_TAGS, // topic
      ...i32(5000), // TimeoutMs
      1, // ValidateOnly
      NO_TAGS,
    ];
    expectFixture(schemas.createTopicsRequest, 5, request, requestBytes);
    expectFixture(schemas.createTopicsRequest, 6, request, requestBytes);
    const response = {
      throttleTimeMs: 1,
      topics: [
        {
          name: 'ct',
          errorCode: 0,
          errorMessage: null,
          topicConfigErrorCode: 29,
          numPartitions: 3,
          replicationFactor: 1,
          configs: [{ name: 'k', value: 'v', readOnly: false, configSource: 5, isSensitive: true }],
        },
        { name: 'x', errorCode: 36, errorMessage: 'exists', topicConfigErrorCode: 0, numPartitions: -1, replicationFactor: -1, configs: null },
      ],
    };
    const responseBytes = [
      ...i32(1), // ThrottleTimeMs
      ...uv(3), // Topics: 2
      ...cs('ct'), // Name
      ...i16(0), // ErrorCode
      NULL_COMPACT, // ErrorMessage
      ...i32(3), // NumPartitions (5+)
      ...i16(1), // ReplicationFactor (5+)
      ...uv(2), // Configs (nullable 5+)
      ...cs('k'),
      ...cs('v'),
      0, // ReadOnly
      ...i8(5), // ConfigSource
      1, // IsSensitive
      NO_TAGS, // config
      1, // tagged fields: 1
      0, // tag 0 = TopicConfigErrorCode
      2, // size
      ...i16(29),
      ...cs('x'),
      ...i16(36),
      ...cs('exists'),
      ...i32(-1),
      ...i16(-1),
      NULL_COMPACT, // Configs null
      NO_TAGS, // TopicConfigErrorCode 0 is its default: omitted
      NO_TAGS,
    ];
    expectFixture(schemas.createTopicsResponse, 5, response, responseBytes);
    expectFixture(schemas.createTopicsResponse, 6, response, responseBytes);
  });

  it('DeleteTopics v4 and v5 request and response (v5 adds ErrorMessage)', () => {
    const request = { topicNames: ['a', 'b-ü'], timeoutMs: 30000 };
    const requestBytes = [...uv(3), ...cs('a'), ...cs('b-ü'), ...i32(30000), NO_TAGS];
    expectFixture(schemas.deleteTopicsRequest, 4, request, requestBytes);
    expectFixture(schemas.deleteTopicsRequest, 5, request, requestBytes);
    expectFixture(schemas.deleteTopicsResponse, 4, { throttleTimeMs: 0, responses: [{ name: 'a', errorCode: 3 }] }, [...i32(0), ...uv(2), ...cs('a'), ...i16(3), NO_TAGS, NO_TAGS]);
    expectFixture(schemas.deleteTopicsResponse, 5, { throttleTimeMs: 0, responses: [{ name: 'a', errorCode: 3, errorMessage: 'unknown' }] }, [
      ...i32(0),
      ...uv(2),
      ...cs('a'),
      ...i16(3),
      ...cs('unknown'), // ErrorMessage (5+)
      NO_TAGS,
      NO_TAGS,
    ]);
  });

  it('Metadata v11 request: topic id + nullable name, no IncludeClusterAuthorizedOperations (8-10 only)', () => {
    expectFixture(
      schemas.metadataRequest,
      11,
      { topics: [{ topicId: UUID_A, name: null }, { name: 'orders' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: true },
      [
        ...uv(3), // Topics
        ...uuid(UUID_A), // TopicId (10+)
        NULL_COMPACT, // Name (nullable 10+)
        NO_TAGS,
        ...Array<number>(16).fill(0), // zero uuid = no id
        ...cs('orders'),
        NO_TAGS,
        0, // AllowAutoTopicCreation
        1, // IncludeTopicAuthorizedOperations
        NO_TAGS,
      ],
    );
  });
});

describe('hand-checked fixtures: non-flexible versions neither library encodes', () => {
  it('ListOffsets v4 request: CurrentLeaderEpoch appears, MaxNumOffsets (v0 only) does not', () => {
    const bytes = [...i32(-1), ...i8(1), ...i32(1), ...s16('t'), ...i32(1), ...i32(2), ...i32(5), ...i64(-2n)];
    const partition = { partitionIndex: 2, currentLeaderEpoch: 5, timestamp: -2n };
    expectFixture(schemas.listOffsetsRequest, 4, { replicaId: -1, isolationLevel: 1, topics: [{ name: 't', partitions: [partition] }] }, bytes);
    // a field outside its versions is not written, and decodes as its default
    expect([...encode(schemas.listOffsetsRequest, 4, { replicaId: -1, isolationLevel: 1, topics: [{ name: 't', partitions: [{ ...partition, maxNumOffsets: 9 }] }] })]).toEqual(bytes);
    expect(decode(schemas.listOffsetsRequest, 4, Buffer.from(bytes)).topics[0]!.partitions[0]!.maxNumOffsets).toBe(1);
  });

  it('OffsetCommit v6 and v7 requests: leader epoch (6+), group instance id (7+), no retention time (2-4)', () => {
    const value = {
      groupId: 'g',
      generationIdOrMemberEpoch: 4,
      memberId: 'm',
      groupInstanceId: 'i',
      retentionTimeMs: 1000n,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: 3, commitTimestamp: 5n, committedMetadata: null }] }],
    };
    const topics = [...i32(1), ...s16('t'), ...i32(1), ...i32(0), ...i64(42n), ...i32(3), ...i16(-1)];
    expect([...encode(schemas.offsetCommitRequest, 6, value)]).toEqual([...s16('g'), ...i32(4), ...s16('m'), ...topics]);
    expect([...encode(schemas.offsetCommitRequest, 7, value)]).toEqual([...s16('g'), ...i32(4), ...s16('m'), ...s16('i'), ...topics]);
  });

  it('Metadata v8 request and response: authorized-operations fields', () => {
    expectFixture(schemas.metadataRequest, 8, { topics: null, allowAutoTopicCreation: true, includeClusterAuthorizedOperations: true, includeTopicAuthorizedOperations: false }, [
      ...i32(-1), // Topics null = all
      1,
      1,
      0,
    ]);
    expectFixture(
      schemas.metadataResponse,
      8,
      {
        throttleTimeMs: 0,
        brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
        clusterId: null,
        controllerId: 1,
        topics: [{ errorCode: 0, name: 't', isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 2, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }], topicAuthorizedOperations: 248 }],
        clusterAuthorizedOperations: -2147483648,
      },
      [
        ...i32(0),
        ...i32(1),
        ...i32(1),
        ...s16('h'),
        ...i32(9092),
        ...i16(-1), // Rack null
        ...i16(-1), // ClusterId null
        ...i32(1), // ControllerId
        ...i32(1), // Topics
        ...i16(0),
        ...s16('t'),
        0, // IsInternal
        ...i32(1), // Partitions
        ...i16(0),
        ...i32(0),
        ...i32(1), // LeaderId
        ...i32(2), // LeaderEpoch (7+)
        ...i32(1),
        ...i32(1),
        ...i32(1),
        ...i32(1),
        ...i32(0), // OfflineReplicas
        ...i32(248), // TopicAuthorizedOperations (8+)
        ...i32(-2147483648), // ClusterAuthorizedOperations (8-10)
      ],
    );
  });
});

describe('hand-checked fixtures: tagged fields, nullable structs and headers', () => {
  it('ApiVersions v3 response frame: header v0 (no tagged section) and all four tagged fields in tag order', () => {
    const body = {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
      throttleTimeMs: 0,
      supportedFeatures: [{ name: 'metadata.version', minVersion: 1, maxVersion: 21 }],
      finalizedFeaturesEpoch: 9n,
      finalizedFeatures: [{ name: 'metadata.version', maxVersionLevel: 21, minVersionLevel: 21 }],
      zkMigrationReady: true,
    };
    const tagged = [
      4, // 4 tagged fields
      0, // tag 0 SupportedFeatures
      1 + (17 + 2 + 2 + 1), // size: compact array of 1 (1) + name (17) + min (2) + max (2) + element tags (1)
      ...uv(2),
      ...cs('metadata.version'),
      ...i16(1),
      ...i16(21),
      NO_TAGS,
      1, // tag 1 FinalizedFeaturesEpoch
      8,
      ...i64(9n),
      2, // tag 2 FinalizedFeatures
      23,
      ...uv(2),
      ...cs('metadata.version'),
      ...i16(21), // MaxVersionLevel
      ...i16(21), // MinVersionLevel
      NO_TAGS,
      3, // tag 3 ZkMigrationReady
      1,
      1,
    ];
    const bodyBytes = [...i16(0), ...uv(2), ...i16(18), ...i16(0), ...i16(4), NO_TAGS, ...i32(0), ...tagged];
    const frame = [...i32(4 + bodyBytes.length), ...i32(77), ...bodyBytes];
    expect([...Buffer.concat(encodeResponseFrame(schemas.apiVersionsResponse, 3, 77, body))]).toEqual(frame);
    expect(decodeResponseFrame(schemas.apiVersionsResponse, 3, Buffer.from(frame).subarray(4)).body).toStrictEqual(body);
  });

  it('Heartbeat v4 request frame: header v2 keeps an int16-length client id, then an empty tagged section', () => {
    const frameBody = [
      ...i16(12), // ApiKey
      ...i16(4), // ApiVersion
      ...i32(0x01020304), // CorrelationId
      ...s16('cli-ü'), // ClientId: int16 length even in header v2 (flexibleVersions "none")
      NO_TAGS, // header tagged fields
      ...cs('g'), // GroupId
      ...i32(3), // GenerationId
      ...cs('m'), // MemberId
      NULL_COMPACT, // GroupInstanceId
      NO_TAGS,
    ];
    const body = { groupId: 'g', generationId: 3, memberId: 'm', groupInstanceId: null };
    expect([...Buffer.concat(encodeRequestFrame(schemas.heartbeatRequest, 4, 0x01020304, 'cli-ü', body))]).toEqual([...i32(frameBody.length), ...frameBody]);
    const decoded = decodeRequestFrame(Buffer.from(frameBody));
    expect(decoded.clientId).toBe('cli-ü');
    expect(decoded.body).toStrictEqual(body);
  });

  it('Produce v10 response: struct-valued tagged field in an element and an array-valued one at the top', () => {
    const value = {
      responses: [
        {
          name: 't',
          partitionResponses: [
            { index: 0, errorCode: 6, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage: null, currentLeader: { leaderId: 2, leaderEpoch: 8 } },
          ],
        },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [{ nodeId: 2, host: 'h2', port: 9092, rack: null }],
    };
    expectFixture(schemas.produceResponse, 10, value, [
      ...uv(2), // Responses
      ...cs('t'),
      ...uv(2), // PartitionResponses
      ...i32(0), // Index
      ...i16(6), // ErrorCode NOT_LEADER_OR_FOLLOWER
      ...i64(-1n), // BaseOffset
      ...i64(-1n), // LogAppendTimeMs
      ...i64(-1n), // LogStartOffset
      ...uv(1), // RecordErrors: empty
      NULL_COMPACT, // ErrorMessage
      1, // 1 tagged field
      0, // tag 0 CurrentLeader
      9, // size: LeaderId (4) + LeaderEpoch (4) + the struct's own tagged section (1)
      ...i32(2),
      ...i32(8),
      NO_TAGS,
      NO_TAGS, // topic
      ...i32(0), // ThrottleTimeMs
      1, // 1 tagged field
      0, // tag 0 NodeEndpoints
      1 + 4 + 3 + 4 + 1 + 1, // size
      ...uv(2),
      ...i32(2), // NodeId
      ...cs('h2'), // Host
      ...i32(9092), // Port
      NULL_COMPACT, // Rack
      NO_TAGS,
    ]);
  });

  it('Fetch v12 response partition with tags 0, 1, 2 (DivergingEpoch, CurrentLeader, SnapshotId) in order', () => {
    const partition = {
      partitionIndex: 1,
      errorCode: 0,
      highWatermark: 10n,
      lastStableOffset: 10n,
      logStartOffset: 0n,
      divergingEpoch: { epoch: 3, endOffset: 99n },
      currentLeader: { leaderId: 1, leaderEpoch: 4 },
      snapshotId: { endOffset: 50n, epoch: 2 },
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: Buffer.from([0xde, 0xad]),
    };
    expectFixture(schemas.fetchResponse, 12, { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [{ topic: 't', partitions: [partition] }] }, [
      ...i32(0), // ThrottleTimeMs
      ...i16(0), // ErrorCode
      ...i32(0), // SessionId
      ...uv(2), // Responses
      ...cs('t'), // Topic (0-12)
      ...uv(2), // Partitions
      ...i32(1),
      ...i16(0),
      ...i64(10n),
      ...i64(10n),
      ...i64(0n),
      NULL_COMPACT, // AbortedTransactions null
      ...i32(-1), // PreferredReadReplica
      ...uv(3), // Records: compact bytes of 2
      0xde,
      0xad,
      3, // 3 tagged fields
      0, // DivergingEpoch: Epoch int32, EndOffset int64, tags
      13,
      ...i32(3),
      ...i64(99n),
      NO_TAGS,
      1, // CurrentLeader
      9,
      ...i32(1),
      ...i32(4),
      NO_TAGS,
      2, // SnapshotId: EndOffset int64, Epoch int32, tags
      13,
      ...i64(50n),
      ...i32(2),
      NO_TAGS,
      NO_TAGS, // topic
      NO_TAGS,
    ]);
  });

  it('Fetch v15 and v17 requests: ClusterId and ReplicaState at the top, ReplicaDirectoryId in a partition', () => {
    const base = {
      clusterId: 'c1',
      replicaState: { replicaId: 5, replicaEpoch: 7n },
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 1000,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      forgottenTopicsData: [],
      rackId: '',
    };
    const partition = { partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 100 };
    const partitionBytes = [...i32(0), ...i32(-1), ...i64(0n), ...i32(-1), ...i64(-1n), ...i32(100)];
    const head = [...i32(100), ...i32(1), ...i32(1000), ...i8(0), ...i32(0), ...i32(-1), ...uv(2), ...uuid(UUID_A), ...uv(2)];
    const tail = [
      ...uv(1), // ForgottenTopicsData: empty
      ...cs(''), // RackId
      2, // 2 tagged fields
      0, // tag 0 ClusterId (compact nullable string)
      3,
      ...cs('c1'),
      1, // tag 1 ReplicaState
      13,
      ...i32(5),
      ...i64(7n),
      NO_TAGS,
    ];
    expectFixture(schemas.fetchRequest, 15, { ...base, topics: [{ topicId: UUID_A, partitions: [partition] }] }, [...head, ...partitionBytes, NO_TAGS, NO_TAGS, ...tail]);
    expectFixture(schemas.fetchRequest, 17, { ...base, topics: [{ topicId: UUID_A, partitions: [{ ...partition, replicaDirectoryId: UUID_A }] }] }, [
      ...head,
      ...partitionBytes,
      1, // tag 0 ReplicaDirectoryId (uuid, 16 bytes)
      0,
      16,
      ...uuid(UUID_A),
      NO_TAGS,
      ...tail,
    ]);
  });

  it('ConsumerGroupHeartbeat v0 response: a nullable struct is an int8 marker (-1 null, 1 present) then the struct', () => {
    const head = [...i32(0), ...i16(0), NULL_COMPACT, ...cs('m'), ...i32(4), ...i32(5000)];
    expectFixture(schemas.consumerGroupHeartbeatResponse, 0, { throttleTimeMs: 0, errorCode: 0, errorMessage: null, memberId: 'm', memberEpoch: 4, heartbeatIntervalMs: 5000, assignment: null }, [
      ...head,
      0xff,
      NO_TAGS,
    ]);
    expectFixture(
      schemas.consumerGroupHeartbeatResponse,
      0,
      { throttleTimeMs: 0, errorCode: 0, errorMessage: null, memberId: 'm', memberEpoch: 4, heartbeatIntervalMs: 5000, assignment: { topicPartitions: [{ topicId: UUID_A, partitions: [0, 1] }] } },
      [
        ...head,
        1, // present
        ...uv(2), // TopicPartitions
        ...uuid(UUID_A), // TopicId
        ...uv(3), // Partitions
        ...i32(0),
        ...i32(1),
        NO_TAGS, // topic partitions
        NO_TAGS, // assignment struct
        NO_TAGS,
      ],
    );
  });

  it('a nullable struct in a tagged field: the size counts an unsigned varint marker (1 present) before the struct; null at its default is left out', () => {
    // as Kafka's ConsumerGroupMemberMetadataValue tag 0 (ClassicMemberMetadata): the codec's rule, on a data struct
    const def = message({
      name: 'TaggedNullableStruct',
      apiKey: -1,
      kind: 'response',
      valid: '0',
      flexible: '0+',
      fields: [
        { name: 'id', type: 'int32', versions: '0+' },
        { name: 'extra', type: 'Extra', versions: '0+', nullable: '0+', default: null, tag: 0, tagged: '0+', fields: [{ name: 'n', type: 'int16', versions: '0+' }] },
      ],
    });
    expectFixture(def, 0, { id: 1, extra: null }, [...i32(1), NO_TAGS]);
    expectFixture(def, 0, { id: 1, extra: { n: 5 } }, [
      ...i32(1),
      1, // the message's tagged section: one field
      0, // tag 0
      4, // size: marker + int16 + the struct's empty tagged section
      1, // marker: present
      ...i16(5),
      NO_TAGS, // struct
    ]);
    // a null written explicitly (marker 0) reads as null
    expect(decode(def, 0, Buffer.from([...i32(1), 1, 0, 1, 0]))).toStrictEqual({ id: 1, extra: null });
  });

  it('ConsumerGroupHeartbeat v1 request: SubscribedTopicRegex (compact nullable string) between SubscribedTopicNames and ServerAssignor; v0 has no such field', () => {
    const head = [...cs('g'), ...cs('m'), ...i32(0), NULL_COMPACT, NULL_COMPACT, ...i32(30000)];
    const value = { groupId: 'g', memberId: 'm', memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30000, subscribedTopicNames: ['t'], serverAssignor: 'uniform', topicPartitions: [] };
    expectFixture(schemas.consumerGroupHeartbeatRequest, 0, value, [
      ...head, // GroupId, MemberId, MemberEpoch, InstanceId null, RackId null, RebalanceTimeoutMs
      ...uv(2), // SubscribedTopicNames: compact nullable array of 1
      ...cs('t'),
      ...cs('uniform'), // ServerAssignor
      ...uv(1), // TopicPartitions: empty compact array
      NO_TAGS,
    ]);
    expectFixture(schemas.consumerGroupHeartbeatRequest, 1, { ...value, subscribedTopicNames: null, subscribedTopicRegex: 'orders-.*' }, [
      ...head,
      NULL_COMPACT, // SubscribedTopicNames null: unchanged since the last heartbeat
      ...cs('orders-.*'), // SubscribedTopicRegex (1+)
      ...cs('uniform'), // ServerAssignor
      ...uv(1), // TopicPartitions: empty compact array
      NO_TAGS,
    ]);
  });

  it('ConsumerGroupDescribe v1 response: each member ends with MemberType (int8) before its tagged fields', () => {
    const member = { memberId: 'm', instanceId: null, rackId: null, memberEpoch: 3, clientId: 'c', clientHost: '/h', subscribedTopicNames: [], subscribedTopicRegex: null, assignment: { topicPartitions: [] }, targetAssignment: { topicPartitions: [] } };
    const group = { errorCode: 0, errorMessage: null, groupId: 'g', groupState: 'Stable', groupEpoch: 3, assignmentEpoch: 3, assignorName: 'uniform', authorizedOperations: -2147483648 };
    const memberBytes = [
      ...cs('m'), // MemberId
      NULL_COMPACT, // InstanceId
      NULL_COMPACT, // RackId
      ...i32(3), // MemberEpoch
      ...cs('c'), // ClientId
      ...cs('/h'), // ClientHost
      ...uv(1), // SubscribedTopicNames: empty
      NULL_COMPACT, // SubscribedTopicRegex
      ...uv(1), // Assignment.TopicPartitions: empty
      NO_TAGS, // Assignment
      ...uv(1), // TargetAssignment.TopicPartitions: empty
      NO_TAGS, // TargetAssignment
    ];
    const groupBytes = (memberType: number[]): number[] => [
      ...i32(0), // ThrottleTimeMs
      ...uv(2), // Groups: 1
      ...i16(0), // ErrorCode
      NULL_COMPACT, // ErrorMessage
      ...cs('g'), // GroupId
      ...cs('Stable'), // GroupState
      ...i32(3), // GroupEpoch
      ...i32(3), // AssignmentEpoch
      ...cs('uniform'), // AssignorName
      ...uv(2), // Members: 1
      ...memberBytes,
      ...memberType, // MemberType (1+)
      NO_TAGS, // member
      ...i32(-2147483648), // AuthorizedOperations
      NO_TAGS, // group
      NO_TAGS,
    ];
    expectFixture(schemas.consumerGroupDescribeResponse, 0, { throttleTimeMs: 0, groups: [{ ...group, members: [member] }] }, groupBytes([]));
    expectFixture(schemas.consumerGroupDescribeResponse, 1, { throttleTimeMs: 0, groups: [{ ...group, members: [{ ...member, memberType: 1 }] }] }, groupBytes([...i8(1)]));
    expect(decode(schemas.consumerGroupDescribeResponse, 0, Buffer.from(groupBytes([]))).groups[0]?.members[0]?.memberType).toBe(-1);
  });
});
