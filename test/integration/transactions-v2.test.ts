/**
 * Transaction version 2 (KIP-890 part 2) on a real broker, in raw frames, as a Kafka 4 client drives it:
 * ApiVersions finalizes transaction.version 2 (and reports it supported 0-2, group.version too); a
 * transactional Produce v12 adds its partition without AddPartitionsToTxn, a TxnOffsetCommit v5 its group's
 * offsets partition without AddOffsetsToTxn; EndTxn v5 answers the bumped epoch, the markers carry it, the
 * next transaction runs with it and the old epoch is fenced; a read_committed Fetch sees the committed
 * records and skips the aborted ones; a restart on the same data directory keeps it all. With
 * gregor.transaction.version 1 the feature is finalized at 1 and those versions are served as the ones before.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { decodeRecords, fetchRequestBody } from '../helpers/fetch-records.js';
import { batchOf, produceRaw, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const TOPIC = 'txn-v2';
const GROUP = 'txn-v2-group';
const READ_COMMITTED = 1;
const CONFIG = { 'transaction.state.log.num.partitions': 3, 'offsets.topic.num.partitions': 3 };

let dataDir: string;
let broker: RunningBroker | undefined;
let client: RawClient | undefined;

async function start(config: Record<string, string | number> = CONFIG): Promise<void> {
  broker = await startBroker({ port: 0, logLevel: 'silent', dataDir, config });
  client = await RawClient.connect(broker.port);
}

async function stop(): Promise<void> {
  client?.close();
  await broker?.close();
  client = undefined;
  broker = undefined;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gregor-txn-v2-'));
  await start();
  await broker!.broker.topics.create({ name: TOPIC, numPartitions: 2, replicationFactor: 1, configs: {} });
});
afterAll(async () => {
  await stop();
  await rm(dataDir, { recursive: true, force: true });
});

interface Producer {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

async function retrying<T extends { errorCode: number }>(call: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    const res = await call();
    const retriable = [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.NOT_ENOUGH_REPLICAS];
    if (!retriable.includes(res.errorCode) || i > 200) return res;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function initProducer(transactionalId: string): Promise<Producer> {
  const res = await retrying(() =>
    client!.request(schemas.initProducerIdRequest, schemas.initProducerIdResponse, 5, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 }),
  );
  expect(res.errorCode).toBe(ErrorCode.NONE);
  return { transactionalId, producerId: res.producerId, producerEpoch: res.producerEpoch };
}

async function produceTxn(p: Producer, partition: number, keys: string, baseSequence: number, version = 12): Promise<{ errorCode: number; baseOffset: bigint }> {
  const records = await batchOf(testRecords(2, keys), { producerId: Number(p.producerId), producerEpoch: p.producerEpoch, baseSequence, transactional: true });
  return retrying(() => produceRaw(client!, TOPIC, partition, records, { version, acks: -1, transactionalId: p.transactionalId }));
}

async function txnOffsetCommit(p: Producer, offset: number, version = 5): Promise<number> {
  const res = await client!.request(schemas.txnOffsetCommitRequest, schemas.txnOffsetCommitResponse, version, {
    transactionalId: p.transactionalId,
    groupId: GROUP,
    producerId: p.producerId,
    producerEpoch: p.producerEpoch,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: '' }] }],
  });
  return res.topics[0]!.partitions[0]!.errorCode;
}

async function endTxn(p: Producer, committed: boolean, version = 5) {
  return client!.request(schemas.endTxnRequest, schemas.endTxnResponse, version, { transactionalId: p.transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, committed });
}

async function described(transactionalId: string) {
  const res = await client!.request(schemas.describeTransactionsRequest, schemas.describeTransactionsResponse, 0, { transactionalIds: [transactionalId] });
  const s = res.transactionStates[0]!;
  return { state: s.transactionState, producerId: s.producerId, producerEpoch: s.producerEpoch, topics: s.topics.map((t) => `${t.topic}:${t.partitions.join(',')}`).sort() };
}

async function completed(transactionalId: string, state: string): Promise<void> {
  for (let polls = 0; (await described(transactionalId)).state !== state; polls++) {
    if (polls > 2000) throw new Error(`${transactionalId} never reached ${state}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The group's committed offset of partition 0 (require_stable: UNSTABLE_OFFSET_COMMIT while a transaction holds one). */
