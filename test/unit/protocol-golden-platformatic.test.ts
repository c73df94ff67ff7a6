/**
 * Byte-exact golden tests for flexible versions (which kafkajs lacks) against
 * @platformatic/kafka 1.x's own per-API encoders (createRequest, building a
 * request body with its Writer) and decoders (parseResponse on its Reader).
 *
 * Requests: the same body encoded by platformatic and by us must be identical.
 * Responses: we encode, platformatic parses; the values must match what we
 * encoded, and it must have consumed everything but the top-level tagged-field
 * section (which its parsers leave to the connection).
 *
 * Where platformatic's encoder deviates from Kafka 3.9's schema (noted at each
 * place) that version is covered by hand-checked fixtures in
 * protocol-fixtures.test.ts instead. Platformatic's tagged-field reader only
 * handles empty sections, so responses here carry no tagged fields.
 */
import * as pk from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { encode, schemas, type MessageDef } from '../../protocol/index.js';

interface PkWriter {
  buffer: Buffer;
}
interface PkReader {
  position: number;
}
interface PkApi {
  createRequest(...args: never[]): PkWriter;
  parseResponse(correlationId: number, apiKey: number, apiVersion: number, reader: PkReader): Record<string, unknown>;
}
const pkApis = pk as unknown as Record<string, PkApi>;
const PkReaderClass = pk.Reader as unknown as { from(b: Buffer): PkReader };
const createRecordsBatch = pk.createRecordsBatch as unknown as (messages: Record<string, unknown>[], options?: Record<string, unknown>) => PkWriter;

function api(name: string, v: number): PkApi {
  const found = pkApis[`${name}V${v}`];
  if (!found) throw new Error(`@platformatic/kafka has no ${name}V${v}`);
  return found;
}

function expectSameBody(def: MessageDef, v: number, ours: Record<string, unknown>, theirs: PkWriter): void {
  expect(encode(def, v, ours).toString('hex'), `${def.name} v${v}`).toBe(theirs.buffer.toString('hex'));
}

/** Encodes with ours, parses with platformatic; returns the parsed value. */
function platformaticParse(def: MessageDef, v: number, ours: Record<string, unknown>, name: string, unread = [0]): Record<string, unknown> {
  const payload = encode(def, v, ours);
  const reader = PkReaderClass.from(payload);
  const parsed = api(name, v).parseResponse(1, def.apiKey, v, reader);
  expect([...payload.subarray(reader.position)], `${def.name} v${v}: bytes left unread by platformatic`).toEqual(unread);
  return parsed;
}

const UUID_B64 = 'ASNFZ4mrze_-3LqYdlQyEA';
const UUID_DASHED = '01234567-89ab-cdef-fedc-ba9876543210';
const UUID2_B64 = 'AAECAwQFBgcICQoLDA0ODw';
const UUID2_DASHED = '00010203-0405-0607-0809-0a0b0c0d0e0f';

