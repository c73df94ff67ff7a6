/**
 * Assignment epochs of consumer groups (KIP-1251, Kafka 4.3) on a real broker
 * socket with raw frames: a member's offset commit that raced with its epoch
 * bump (sent at its previous epoch) is accepted for the partitions it held
 * then, and refused (STALE_MEMBER_EPOCH; ILLEGAL_GENERATION for
 * TxnOffsetCommit) for a partition it was assigned only at its new epoch or
 * does not hold; the epochs survive a restart of the broker, read back from
 * the group's records in `__consumer_offsets`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

const { consumerGroupHeartbeatRequest: hbReq, consumerGroupHeartbeatResponse: hbRes } = schemas;
type HeartbeatBody = MessageInput<typeof hbReq>;
type HeartbeatAnswer = MessageValue<typeof hbRes>;

const GROUP = 'kip1251';
const config = { 'offsets.topic.num.partitions': 1, 'transaction.state.log.num.partitions': 1, 'group.initial.rebalance.delay.ms': 0 };
/** Answers a client retries: the coordinator's partition is being created or loaded, a transaction completing. */
const RETRIABLE: ReadonlySet<number> = new Set([ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR, ErrorCode.CONCURRENT_TRANSACTIONS]);

/** A member as the client keeps it. */
interface Member {
  readonly memberId: string;
  epoch: number;
  owned: Array<{ topicId: string; partitions: number[] }>;
}