async function committedOffset(): Promise<{ errorCode: number; offset: number }> {
  const res = await client!.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 7, { groupId: GROUP, topics: [{ name: TOPIC, partitionIndexes: [0] }], requireStable: true });
  const p = res.topics[0]!.partitions[0]!;
  return { errorCode: p.errorCode, offset: Number(p.committedOffset) };
}

/** read_committed: the keys of the data records a consumer sees (aborted transactions skipped), and each marker's epoch. */
async function readCommitted(partition: number): Promise<{ keys: string[]; markerEpochs: number[]; lso: number; hw: number }> {
  const res = await client!.request(schemas.fetchRequest, schemas.fetchResponse, 12, fetchRequestBody(TOPIC, [{ partition, fetchOffset: 0 }], 8 << 20, undefined, READ_COMMITTED));
  const part = res.responses[0]!.partitions[0]!;
  const aborted = [...(part.abortedTransactions ?? [])].map((t) => ({ producerId: Number(t.producerId), firstOffset: Number(t.firstOffset) })).sort((a, b) => a.firstOffset - b.firstOffset);
  const aborting = new Set<number>();
  const keys: string[] = [];
  const markerEpochs: number[] = [];
  for (const r of await decodeRecords(part.records as Buffer | null)) {
    const b = r.batch!;
    while (aborted.length > 0 && aborted[0]!.firstOffset <= r.offset) aborting.add(aborted.shift()!.producerId);
    if ((b.attributes & 0x20) !== 0) {
      aborting.delete(b.producerId);
      markerEpochs.push(b.producerEpoch);
      continue;
    }
    if (!aborting.has(b.producerId) && r.key !== null) keys.push(r.key);
  }
  return { keys, markerEpochs, lso: Number(part.lastStableOffset), hw: Number(part.highWatermark) };
}