describe('platformatic golden: ApiVersions v3-v4', () => {
  for (const v of [3, 4]) {
    it(`encodes the v${v} request byte-identically and platformatic parses our v${v} response`, () => {
      expectSameBody(schemas.apiVersionsRequest, v, { clientSoftwareName: 'gregor-test', clientSoftwareVersion: '1.0.0-ü' }, api('apiVersions', v).createRequest(...(['gregor-test', '1.0.0-ü'] as never[])));
      const apiKeys = [
        { apiKey: 0, minVersion: 0, maxVersion: 11 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ];
      const parsed = platformaticParse(schemas.apiVersionsResponse, v, { errorCode: 0, apiKeys, throttleTimeMs: 3 }, 'apiVersions');
      expect({ ...parsed, apiKeys: (parsed.apiKeys as Record<string, unknown>[]).map(({ name: _name, ...k }) => k) }).toEqual({ errorCode: 0, apiKeys, throttleTimeMs: 3 });
    });
  }
});

describe('platformatic golden: Metadata v9-v12', () => {
  // platformatic's v11 request still writes include_cluster_authorized_operations (Kafka: v8-10 only): v11 is a fixture
  for (const v of [9, 10, 12]) {
    it(`encodes the v${v} request byte-identically`, () => {
      expectSameBody(
        schemas.metadataRequest,
        v,
        { topics: [{ name: 'orders' }, { name: 'zahlungen-ü' }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: true },
        api('metadata', v).createRequest(...([['orders', 'zahlungen-ü'], true, true] as never[])),
      );
    });
  }
  for (const v of [9, 10, 11, 12]) {
    it(`platformatic parses our v${v} response`, () => {
      const response = {
        throttleTimeMs: 1,
        brokers: [
          { nodeId: 1, host: 'b1.local', port: 9092, rack: null },
          { nodeId: 2, host: 'b2.local', port: 9093, rack: 'r2' },
        ],
        clusterId: 'cluster-x',
        controllerId: 1,
        topics: [
          {
            errorCode: 0,
            name: 'orders',
            topicId: UUID_B64,
            isInternal: false,
            partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 7, replicaNodes: [1, 2], isrNodes: [1], offlineReplicas: [2] }],
            topicAuthorizedOperations: 0x1f8,
          },
        ],
        clusterAuthorizedOperations: -2147483648,
      };
      // platformatic reads cluster_authorized_operations (an int32 in v8-10, gone in v11) as a 1-byte boolean:
      // v9/v10 leave 3 of its bytes unread, v11 consumes the tagged-field count instead
      const unread = v <= 10 ? [0, 0, 0, 0] : v === 11 ? [] : [0];
      const parsed = platformaticParse(schemas.metadataResponse, v, response, 'metadata', unread);
      expect(parsed).toEqual({
        throttleTimeMs: 1,
        brokers: response.brokers,
        clusterId: 'cluster-x',
        controllerId: 1,
        topics: [
          {
            ...response.topics[0],
            // v9 has no topic id on the wire; platformatic fills in the name
            topicId: v === 9 ? 'orders' : UUID_DASHED,
          },
        ],
      });
    });
  }
});

describe('platformatic golden: Produce v8-v11', () => {
  const messages = (): Record<string, unknown>[] => [
    { topic: 'orders', partition: 0, key: Buffer.from('k1'), value: Buffer.from('eins'), timestamp: 1_700_000_000_000n, headers: new Map([[Buffer.from('h'), Buffer.from('x')]]) },
    { topic: 'orders', partition: 0, key: null, value: Buffer.from('zwei ü'), timestamp: 1_700_000_000_005n },
    { topic: 'orders', partition: 2, key: Buffer.from('k3'), value: Buffer.from('drei'), timestamp: 1_700_000_000_009n },
    { topic: 'audit', partition: 1, key: Buffer.from('k4'), value: Buffer.from('vier'), timestamp: 1_700_000_000_010n },
  ];
  const options = { transactionalId: 'tx-1', producerId: 77n, producerEpoch: 2 };
  for (const v of [8, 9, 10, 11]) {
    it(`encodes the v${v} request with record batches byte-identically and platformatic parses our v${v} response`, () => {
      const batch = (pick: (m: Record<string, unknown>) => boolean): Buffer => createRecordsBatch(messages().filter(pick), options).buffer;
      const ours = {
        transactionalId: 'tx-1',
        acks: -1,
        timeoutMs: 30000,
        topicData: [
          {
            name: 'orders',
            partitionData: [
              { index: 0, records: batch((m) => m.topic === 'orders' && m.partition === 0) },
              { index: 2, records: batch((m) => m.topic === 'orders' && m.partition === 2) },
            ],
          },
          { name: 'audit', partitionData: [{ index: 1, records: batch((m) => m.topic === 'audit') }] },
        ],
      };
      expectSameBody(schemas.produceRequest, v, ours, api('produce', v).createRequest(...([-1, 30000, messages(), options] as never[])));

      const response = {
        responses: [
          {
            name: 'orders',
            partitionResponses: [
              { index: 0, errorCode: 0, baseOffset: 10n, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null },
              { index: 2, errorCode: 0, baseOffset: 2n ** 60n, logAppendTimeMs: 1_700_000_000_123n, logStartOffset: 5n, recordErrors: [{ batchIndex: 0, batchIndexErrorMessage: null }], errorMessage: null },
            ],
          },
        ],
        throttleTimeMs: 12,
      };
      expect(platformaticParse(schemas.produceResponse, v, response, 'produce', v >= 9 ? [0] : [])).toEqual(response);
    });
  }
});

