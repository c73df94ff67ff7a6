/**
 * READ_COMMITTED on a real broker with raw frames: Fetch reads up to the last stable offset and lists the
 * aborted transactions overlapping what it returns; READ_UNCOMMITTED reads to the high watermark and reports
 * the LSO; ListOffsets latest with read_committed answers the LSO; the gregor_partition_last_stable_offset
 * gauge follows it. Transactional batches are written into the partition log as a transaction's data lands
 * there (the produce path refuses them until a coordinator verifies transactions), and the markers through
 * the producer state's appendTxnMarker, the call the transaction coordinator makes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { buildRecordBatch } from '../../protocol/records/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import type { PartitionLog } from '../../storage/index.js';
import { decodeRecords, fetchRequestBody } from '../helpers/fetch-records.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: RunningBroker;
let client: RawClient;
let log: PartitionLog;
const TOPIC = 'rc';
const fetchHttp = globalThis.fetch;

beforeAll(async () => {
  broker = await startBroker({ port: 0, logLevel: 'silent', metrics: true });
  await broker.broker.topics.create({ name: TOPIC, numPartitions: 1, replicationFactor: 1, configs: {} });
  client = await RawClient.connect(broker.port);
  log = broker.broker.topics.partition(TOPIC, 0)!.log;
});
afterAll(async () => {
  client?.close();
  await broker?.close();
});

async function data(producerId: number, values: string[], transactional: boolean): Promise<void> {
  const records = values.map((v) => ({ key: null, value: Buffer.from(v) }));
  await log.append(await buildRecordBatch(records, { producerId, producerEpoch: 0, baseSequence: 0, transactional }), { leaderEpoch: 0 });
}
function marker(producerId: number, commit: boolean) {
  return broker.broker.producerStates.appendTxnMarker(log, { commit, producerId, producerEpoch: 0, coordinatorEpoch: 0 }, { leaderEpoch: 0 });
}

async function fetch(isolationLevel: number, offset = 0, version = 12) {
  const res = await client.request(schemas.fetchRequest, schemas.fetchResponse, version, fetchRequestBody(TOPIC, [{ partition: 0, fetchOffset: offset }], 1 << 20, undefined, isolationLevel));
  const p = res.responses[0]!.partitions[0]!;
  const records = await decodeRecords(p.records as Buffer | null);
  return {
    errorCode: p.errorCode,
    highWatermark: Number(p.highWatermark),
    lastStableOffset: Number(p.lastStableOffset),
    aborted: p.abortedTransactions?.map((t) => [Number(t.producerId), Number(t.firstOffset)]) ?? null,
    // control batches hold no data for a consumer
    values: records.filter((r) => r.batch === undefined || (r.batch.attributes & 0x20) === 0).map((r) => r.value),
    lastOffset: records.length === 0 ? -1 : records[records.length - 1]!.offset,
  };
}

async function listLatest(isolationLevel: number): Promise<number> {
  const res = await client.request(schemas.listOffsetsRequest, schemas.listOffsetsResponse, 7, {
    replicaId: -1,
    isolationLevel,
    topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }],
  });
  const p = res.topics[0]!.partitions[0]!;
  expect(p.errorCode).toBe(ErrorCode.NONE);
  return Number(p.offset);
}

async function lsoGauge(): Promise<number> {
  const text = await (await fetchHttp(`http://127.0.0.1:${broker.metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('gregor_partition_last_stable_offset{') && l.includes(`topic="${TOPIC}"`));
  return Number(line?.split(' ').pop());
}

describe('READ_COMMITTED', () => {
  it('reads up to the first ongoing transaction, then past committed and aborted ones with the aborts listed', async () => {
    await data(-1, ['plain-0'], false); // 0
    await data(100, ['t100-a', 't100-b'], true); // 1-2 producer 100 (will commit)
    await data(200, ['t200-a'], true); // 3 producer 200 (will abort)
    await data(-1, ['plain-4'], false); // 4

    let rc = await fetch(1);
    expect(rc).toMatchObject({ errorCode: ErrorCode.NONE, highWatermark: 5, lastStableOffset: 1, values: ['plain-0'], aborted: [] });
    const ru = await fetch(0);
    expect(ru).toMatchObject({ highWatermark: 5, lastStableOffset: 1, aborted: null, values: ['plain-0', 't100-a', 't100-b', 't200-a', 'plain-4'] });
    expect(await listLatest(1)).toBe(1);
    expect(await listLatest(0)).toBe(5);
    expect(await lsoGauge()).toBe(1);

    expect((await marker(100, true)).offset).toBe(5);
    rc = await fetch(1);
    expect(rc).toMatchObject({ lastStableOffset: 3, values: ['plain-0', 't100-a', 't100-b'], aborted: [] });

    expect((await marker(200, false)).offset).toBe(6);
    rc = await fetch(1);
    // everything is stable; the consumer gets producer 200's batch and drops it by the aborted list
    expect(rc).toMatchObject({ highWatermark: 7, lastStableOffset: 7, lastOffset: 6, aborted: [[200, 3]] });
    expect(await listLatest(1)).toBe(7);
    expect(await lsoGauge()).toBe(7);
    // a fetch past the aborted transaction's marker does not list it
    expect((await fetch(1, 7)).aborted).toEqual([]);
    // nor one that starts after it (the transaction's marker is below the fetch offset)
    await data(-1, ['plain-7'], false);
    expect((await fetch(1, 7)).aborted).toEqual([]);
    expect((await fetch(1, 4)).aborted).toEqual([[200, 3]]);
    // v4 (the first version with isolation levels) carries the same
    expect((await fetch(1, 0, 4)).aborted).toEqual([[200, 3]]);
  });
});