describe('transaction version 2 (KIP-890 part 2)', () => {
  it('ApiVersions v3+ lists transaction.version 0-2 and group.version 0-1, finalized at 2 and 1; EndTxn and TxnOffsetCommit up to v5; v3 sends minimum 0 as 1', async () => {
    const v4 = await client!.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 4, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    expect(v4.supportedFeatures).toEqual([
      { name: 'group.version', minVersion: 0, maxVersion: 1 },
      { name: 'transaction.version', minVersion: 0, maxVersion: 2 },
    ]);
    expect(v4.finalizedFeatures).toEqual([
      { name: 'group.version', minVersionLevel: 1, maxVersionLevel: 1 },
      { name: 'transaction.version', minVersionLevel: 2, maxVersionLevel: 2 },
    ]);
    expect(v4.finalizedFeaturesEpoch).toBe(0n);
    const max = (key: number) => v4.apiKeys.find((k) => k.apiKey === key)?.maxVersion;
    expect([max(26), max(28)]).toEqual([5, 5]);
    const v3 = await client!.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    expect(v3.supportedFeatures.map((f) => f.minVersion)).toEqual([1, 1]);
  });

  it('Produce v12 and TxnOffsetCommit v5 add their partitions; EndTxn v5 bumps the epoch; the next transaction runs with it; the old epoch is fenced; read_committed sees commit and abort; a restart keeps it', async () => {
    const p0 = await initProducer('tv2');
    // no AddPartitionsToTxn, no AddOffsetsToTxn
    expect(await produceTxn(p0, 0, 'c', 0)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n });
    expect(await txnOffsetCommit(p0, 2)).toBe(ErrorCode.NONE);
    const ongoing = await described('tv2');
    expect(ongoing.state).toBe('Ongoing');
    expect(ongoing.topics).toEqual([`__consumer_offsets:${broker!.broker.groups!.partitionFor(GROUP)}`, `${TOPIC}:0`]);
    expect((await committedOffset()).errorCode).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT);

    const end1 = await endTxn(p0, true);
    expect(end1).toMatchObject({ errorCode: ErrorCode.NONE, producerId: p0.producerId, producerEpoch: p0.producerEpoch + 1 });
    await completed('tv2', 'CompleteCommit');
    expect(await readCommitted(0)).toEqual({ keys: ['c-0', 'c-1'], markerEpochs: [p0.producerEpoch + 1], lso: 3, hw: 3 });
    expect(await committedOffset()).toEqual({ errorCode: ErrorCode.NONE, offset: 2 });
    // a retry of the end with the old epoch answers the same
    expect(await endTxn(p0, true)).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: p0.producerEpoch + 1 });

    // the old epoch is fenced: its produce is refused, nothing added
    expect((await produceTxn(p0, 1, 'old', 2)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect((await endTxn(p0, false)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);

    // the next transaction with the bumped epoch, aborted
    const p1 = { ...p0, producerEpoch: end1.producerEpoch };
    expect((await produceTxn(p1, 0, 'a', 0)).errorCode).toBe(ErrorCode.NONE);
    expect(await txnOffsetCommit(p1, 5)).toBe(ErrorCode.NONE);
    const end2 = await endTxn(p1, false);
    expect(end2).toMatchObject({ errorCode: ErrorCode.NONE, producerId: p0.producerId, producerEpoch: p0.producerEpoch + 2 });
    await completed('tv2', 'CompleteAbort');
    expect(await readCommitted(0)).toEqual({ keys: ['c-0', 'c-1'], markerEpochs: [p0.producerEpoch + 1, p0.producerEpoch + 2], lso: 6, hw: 6 });
    expect(await committedOffset()).toEqual({ errorCode: ErrorCode.NONE, offset: 2 });
    expect((await produceTxn(p1, 0, 'stale', 2)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);

    // a restart on the same data directory: the epoch, the log and the offsets stay; the producer goes on
    await stop();
    await start();
    const p2 = { ...p0, producerEpoch: end2.producerEpoch };
    expect((await retrying(async () => ({ errorCode: (await described('tv2')).state === 'CompleteAbort' ? 0 : ErrorCode.COORDINATOR_LOAD_IN_PROGRESS }))).errorCode).toBe(0);
    expect(await described('tv2')).toMatchObject({ producerId: p0.producerId, producerEpoch: p2.producerEpoch });
    expect((await produceTxn(p1, 1, 'stale', 0)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect((await produceTxn(p2, 1, 'r', 0)).errorCode).toBe(ErrorCode.NONE);
    expect(await endTxn(p2, true)).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: p0.producerEpoch + 3 });
    await completed('tv2', 'CompleteCommit');
    expect(await readCommitted(1)).toMatchObject({ keys: ['r-0', 'r-1'], markerEpochs: [p0.producerEpoch + 3] });
    expect((await readCommitted(0)).keys).toEqual(['c-0', 'c-1']);
  });

  it('an abort with nothing produced bumps the epoch too; a commit of nothing is INVALID_TXN_STATE', async () => {
    const p = await initProducer('tv2-empty');
    expect((await endTxn(p, true)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(await endTxn(p, false)).toMatchObject({ errorCode: ErrorCode.NONE, producerId: p.producerId, producerEpoch: p.producerEpoch + 1 });
  });
});

describe('transaction.version pinned at 1 (gregor.transaction.version=1)', () => {
  it('transaction.version finalized at 1; Produce v12 and TxnOffsetCommit v5 verify as v11 and v4; EndTxn v5 is served as v4 (an abort of nothing INVALID_TXN_STATE, no bump, -1 answered)', async () => {
    await stop();
    await start({ ...CONFIG, 'gregor.transaction.version': 1 });
    const v4 = await client!.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 4, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    expect(v4.finalizedFeatures).toEqual([
      { name: 'group.version', minVersionLevel: 1, maxVersionLevel: 1 },
      { name: 'transaction.version', minVersionLevel: 1, maxVersionLevel: 1 },
    ]);
    const p = await initProducer('tv1');
    expect((await produceTxn(p, 1, 'x', 0)).errorCode).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    expect(await txnOffsetCommit(p, 1)).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    expect(await endTxn(p, false)).toMatchObject({ errorCode: ErrorCode.INVALID_TXN_STATE, producerId: -1n, producerEpoch: -1 });
    expect(await described('tv1')).toMatchObject({ producerEpoch: p.producerEpoch });
  });
});