describe('platformatic golden: Fetch v12-v17', () => {
  const recordMessages = (): Record<string, unknown>[] => [
    { key: Buffer.from('k1'), value: Buffer.from('first'), timestamp: 1_700_000_000_000n },
    { key: Buffer.from('k2'), value: Buffer.from('zweite ü'), timestamp: 1_700_000_000_010n },
  ];
  for (const v of [12, 13, 14, 15, 16, 17]) {
    it(`encodes the v${v} request byte-identically and platformatic parses our v${v} response with its records`, () => {
      const topicRef = v === 12 ? 'orders' : UUID_DASHED;
      // platformatic v12 writes forgotten topics as uuids, but v12 carries names: leave them empty there
      const forgotten = v === 12 ? [] : [{ topic: UUID2_DASHED, partitions: [1, 2] }];
      const theirs = api('fetch', v).createRequest(
        ...([500, 1, 1_048_576, 1, 12, 3, [{ topicId: topicRef, partitions: [{ partition: 0, currentLeaderEpoch: 4, fetchOffset: 100n, lastFetchedEpoch: 2, partitionMaxBytes: 65536 }] }], forgotten, 'rack-a'] as never[]),
      );
      expectSameBody(
        schemas.fetchRequest,
        v,
        {
          replicaId: -1,
          maxWaitMs: 500,
          minBytes: 1,
          maxBytes: 1_048_576,
          isolationLevel: 1,
          sessionId: 12,
          sessionEpoch: 3,
          topics: [{ topic: 'orders', topicId: UUID_B64, partitions: [{ partition: 0, currentLeaderEpoch: 4, fetchOffset: 100n, lastFetchedEpoch: 2, logStartOffset: -1n, partitionMaxBytes: 65536 }] }],
          forgottenTopicsData: v === 12 ? [] : [{ topic: 'old', topicId: UUID2_B64, partitions: [1, 2] }],
          rackId: 'rack-a',
        },
        theirs,
      );

      const records = createRecordsBatch(recordMessages()).buffer;
      const partition = { errorCode: 0, highWatermark: 200n, lastStableOffset: 150n, logStartOffset: 0n, abortedTransactions: [{ producerId: 9n, firstOffset: 120n }], preferredReadReplica: -1 };
      const response = {
        throttleTimeMs: 4,
        errorCode: 0,
        sessionId: 12,
        responses: [
          {
            topic: 'orders',
            topicId: UUID_B64,
            partitions: [
              { partitionIndex: 0, ...partition, records },
              { partitionIndex: 1, ...partition, abortedTransactions: [], records: null },
            ],
          },
        ],
      };
      const parsed = platformaticParse(schemas.fetchResponse, v, response, 'fetch') as { responses: { partitions: { records?: { records: { key: Buffer; value: Buffer }[] }[] }[] }[] };
      const batches = parsed.responses[0]!.partitions[0]!.records!;
      expect(batches.flatMap((b) => b.records.map((r) => `${r.key.toString()}=${r.value.toString()}`))).toEqual(['k1=first', 'k2=zweite ü']);
      delete parsed.responses[0]!.partitions[0]!.records;
      expect(parsed).toEqual({
        throttleTimeMs: 4,
        errorCode: 0,
        sessionId: 12,
        responses: [
          {
            topicId: v === 12 ? 'orders' : UUID_DASHED,
            partitions: [
              { partitionIndex: 0, ...partition },
              { partitionIndex: 1, ...partition, abortedTransactions: [] },
            ],
          },
        ],
      });
    });
  }
});