async function retried<T>(send: () => Promise<T>, codeOf: (res: T) => number): Promise<T> {
  for (let i = 0; ; i++) {
    const res = await send();
    if (!RETRIABLE.has(codeOf(res)) || i > 400) return res;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('offset commits at an older member epoch (KIP-1251)', () => {
  let broker: RunningBroker;
  let dataDir: string;
  let c: RawClient;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    dataDir = await mkdtemp(pathJoin(tmpdir(), 'gregor-kip1251-'));
    broker = await startBroker({ port: 0, dataDir, config, logLevel: 'silent' });
    for (const [name, numPartitions] of [['ae-orders', 2], ['ae-other', 1], ['ae-extra', 1]] as const) {
      await broker.broker.topics.create({ name, numPartitions, replicationFactor: 1, configs: {} });
      ids[name] = broker.broker.topics.get(name)!.topicId;
    }
    c = await RawClient.connect(broker.port, '127.0.0.1', 'kip1251');
  });
  afterAll(async () => {
    c?.close();
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  function heartbeat(body: HeartbeatBody): Promise<HeartbeatAnswer> {
    return retried(() => c.request(hbReq, hbRes, 1, body), (res) => res.errorCode);
  }

  async function join(topics: string[]): Promise<Member> {
    const memberId = randomBytes(16).toString('base64url');
    const res = await heartbeat({ groupId: GROUP, memberId, memberEpoch: 0, rebalanceTimeoutMs: 30_000, subscribedTopicNames: topics, topicPartitions: [] });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    return { memberId, epoch: res.memberEpoch, owned: res.assignment?.topicPartitions ?? [] };
  }

  /** A heartbeat with what the member owns (and a new subscription when given). */
  async function beat(m: Member, subscribedTopicNames: string[] | null = null): Promise<void> {
    const res = await heartbeat({ groupId: GROUP, memberId: m.memberId, memberEpoch: m.epoch, subscribedTopicNames, topicPartitions: m.owned });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    m.epoch = res.memberEpoch;
    if (res.assignment !== null) m.owned = res.assignment.topicPartitions;
  }

  function owned(m: Member): string[] {
    const names = new Map(Object.entries(ids).map(([name, id]) => [id, name]));
    return m.owned.flatMap((t) => t.partitions.map((p) => `${names.get(t.topicId)}-${p}`)).sort();
  }

  /** OffsetCommit v9 of the member at `epoch`: the error code of each partition, as `topic-partition` → code. */
  async function commit(m: Member, epoch: number, partitions: Array<[string, number]>, offset = 10n): Promise<number[]> {
    const res = await retried(
      () =>
        c.request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 9, {
          groupId: GROUP,
          generationIdOrMemberEpoch: epoch,
          memberId: m.memberId,
          groupInstanceId: null,
          topics: partitions.map(([name, partitionIndex]) => ({ name, partitions: [{ partitionIndex, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }] })),
        }),
      (r) => r.topics[0]!.partitions[0]!.errorCode,
    );
    return res.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));
  }

  async function committedOffset(topic: string, partition: number): Promise<bigint> {
    const res = await c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 8, { groups: [{ groupId: GROUP, topics: [{ name: topic, partitionIndexes: [partition] }] }], requireStable: false });
    return res.groups[0]!.topics[0]!.partitions[0]!.committedOffset;
  }

  let a: Member;

  it('a member whose epoch was bumped without a change of its partitions commits at its previous epoch: accepted', async () => {
    a = await join(['ae-orders']);
    expect(a.epoch).toBe(1);
    expect(owned(a)).toEqual(['ae-orders-0', 'ae-orders-1']);
    // another member joins for another topic: the group epoch moves, A's partitions stay
    const b = await join(['ae-other']);
    expect(b.epoch).toBe(2);
    await beat(a);
    expect(a.epoch).toBe(2);
    expect(owned(a)).toEqual(['ae-orders-0', 'ae-orders-1']);

    // the commit A sent at epoch 1 arrives now (the strict check of Kafka before 4.3 refused it)
    expect(await commit(a, 1, [['ae-orders', 0], ['ae-orders', 1]], 11n)).toEqual([ErrorCode.NONE, ErrorCode.NONE]);
    expect(await committedOffset('ae-orders', 1)).toBe(11n);
    // ahead of its epoch, or a partition it does not hold at an older epoch: STALE_MEMBER_EPOCH
    expect(await commit(a, 3, [['ae-orders', 0]])).toEqual([ErrorCode.STALE_MEMBER_EPOCH]);
    expect(await commit(a, 1, [['ae-other', 0]])).toEqual([ErrorCode.STALE_MEMBER_EPOCH]);
    expect(await commit(a, 2, [['ae-orders', 0]], 12n)).toEqual([ErrorCode.NONE]);
  });

  it('a partition assigned only at the new epoch is refused at the previous one, and so is the whole commit holding it', async () => {
    await beat(a, ['ae-orders', 'ae-extra']);
    expect(a.epoch).toBe(3);
    expect(owned(a)).toEqual(['ae-extra-0', 'ae-orders-0', 'ae-orders-1']);

    expect(await commit(a, 2, [['ae-extra', 0]])).toEqual([ErrorCode.STALE_MEMBER_EPOCH]);
    expect(await commit(a, 2, [['ae-orders', 0], ['ae-extra', 0]], 13n)).toEqual([ErrorCode.STALE_MEMBER_EPOCH, ErrorCode.STALE_MEMBER_EPOCH]);
    expect(await committedOffset('ae-orders', 0)).toBe(12n);
    expect(await commit(a, 2, [['ae-orders', 0]], 14n)).toEqual([ErrorCode.NONE]);
    expect(await commit(a, 3, [['ae-extra', 0]], 5n)).toEqual([ErrorCode.NONE]);
    expect(await committedOffset('ae-extra', 0)).toBe(5n);
  });

  it('TxnOffsetCommit of the member: accepted at its previous epoch for a partition it held then, ILLEGAL_GENERATION for one it got later', async () => {
    const init = await retried(
      () => c.request(schemas.initProducerIdRequest, schemas.initProducerIdResponse, 4, { transactionalId: 'kip1251-tx', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 }),
      (r) => r.errorCode,
    );
    expect(init.errorCode).toBe(ErrorCode.NONE);
    const producer = { transactionalId: 'kip1251-tx', producerId: init.producerId, producerEpoch: init.producerEpoch };
    const added = await retried(() => c.request(schemas.addOffsetsToTxnRequest, schemas.addOffsetsToTxnResponse, 3, { ...producer, groupId: GROUP }), (r) => r.errorCode);
    expect(added.errorCode).toBe(ErrorCode.NONE);
    const txnCommit = async (epoch: number, topic: string, offset: bigint): Promise<number> => {
      const res = await retried(
        () =>
          c.request(schemas.txnOffsetCommitRequest, schemas.txnOffsetCommitResponse, 3, {
            ...producer,
            groupId: GROUP,
            generationId: epoch,
            memberId: a.memberId,
            groupInstanceId: null,
            topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }] }],
          }),
        (r) => r.topics[0]!.partitions[0]!.errorCode,
      );
      return res.topics[0]!.partitions[0]!.errorCode;
    };
    expect(await txnCommit(2, 'ae-orders', 20n)).toBe(ErrorCode.NONE);
    expect(await txnCommit(2, 'ae-extra', 20n)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(await txnCommit(4, 'ae-orders', 21n)).toBe(ErrorCode.ILLEGAL_GENERATION);
    const ended = await retried(() => c.request(schemas.endTxnRequest, schemas.endTxnResponse, 3, { ...producer, committed: true }), (r) => r.errorCode);
    expect(ended.errorCode).toBe(ErrorCode.NONE);
    // the transaction's marker applies the offset (a generous bound: the marker is written in the background)
    const deadline = Date.now() + 30_000;
    while ((await committedOffset('ae-orders', 0)) !== 20n) {
      if (Date.now() > deadline) throw new Error('the transactional offset was never applied');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await committedOffset('ae-extra', 0)).toBe(5n);
  });

  it('the assignment epochs survive a restart: read back from the current assignment records', async () => {
    c.close();
    await broker.close();
    broker = await startBroker({ port: 0, dataDir, config, logLevel: 'silent' });
    c = await RawClient.connect(broker.port, '127.0.0.1', 'kip1251');
    // the partitions of ae-orders were assigned at epoch 1, ae-extra-0 at 3; the member is at 3
    expect(await commit(a, 1, [['ae-orders', 0], ['ae-orders', 1]], 30n)).toEqual([ErrorCode.NONE, ErrorCode.NONE]);
    expect(await commit(a, 2, [['ae-extra', 0]])).toEqual([ErrorCode.STALE_MEMBER_EPOCH]);
    expect(await commit(a, 3, [['ae-extra', 0]], 31n)).toEqual([ErrorCode.NONE]);
    expect(await committedOffset('ae-orders', 1)).toBe(30n);
    expect(await committedOffset('ae-extra', 0)).toBe(31n);
  });
});