describe('platformatic golden: ListOffsets v5-v9', () => {
  for (const v of [5, 6, 7, 8, 9]) {
    it(`encodes the v${v} request byte-identically and platformatic parses our v${v} response`, () => {
      const partitions = [
        { partitionIndex: 0, currentLeaderEpoch: 3, timestamp: -1n },
        { partitionIndex: 5, currentLeaderEpoch: -1, timestamp: 1_700_000_000_000n },
      ];
      expectSameBody(
        schemas.listOffsetsRequest,
        v,
        { replicaId: -1, isolationLevel: 1, topics: [{ name: 'orders', partitions }] },
        api('listOffsets', v).createRequest(...([-1, 1, [{ name: 'orders', partitions }]] as never[])),
      );
      const response = {
        throttleTimeMs: 2,
        topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 300n, leaderEpoch: 3 }] }],
      };
      expect(platformaticParse(schemas.listOffsetsResponse, v, response, 'listOffsets', v >= 6 ? [0] : [])).toEqual(response);
    });
  }
});

describe('platformatic golden: FindCoordinator v4-v6', () => {
  for (const v of [4, 5, 6]) {
    it(`encodes the v${v} request byte-identically and platformatic parses our v${v} response`, () => {
      expectSameBody(schemas.findCoordinatorRequest, v, { keyType: 1, coordinatorKeys: ['tx-1', 'tx-ü'] }, api('findCoordinator', v).createRequest(...([1, ['tx-1', 'tx-ü']] as never[])));
      const response = {
        throttleTimeMs: 0,
        coordinators: [
          { key: 'tx-1', nodeId: 1, host: 'broker-1', port: 9092, errorCode: 0, errorMessage: null },
          { key: 'tx-ü', nodeId: 2, host: 'broker-2', port: 9093, errorCode: 0, errorMessage: '' },
        ],
      };
      expect(platformaticParse(schemas.findCoordinatorResponse, v, response, 'findCoordinator')).toEqual(response);
    });
  }
});

describe('platformatic golden: JoinGroup v6-v9', () => {
  const metadata = Buffer.from([0, 3, 0, 0, 0, 1, 0, 1, 0x74, 0xff, 0xff, 0xff, 0xff]);
  for (const v of [6, 7, 8, 9]) {
    it(`encodes the v${v} request byte-identically and platformatic parses our v${v} response`, () => {
      const protocols = [
        { name: 'cooperative-sticky', metadata },
        { name: 'range', metadata: Buffer.alloc(0) },
      ];
      expectSameBody(
        schemas.joinGroupRequest,
        v,
        { groupId: 'group-1', sessionTimeoutMs: 45000, rebalanceTimeoutMs: 300000, memberId: 'member-1', groupInstanceId: null, protocolType: 'consumer', protocols, reason: 'rejoin ü' },
        api('joinGroup', v).createRequest(...(['group-1', 45000, 300000, 'member-1', null, 'consumer', protocols, 'rejoin ü'] as never[])),
      );
      const response = {
        throttleTimeMs: 0,
        errorCode: 0,
        generationId: 3,
        protocolType: 'consumer',
        protocolName: 'range',
        leader: 'member-1',
        skipAssignment: true,
        memberId: 'member-1',
        members: [
          { memberId: 'member-1', groupInstanceId: 'inst-1', metadata },
          { memberId: 'member-2', groupInstanceId: null, metadata: Buffer.alloc(0) },
        ],
      };
      expect(platformaticParse(schemas.joinGroupResponse, v, response, 'joinGroup')).toEqual({
        ...response,
        // not on the wire before v7 / v9: platformatic fills in '' / false
        protocolType: v >= 7 ? 'consumer' : '',
        skipAssignment: v >= 9,
      });
    });
  }
});

describe('platformatic golden: SyncGroup v4-v5, Heartbeat v4, LeaveGroup v4-v5', () => {
  const assignment = Buffer.from([0, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
  for (const v of [4, 5]) {
    it(`encodes the SyncGroup v${v} request byte-identically and platformatic parses our v${v} response`, () => {
      const assignments = [
        { memberId: 'member-1', assignment },
        { memberId: 'member-2', assignment: Buffer.alloc(0) },
      ];
      expectSameBody(
        schemas.syncGroupRequest,
        v,
        { groupId: 'group-1', generationId: 3, memberId: 'member-1', groupInstanceId: 'inst-1', protocolType: 'consumer', protocolName: 'range', assignments },
        api('syncGroup', v).createRequest(...(['group-1', 3, 'member-1', 'inst-1', 'consumer', 'range', assignments] as never[])),
      );
      const parsed = platformaticParse(schemas.syncGroupResponse, v, { throttleTimeMs: 1, errorCode: 0, protocolType: 'consumer', protocolName: 'range', assignment }, 'syncGroup');
      expect(parsed).toEqual({ throttleTimeMs: 1, errorCode: 0, protocolType: v >= 5 ? 'consumer' : null, protocolName: v >= 5 ? 'range' : null, assignment });
    });
  }

  it('encodes the Heartbeat v4 request byte-identically and platformatic parses our v4 response', () => {
    expectSameBody(
      schemas.heartbeatRequest,
      4,
      { groupId: 'group-1', generationId: 3, memberId: 'member-1', groupInstanceId: null },
      api('heartbeat', 4).createRequest(...(['group-1', 3, 'member-1', null] as never[])),
    );
    expect(platformaticParse(schemas.heartbeatResponse, 4, { throttleTimeMs: 9, errorCode: 0 }, 'heartbeat')).toEqual({ throttleTimeMs: 9, errorCode: 0 });
  });

  for (const v of [4, 5]) {
    it(`encodes the LeaveGroup v${v} request byte-identically and platformatic parses our v${v} response`, () => {
      const members = [
        { memberId: 'member-1', groupInstanceId: 'inst-1', reason: 'shutdown' },
        { memberId: 'member-2', groupInstanceId: null, reason: null },
      ];
      expectSameBody(schemas.leaveGroupRequest, v, { groupId: 'group-1', members }, api('leaveGroup', v).createRequest(...(['group-1', members] as never[])));
      const response = { throttleTimeMs: 0, errorCode: 0, members: members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: 0 })) };
      expect(platformaticParse(schemas.leaveGroupResponse, v, response, 'leaveGroup')).toEqual(response);
    });
  }
});

describe('platformatic golden: OffsetCommit v8-v9, OffsetFetch v8-v9', () => {
  for (const v of [8, 9]) {
    it(`encodes the OffsetCommit v${v} request byte-identically and platformatic parses our v${v} response`, () => {
      const topics = [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: 3, committedMetadata: null },
            { partitionIndex: 1, committedOffset: 2n ** 55n, committedLeaderEpoch: -1, committedMetadata: 'meta-ü' },
          ],
        },
      ];
      expectSameBody(
        schemas.offsetCommitRequest,
        v,
        { groupId: 'group-1', generationIdOrMemberEpoch: 7, memberId: 'member-1', groupInstanceId: 'inst-1', topics },
        api('offsetCommit', v).createRequest(...(['group-1', 7, 'member-1', 'inst-1', topics] as never[])),
      );
      const response = { throttleTimeMs: 0, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 0 }] }] };
      expect(platformaticParse(schemas.offsetCommitResponse, v, response, 'offsetCommit')).toEqual(response);
    });

    it(`encodes the OffsetFetch v${v} request byte-identically and platformatic parses our v${v} response`, () => {
      const groups = [
        { groupId: 'group-1', memberId: 'member-1', memberEpoch: 5, topics: [{ name: 'orders', partitionIndexes: [0, 1] }] },
        { groupId: 'group-2', memberId: null, memberEpoch: -1, topics: [] },
      ];
      expectSameBody(schemas.offsetFetchRequest, v, { groups, requireStable: true }, api('offsetFetch', v).createRequest(...([groups, true] as never[])));
      const response = {
        throttleTimeMs: 0,
        groups: [
          {
            groupId: 'group-1',
            topics: [
              {
                name: 'orders',
                partitions: [
                  { partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: 3, metadata: '', errorCode: 0 },
                  { partitionIndex: 1, committedOffset: -1n, committedLeaderEpoch: -1, metadata: null, errorCode: 0 },
                ],
              },
            ],
            errorCode: 0,
          },
        ],
      };
      expect(platformaticParse(schemas.offsetFetchResponse, v, response, 'offsetFetch')).toEqual(response);
    });
  }
});

describe('platformatic golden: CreateTopics v7, DeleteTopics v6, DescribeConfigs v3-v4', () => {
  it('encodes the CreateTopics v7 request byte-identically and platformatic parses our v7 response', () => {
    const topics = [
      { name: 'compacted', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact' }] },
      { name: 'placed', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [{ name: 'x', value: null }] },
    ];
    expectSameBody(schemas.createTopicsRequest, 7, { topics, timeoutMs: 5000, validateOnly: false }, api('createTopics', 7).createRequest(...([topics, 5000, false] as never[])));
    const response = {
      throttleTimeMs: 0,
      topics: [
        { name: 'compacted', topicId: UUID_B64, errorCode: 0, errorMessage: null, numPartitions: 3, replicationFactor: 1, configs: [{ name: 'cleanup.policy', value: 'compact', readOnly: false, configSource: 1, isSensitive: false }] },
        { name: 'placed', topicId: UUID2_B64, errorCode: 0, errorMessage: null, numPartitions: 1, replicationFactor: 2, configs: [] },
      ],
    };
    const parsed = platformaticParse(schemas.createTopicsResponse, 7, response, 'createTopics');
    expect(parsed).toEqual({ ...response, topics: [{ ...response.topics[0], topicId: UUID_DASHED }, { ...response.topics[1], topicId: UUID2_DASHED }] });
  });

  it('encodes the DeleteTopics v6 request byte-identically and platformatic parses our v6 response', () => {
    expectSameBody(
      schemas.deleteTopicsRequest,
      6,
      {
        topics: [
          { name: 'a', topicId: UUID_B64 },
          { name: null, topicId: UUID2_B64 },
        ],
        timeoutMs: 5000,
      },
      api('deleteTopics', 6).createRequest(
        ...([
          [
            { name: 'a', topicId: UUID_DASHED },
            { name: null, topicId: UUID2_DASHED },
          ],
          5000,
        ] as never[]),
      ),
    );
    const response = {
      throttleTimeMs: 0,
      responses: [
        { name: 'a', topicId: UUID_B64, errorCode: 0, errorMessage: null },
        { name: null, topicId: UUID2_B64, errorCode: 0, errorMessage: null },
      ],
    };
    expect(platformaticParse(schemas.deleteTopicsResponse, 6, response, 'deleteTopics')).toEqual({
      ...response,
      responses: [
        { ...response.responses[0], topicId: UUID_DASHED },
        { ...response.responses[1], topicId: UUID2_DASHED },
      ],
    });
  });

  // platformatic's v2 encoder writes include_documentation, a v3+ field: DescribeConfigs v0-v2 are covered by kafkajs
  for (const v of [3, 4]) {
    it(`encodes the DescribeConfigs v${v} request byte-identically and platformatic parses our v${v} response`, () => {
      const resources = [
        { resourceType: 2, resourceName: 'orders', configurationKeys: ['retention.ms'] },
        { resourceType: 4, resourceName: '1', configurationKeys: null },
      ];
      expectSameBody(schemas.describeConfigsRequest, v, { resources, includeSynonyms: true, includeDocumentation: true }, api('describeConfigs', v).createRequest(...([resources, true, true] as never[])));
      const response = {
        throttleTimeMs: 0,
        results: [
          {
            errorCode: 0,
            errorMessage: null,
            resourceType: 2,
            resourceName: 'orders',
            configs: [
              { name: 'retention.ms', value: '1000', readOnly: false, configSource: 1, isSensitive: false, synonyms: [{ name: 'retention.ms', value: '1000', source: 1 }], configType: 5, documentation: 'How long ü' },
              { name: 'secret', value: null, readOnly: true, configSource: 5, isSensitive: true, synonyms: [], configType: 2, documentation: null },
            ],
          },
        ],
      };
      expect(platformaticParse(schemas.describeConfigsResponse, v, response, 'describeConfigs', v >= 4 ? [0] : [])).toEqual(response);
    });
  }
});
