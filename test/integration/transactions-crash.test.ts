/**
 * Transactions through crashes: a broker process dies at every step of a commit and of an abort, and the
 * broker restarted on the same data directory ends the transaction as Kafka 3.9 does.
 *
 * The steps, each an exact point (txn-crash-child.ts: the broker process kills itself inside the write call
 * that writes the chosen record, so nothing after it happens): (1) just before the PrepareCommit/PrepareAbort
 * record is written; (2) after it is durable, just before the first marker; (3) just after the first of the two
 * partitions' markers (the other partition has none); (4) after both markers, just before the
 * CompleteCommit/CompleteAbort record. Each as kill -9 (the page cache keeps what was written), and some as a
 * power cut (FaultyFs.crash: unsynced writes dropped): the Prepare record written but not yet synced (not
 * acknowledged), the first marker written but not synced after the Prepare record was acknowledged, the
 * Complete record written but not synced. Two kills in a row: the restarted broker killed again between the
 * markers it writes again, or between the markers of the timeout abort. And a clean stop (SIGTERM) while the
 * disk stalls just after the first marker or the Prepare record.
 *
 * What Kafka does at the next start (TransactionStateManager loads `__transaction_state`;
 * TransactionCoordinator.onElection): a transaction loaded in PrepareCommit/PrepareAbort has its markers sent
 * again to every partition and is completed; one loaded Ongoing stays so until its transaction.timeout.ms
 * from its start has passed, then the timeout task aborts it with the producer's epoch bumped
 * (abortTimedOutTransactions). Checked after each restart: the state the files held at the crash (which
 * record, which markers), the transaction's outcome (a read_committed Fetch, filtered as a client filters it
 * with aborted_transactions, never sees aborted data nor one partition of a commit without the other once
 * both are stable), the LSO of every partition reaching its high watermark, the markers in the files, the
 * client's retried EndTxn (NONE for a completed one, PRODUCER_FENCED after the timeout's fence), the
 * coordinator's state (DescribeTransactions), and the producer's next InitProducerId (epoch bumped) with a
 * new transaction that commits.
 *
 * Coordinator failover within one node: several transactional ids with open transactions when the broker
 * stops cleanly or is killed (one of them preparing its commit with transactional offsets): after the restart
 * an open one is aborted at its timeout (measured from its original start), another by its producer's
 * InitProducerId (TransactionCoordinator.handleInitProducerId: fence, abort, CONCURRENT_TRANSACTIONS, then the
 * epoch bumped), the preparing one completes with its offsets, kafkajs producers with the same ids init again
 * and commit, and a kafkajs READ_COMMITTED consumer reads exactly the committed data.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { ensureBuilt, killAll, type BrokerProcess } from '../helpers/broker-process.js';
import { decodeRecords, fetchRequestBody } from '../helpers/fetch-records.js';
import { batchOf, produceRaw } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';
import { markersOnDisk, removeTxnBrokerScript, runTxnBrokerToExit, spawnTxnBroker, txnStatesOnDisk, type TxnCrashPoint } from '../helpers/txn-crash.js';

const TOPIC = 'txc';
const PARTITIONS = [0, 1] as const;
/** The client's transaction.timeout.ms: short, so a transaction left Ongoing is aborted soon after the restart. */
const TXN_TIMEOUT_MS = 1000;
const CONFIG = {
  'transaction.state.log.num.partitions': 1,
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': 100,
  'offsets.topic.num.partitions': 1,
  'group.initial.rebalance.delay.ms': 0,
};
const READ_COMMITTED = 1;

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'gregor-txn-crash-'));
  dirs.push(d);
  return d;
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const brokers: RunningBroker[] = [];
/** One line per case for the report: the matrix as observed. */
const observed: string[] = [];
beforeAll(() => ensureBuilt(), 300_000);
afterEach(async () => {
  killAll();
  for (const b of brokers.splice(0)) await b.close().catch(() => undefined);
});
afterAll(async () => {
  console.log(`transaction crash matrix:\n${observed.join('\n')}`);
  removeTxnBrokerScript();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

// ------------------------------------------------------------------ a transactional producer in raw frames

interface TxnProducer {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

/** Answers a client retries (the coordinator loading, a transaction still being completed). */
const RETRIABLE = new Set<number>([ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR, ErrorCode.CONCURRENT_TRANSACTIONS]);

async function retrying<T>(what: string, attempt: () => Promise<{ errorCode: number; value: T }>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { errorCode, value } = await attempt();
    if (errorCode === ErrorCode.NONE) return value;
    if (!RETRIABLE.has(errorCode) || Date.now() > deadline) throw new Error(`${what}: error ${errorCode}`);
    await sleep(50);
  }
}

async function initProducer(c: RawClient, transactionalId: string, timeoutMs = TXN_TIMEOUT_MS): Promise<TxnProducer> {
  return retrying('InitProducerId', async () => {
    const found = await c.request(schemas.findCoordinatorRequest, schemas.findCoordinatorResponse, 4, { keyType: 1, coordinatorKeys: [transactionalId] });
    const foundError = found.coordinators[0]!.errorCode;
    if (foundError !== ErrorCode.NONE) return { errorCode: foundError, value: { transactionalId, producerId: -1n, producerEpoch: -1 } };
    const r = await c.request(schemas.initProducerIdRequest, schemas.initProducerIdResponse, 4, { transactionalId, transactionTimeoutMs: timeoutMs, producerId: -1n, producerEpoch: -1 });
    return { errorCode: r.errorCode, value: { transactionalId, producerId: r.producerId, producerEpoch: r.producerEpoch } };
  });
}

async function addPartitions(c: RawClient, p: TxnProducer, partitions: readonly number[]): Promise<void> {
  await retrying('AddPartitionsToTxn', async () => {
    const r = await c.request(schemas.addPartitionsToTxnRequest, schemas.addPartitionsToTxnResponse, 3, {
      v3AndBelowTransactionalId: p.transactionalId,
      v3AndBelowProducerId: p.producerId,
      v3AndBelowProducerEpoch: p.producerEpoch,
      v3AndBelowTopics: [{ name: TOPIC, partitions: [...partitions] }],
    });
    const codes = r.resultsByTopicV3AndBelow.flatMap((t) => t.resultsByPartition.map((x) => x.partitionErrorCode));
    return { errorCode: codes.find((x) => x !== ErrorCode.NONE) ?? ErrorCode.NONE, value: undefined };
  });
}

async function produceTxn(c: RawClient, p: TxnProducer, partition: number, values: readonly string[], baseSequence: number): Promise<void> {
  const batch = await batchOf(
    values.map((v) => ({ key: null, value: Buffer.from(v) })),
    { producerId: Number(p.producerId), producerEpoch: p.producerEpoch, baseSequence, transactional: true },
  );
  const r = await produceRaw(c, TOPIC, partition, batch, { acks: -1, transactionalId: p.transactionalId });
  expect(r.errorCode, `transactional produce to ${TOPIC}-${partition}`).toBe(ErrorCode.NONE);
}

function endTxn(c: RawClient, p: TxnProducer, commit: boolean): Promise<number> {
  return c
    .request(schemas.endTxnRequest, schemas.endTxnResponse, 3, { transactionalId: p.transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, committed: commit })
    .then((r) => r.errorCode);
}

/** The values a transaction writes to one partition. */
const valuesOf = (tag: string, partition: number): string[] => [0, 1, 2].map((i) => `${tag}-p${partition}-${i}`);

/** A transaction over both partitions (or those given), left open (the caller ends it). */
async function openTransaction(c: RawClient, p: TxnProducer, tag: string, partitions: readonly number[] = PARTITIONS): Promise<void> {
  await addPartitions(c, p, partitions);
  for (const partition of partitions) await produceTxn(c, p, partition, valuesOf(tag, partition), 0);
}

// ------------------------------------------------------------------ what a read_committed client sees

interface CommittedView {
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  /** The data records a read_committed consumer keeps (aborted transactions and control batches dropped). */
  readonly values: string[];
}

/**
 * A READ_COMMITTED Fetch of one partition from offset 0, filtered as Kafka's consumer filters it
 * (CompletedFetch): from an aborted transaction's first offset, its producer's transactional batches are
 * dropped until that producer's control batch; control batches are never returned.
 */
async function readCommitted(c: RawClient, partition: number, topic = TOPIC): Promise<CommittedView> {
  const res = await c.request(schemas.fetchRequest, schemas.fetchResponse, 12, fetchRequestBody(topic, [{ partition, fetchOffset: 0 }], 1 << 20, undefined, READ_COMMITTED));
  const p = res.responses[0]!.partitions[0]!;
  expect(p.errorCode).toBe(ErrorCode.NONE);
  const aborted = (p.abortedTransactions ?? []).map((t) => ({ producerId: Number(t.producerId), firstOffset: Number(t.firstOffset) })).sort((a, b) => a.firstOffset - b.firstOffset);
  const active = new Set<number>();
  const values: string[] = [];
  for (const r of await decodeRecords(p.records as Buffer | null)) {
    while (aborted.length > 0 && aborted[0]!.firstOffset <= r.offset) active.add(aborted.shift()!.producerId);
    const h = r.batch!;
    if ((h.attributes & 0x20) !== 0) {
      active.delete(h.producerId);
      continue;
    }
    if ((h.attributes & 0x10) !== 0 && active.has(h.producerId)) continue;
    values.push(r.value ?? '');
  }
  return { highWatermark: Number(p.highWatermark), lastStableOffset: Number(p.lastStableOffset), values };
}

/**
 * Reads both partitions until each is stable (LSO = high watermark), checking every read on the way with
 * `check`; fails when a partition's LSO stays below its high watermark for 15 s (stuck).
 */
async function untilStable(c: RawClient, check: (partition: number, view: CommittedView) => void): Promise<CommittedView[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const views = await Promise.all(PARTITIONS.map((partition) => readCommitted(c, partition)));
    views.forEach((v, partition) => check(partition, v));
    if (views.every((v) => v.lastStableOffset === v.highWatermark)) return views;
    if (Date.now() > deadline) throw new Error(`LSO stuck: ${JSON.stringify(views.map((v) => [v.lastStableOffset, v.highWatermark]))}`);
    await sleep(50);
  }
}

async function describeTxn(c: RawClient, transactionalId: string) {
  const r = await c.request(schemas.describeTransactionsRequest, schemas.describeTransactionsResponse, 0, { transactionalIds: [transactionalId] });
  return r.transactionStates[0]!;
}

async function createTopic(port: number): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    const r = await c.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 4, { topics: [{ name: TOPIC, numPartitions: PARTITIONS.length, replicationFactor: 1 }], timeoutMs: 5000 });
    expect(r.topics[0]!.errorCode).toBe(ErrorCode.NONE);
  } finally {
    c.close();
  }
}

async function diedAtItsPoint(child: BrokerProcess): Promise<string> {
  const exit = await Promise.race([child.exited, sleep(15_000).then(() => undefined)]);
  expect(exit, `the broker did not reach its crash point:\n${child.output()}`).toEqual({ code: null, signal: 'SIGKILL' });
  const line = /crash: (.*)/.exec(child.output());
  expect(line, child.output()).not.toBeNull();
  return line![1]!;
}

/** A restarted broker run to its crash point, which it may reach before it is ready (completing what it loaded). */
async function diedAgainAtItsPoint(opts: Parameters<typeof runTxnBrokerToExit>[0]): Promise<string> {
  const { exit, output } = await runTxnBrokerToExit(opts, 15_000);
  expect(exit, `the broker did not reach its crash point:\n${output}`).toEqual({ code: null, signal: 'SIGKILL' });
  const line = /crash: (.*)/.exec(output);
  expect(line, output).not.toBeNull();
  return line![1]!;
}

// ------------------------------------------------------------------ the matrix

type Outcome = 'commit' | 'abort';

interface Case {
  readonly step: string;
  readonly end: Outcome;
  readonly point: TxnCrashPoint;
  /** A second crash: the broker restarted on the files dies again at this point before the last restart. */
  readonly again?: TxnCrashPoint;
  /** What the files hold at the crash: the id's state in __transaction_state and the partitions with a marker. */
  readonly atCrash: { state: 'Ongoing' | 'Prepare'; markers: number };
  /** The transaction's outcome after the restart (Kafka 3.9's). */
  readonly outcome: Outcome;
}

const kill = (at: TxnCrashPoint['at'], when: TxnCrashPoint['when']): TxnCrashPoint => ({ at, when, power: false });
const power = (at: TxnCrashPoint['at'], when: TxnCrashPoint['when']): TxnCrashPoint => ({ at, when, power: true });

const CASES: Case[] = (['commit', 'abort'] as const).flatMap((end): Case[] => [
  { step: '1 kill -9 before the Prepare record', end, point: kill('prepare', 'before'), atCrash: { state: 'Ongoing', markers: 0 }, outcome: 'abort' },
  { step: '2 kill -9 after the Prepare record, before any marker', end, point: kill('marker', 'before'), atCrash: { state: 'Prepare', markers: 0 }, outcome: end },
  { step: '3 kill -9 between the markers of the two partitions', end, point: kill('marker', 'after'), atCrash: { state: 'Prepare', markers: 1 }, outcome: end },
  { step: '4 kill -9 after both markers, before the Complete record', end, point: kill('complete', 'before'), atCrash: { state: 'Prepare', markers: 2 }, outcome: end },
  { step: '3+3 kill -9 between the markers, then again between the markers the restarted broker writes', end, point: kill('marker', 'after'), again: kill('marker', 'after'), atCrash: { state: 'Prepare', markers: 1 }, outcome: end },
  // (the timeout's abort is the same whatever the client was ending: once, with the commit)
  ...(end === 'commit' ? [{ step: '1+3 kill -9 before the Prepare record, then again between the markers of the timeout abort', end, point: kill('prepare', 'before'), again: kill('marker', 'after'), atCrash: { state: 'Ongoing', markers: 0 }, outcome: 'abort' } as const] : []),
  { step: 'P1 power cut after the Prepare record was written, before its sync (not acknowledged)', end, point: power('prepare', 'after'), atCrash: { state: 'Ongoing', markers: 0 }, outcome: 'abort' },
  { step: 'P2 power cut after the first marker was written, before its sync (Prepare acknowledged)', end, point: power('marker', 'after'), atCrash: { state: 'Prepare', markers: 0 }, outcome: end },
  { step: 'P3 power cut after the Complete record was written, before its sync', end, point: power('complete', 'after'), atCrash: { state: 'Prepare', markers: 2 }, outcome: end },
]);

describe('kill -9 and power cuts at every step of a transaction end', () => {
  it.each(CASES)('$end: $step', async ({ step, end, point, again, atCrash, outcome }) => {
    const dataDir = await tempDir();
    const transactionalId = `tx-${end}`;
    const child = await spawnTxnBroker({ dataDir, config: CONFIG, point });
    await createTopic(child.port);
    const c = await RawClient.connect(child.port);
    const p = await initProducer(c, transactionalId);
    await openTransaction(c, p, 't');
    // the answer may or may not come before the broker dies
    void endTxn(c, p, end === 'commit').catch(() => undefined);
    const crash = await diedAtItsPoint(child);
    c.close();

    // the files as the restarted broker finds them
    const stateAtCrash = txnStatesOnDisk(dataDir).get(transactionalId);
    const prepare = end === 'commit' ? 'PrepareCommit' : 'PrepareAbort';
    expect(stateAtCrash, crash).toMatchObject({ state: atCrash.state === 'Prepare' ? prepare : 'Ongoing', producerId: Number(p.producerId), producerEpoch: p.producerEpoch });
    const markersAtCrash = PARTITIONS.map((partition) => markersOnDisk(dataDir, TOPIC, partition).length);
    expect(markersAtCrash.filter((n) => n > 0).length, crash).toBe(atCrash.markers);
    expect(Math.max(...markersAtCrash)).toBeLessThanOrEqual(1);
    const crashAgain = again ? await diedAgainAtItsPoint({ dataDir, config: CONFIG, point: again }) : undefined;
    if (crashAgain) expect(txnStatesOnDisk(dataDir).get(transactionalId)?.state, crashAgain).toBe(outcome === 'commit' ? 'PrepareCommit' : 'PrepareAbort');

    const b = await startBroker({ port: 0, dataDir, config: CONFIG, logLevel: 'silent' });
    brokers.push(b);
    const r = await RawClient.connect(b.port);
    try {
      // read_committed never sees the transaction's data unless it committed, and then a partition's whole batch
      const views = await untilStable(r, (partition, v) => {
        if (outcome === 'abort') expect(v.values, `partition ${partition}`).toEqual([]);
        else expect([[], valuesOf('t', partition)], `partition ${partition}`).toContainEqual(v.values);
      });
      for (const partition of PARTITIONS) expect(views[partition]!.values).toEqual(outcome === 'commit' ? valuesOf('t', partition) : []);
      // every partition has the outcome's marker and no other
      const markers = PARTITIONS.map((partition) => markersOnDisk(dataDir, TOPIC, partition));
      for (const m of markers) {
        expect(m.length).toBeGreaterThanOrEqual(1);
        expect(m.every((x) => x.commit === (outcome === 'commit') && x.producerId === Number(p.producerId))).toBe(true);
      }
      // the coordinator completed it: the same epoch when the prepare was loaded, bumped once when it timed out
      const fenced = atCrash.state === 'Ongoing';
      // the client's retry of its EndTxn (as a client does after reconnecting): done already, or fenced
      const retried = await retrying('EndTxn retried', async () => {
        const errorCode = await endTxn(r, p, end === 'commit');
        return { errorCode: errorCode === ErrorCode.PRODUCER_FENCED ? ErrorCode.NONE : errorCode, value: errorCode };
      });
      expect(retried).toBe(fenced ? ErrorCode.PRODUCER_FENCED : ErrorCode.NONE);
      const described = await retrying('DescribeTransactions', async () => {
        const d = await describeTxn(r, transactionalId);
        const done = d.transactionState === (outcome === 'commit' ? 'CompleteCommit' : 'CompleteAbort');
        return { errorCode: d.errorCode !== ErrorCode.NONE ? d.errorCode : done ? ErrorCode.NONE : ErrorCode.CONCURRENT_TRANSACTIONS, value: d };
      });
      expect(described.producerEpoch).toBe(p.producerEpoch + (fenced ? 1 : 0));

      // the producer inits again (its epoch bumped) and commits a new transaction
      const reinit = await initProducer(r, transactionalId);
      expect(reinit.producerId).toBe(p.producerId);
      expect(reinit.producerEpoch).toBe(described.producerEpoch + 1);
      await openTransaction(r, reinit, 'n');
      expect(await endTxn(r, reinit, true)).toBe(ErrorCode.NONE);
      const after = await untilStable(r, () => undefined);
      for (const partition of PARTITIONS) {
        expect(after[partition]!.values).toEqual([...(outcome === 'commit' ? valuesOf('t', partition) : []), ...valuesOf('n', partition)]);
      }
      observed.push(
        `${end} | ${step} | at crash: ${stateAtCrash!.state}, markers ${markersAtCrash.join('/')} | after restart: ${outcome === 'commit' ? 'committed' : 'aborted'}${fenced ? ' at its timeout (epoch fenced)' : ' (markers written again)'}, markers ${markers.map((m) => m.length).join('/')}, LSO = HW, EndTxn retried: ${fenced ? 'PRODUCER_FENCED' : 'NONE'}, re-init epoch ${reinit.producerEpoch}`,
      );
    } finally {
      r.close();
    }
  }, 40_000);
});

// ------------------------------------------------------------------ coordinator failover within one node

/**
 * Timeouts of the transactions left open across the restart: `fo-a`'s longer than the test (only its
 * producer's next InitProducerId aborts it), `fo-b`'s long enough not to expire before the restart.
 *
 * fo-a writes to partition 0 only, fo-b to partition 1 only: kafkajs 2.2.4's filter of aborted transactions
 * takes aborted_transactions as sorted by first offset (and activates at most one per record), while Kafka
 * answers them in the order of their ABORT markers (the .txnindex order), and so does Gregor; with two
 * aborted transactions interleaved in one partition and aborted in the reverse order, a kafkajs consumer
 * returns the first one's records, from Kafka as from Gregor. The raw read_committed checks filter as Kafka's
 * consumer does (sorted by first offset).
 */
const OPEN_TIMEOUT_MS = { 'fo-a': 120_000, 'fo-b': 3000 } as const;
const GROUP = 'fo-group';

async function offsetOf(c: RawClient, group: string, partition: number): Promise<number> {
  return retrying('OffsetFetch', async () => {
    const r = await c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 7, { groupId: group, topics: [{ name: TOPIC, partitionIndexes: [partition] }], requireStable: true });
    const p = r.topics[0]!.partitions[0]!;
    const errorCode = r.errorCode !== ErrorCode.NONE ? r.errorCode : p.errorCode;
    // (UNSTABLE_OFFSET_COMMIT: a transaction's offsets for it not completed yet)
    return { errorCode: errorCode === ErrorCode.UNSTABLE_OFFSET_COMMIT ? ErrorCode.CONCURRENT_TRANSACTIONS : errorCode, value: Number(p.committedOffset) };
  });
}

/**
 * Before the stop: `fo-a` Ongoing on partition 0, `fo-b` on partition 1, `fo-c` committed; with `preparing`, `fo-d`
 * (data on both partitions and the group's offset 42 for partition 0) ends with a commit and the broker dies
 * just after the first of its markers. Returns `fo-b`'s transaction start time.
 */
async function openSeveral(port: number, preparing: boolean): Promise<bigint> {
  const c = await RawClient.connect(port);
  try {
    for (const [id, partition] of [['fo-a', 0], ['fo-b', 1]] as const) {
      const p = await initProducer(c, id, OPEN_TIMEOUT_MS[id]);
      await openTransaction(c, p, id, [partition]);
    }
    const started = (await describeTxn(c, 'fo-b')).transactionStartTimeMs;
    const committed = await initProducer(c, 'fo-c');
    await openTransaction(c, committed, 'fo-c');
    expect(await endTxn(c, committed, true)).toBe(ErrorCode.NONE);
    await retrying('fo-c complete', async () => ({ errorCode: (await describeTxn(c, 'fo-c')).transactionState === 'CompleteCommit' ? ErrorCode.NONE : ErrorCode.CONCURRENT_TRANSACTIONS, value: undefined }));
    if (preparing) {
      const p = await initProducer(c, 'fo-d');
      await openTransaction(c, p, 'fo-d');
      const added = await c.request(schemas.addOffsetsToTxnRequest, schemas.addOffsetsToTxnResponse, 3, { transactionalId: 'fo-d', producerId: p.producerId, producerEpoch: p.producerEpoch, groupId: GROUP });
      expect(added.errorCode).toBe(ErrorCode.NONE);
      const offsets = await c.request(schemas.txnOffsetCommitRequest, schemas.txnOffsetCommitResponse, 3, {
        transactionalId: 'fo-d',
        groupId: GROUP,
        producerId: p.producerId,
        producerEpoch: p.producerEpoch,
        generationId: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: -1, committedMetadata: 'fo-d' }] }],
      });
      expect(offsets.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
      void endTxn(c, p, true).catch(() => undefined);
    }
    return started;
  } finally {
    c.close();
  }
}

/**
 * After the restart: `fo-a`'s producer inits again at once, which aborts its transaction (fence, abort, then
 * the epoch bumped again); `fo-b`'s is aborted at its timeout counted from its original start; the preparing
 * one is committed with its offsets; kafkajs producers with every id init again and commit; a kafkajs
 * READ_COMMITTED consumer reads exactly the committed data.
 */
async function checkAfterFailover(b: RunningBroker, started: bigint, preparing: boolean): Promise<string> {
  const c = await RawClient.connect(b.port);
  try {
    const reinit = await initProducer(c, 'fo-a', OPEN_TIMEOUT_MS['fo-a']);
    expect(reinit.producerEpoch).toBe(2);
    const committedTags = ['fo-c', ...(preparing ? ['fo-d'] : [])];
    const views = await untilStable(c, (partition, v) => {
      for (const value of v.values) expect(value.startsWith('fo-a') || value.startsWith('fo-b'), `${value} read committed on partition ${partition}`).toBe(false);
    });
    for (const partition of PARTITIONS) expect(views[partition]!.values).toEqual(committedTags.flatMap((tag) => valuesOf(tag, partition)));
    const d = await retrying('fo-b aborted', async () => {
      const x = await describeTxn(c, 'fo-b');
      return { errorCode: x.transactionState === 'CompleteAbort' ? ErrorCode.NONE : ErrorCode.CONCURRENT_TRANSACTIONS, value: x };
    });
    // the timeout counted from the transaction's start before the restart, its producer fenced
    expect(d.transactionStartTimeMs).toBe(started);
    expect(d.producerEpoch).toBe(1);
    if (preparing) {
      const d = await describeTxn(c, 'fo-d');
      expect([d.transactionState, d.producerEpoch]).toEqual(['CompleteCommit', 0]);
      expect(await offsetOf(c, GROUP, 0)).toBe(42);
      // the group's __consumer_offsets partition got its marker too: stable
      const offsetsLog = await readCommitted(c, 0, '__consumer_offsets');
      expect(offsetsLog.lastStableOffset).toBe(offsetsLog.highWatermark);
    }
  } finally {
    c.close();
  }

  const kafka = new Kafka({ clientId: 'txn-failover', brokers: [`127.0.0.1:${b.port}`], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 500 } });
  const ids = ['fo-a', 'fo-b', 'fo-c', ...(preparing ? ['fo-d'] : [])];
  for (const id of ids) {
    const producer = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 10_000 });
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic: TOPIC, messages: PARTITIONS.map((partition) => ({ value: `new-${id}`, partition })) });
    await txn.commit();
    await producer.disconnect();
  }
  const consumer = kafka.consumer({ groupId: 'fo-reader', readUncommitted: false, maxWaitTimeInMs: 100 });
  const read: string[] = [];
  const expected = [...(preparing ? ['fo-c', 'fo-d'] : ['fo-c']).flatMap((tag) => PARTITIONS.flatMap((partition) => valuesOf(tag, partition))), ...ids.flatMap((id) => PARTITIONS.map(() => `new-${id}`))];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const all = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          read.push(message.value?.toString() ?? '');
          if (read.length >= expected.length) resolve();
        },
      });
    });
    await Promise.race([all, sleep(20_000)]);
    // a moment for anything that should not be there
    await sleep(200);
  } finally {
    await consumer.disconnect();
  }
  expect(read.slice().sort()).toEqual(expected.slice().sort());
  return `fo-a aborted by its producer's InitProducerId right after the restart (epoch 0 -> fence 1 -> 2); fo-b aborted at its timeout from its original start, epoch fenced;${preparing ? ' fo-d (PrepareCommit at the crash, one marker of three written) committed with its group offset;' : ''} every id init + commit with kafkajs; kafkajs read_committed reads ${read.length} records, exactly the committed ones`;
}

describe('coordinator failover within one node', () => {
  it('a clean stop with transactions open: after the restart one is aborted at its timeout, one by its producer\'s InitProducerId, and every producer starts again', async () => {
    const dataDir = await tempDir();
    const child = await spawnTxnBroker({ dataDir, config: CONFIG });
    await createTopic(child.port);
    const started = await openSeveral(child.port, false);
    child.child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    // a clean stop ends nothing: the open transactions are in the files as Ongoing
    const onDisk = txnStatesOnDisk(dataDir);
    expect(['fo-a', 'fo-b', 'fo-c'].map((id) => onDisk.get(id)?.state)).toEqual(['Ongoing', 'Ongoing', 'CompleteCommit']);
    const b = await startBroker({ port: 0, dataDir, config: CONFIG, logLevel: 'silent' });
    brokers.push(b);
    observed.push(`failover, clean stop | ${await checkAfterFailover(b, started, false)}`);
  }, 60_000);

  it('kill -9 with transactions open and one preparing its commit: the open ones are aborted, the preparing one completes with its offsets', async () => {
    const dataDir = await tempDir();
    // the third marker: the first of fo-d's (fo-c's commit wrote two)
    const child = await spawnTxnBroker({ dataDir, config: CONFIG, point: { at: 'marker', when: 'after', power: false, nth: 3 } });
    await createTopic(child.port);
    const started = await openSeveral(child.port, true);
    const crash = await diedAtItsPoint(child);
    expect(crash).toContain(`${TOPIC}-`);
    const onDisk = txnStatesOnDisk(dataDir);
    expect(['fo-a', 'fo-b', 'fo-c', 'fo-d'].map((id) => onDisk.get(id)?.state)).toEqual(['Ongoing', 'Ongoing', 'CompleteCommit', 'PrepareCommit']);
    const b = await startBroker({ port: 0, dataDir, config: CONFIG, logLevel: 'silent' });
    brokers.push(b);
    observed.push(`failover, kill -9 | ${await checkAfterFailover(b, started, true)}`);
  }, 60_000);
});

describe('a clean stop in the middle of a transaction end', () => {
  it.each([
    { name: 'commit, the disk stalled after the first marker', end: 'commit' as Outcome, at: 'marker' as const },
    { name: 'abort, the disk stalled after the Prepare record', end: 'abort' as Outcome, at: 'prepare' as const },
  ])('SIGTERM ($name): the broker stops, and after the restart the transaction ends as asked', async ({ end, at }) => {
    const dataDir = await tempDir();
    const transactionalId = `tx-stop-${end}`;
    const child = await spawnTxnBroker({ dataDir, config: CONFIG, point: { at, when: 'after', power: false, hold: true } });
    await createTopic(child.port);
    const c = await RawClient.connect(child.port);
    const p = await initProducer(c, transactionalId);
    await openTransaction(c, p, 't');
    void endTxn(c, p, end === 'commit').catch(() => undefined);
    for (let i = 0; i < 300 && !child.output().includes('held:'); i++) await sleep(20);
    expect(child.output()).toContain('held:');
    child.child.kill('SIGTERM');
    const exit = await Promise.race([child.exited, sleep(15_000).then(() => undefined)]);
    c.close();
    expect(exit, child.output()).toEqual({ code: 0, signal: null });
    const stateAtStop = txnStatesOnDisk(dataDir).get(transactionalId)?.state;

    const b = await startBroker({ port: 0, dataDir, config: CONFIG, logLevel: 'silent' });
    brokers.push(b);
    const r = await RawClient.connect(b.port);
    try {
      const views = await untilStable(r, (partition, v) => {
        if (end === 'abort') expect(v.values).toEqual([]);
        else expect([[], valuesOf('t', partition)]).toContainEqual(v.values);
      });
      for (const partition of PARTITIONS) expect(views[partition]!.values).toEqual(end === 'commit' ? valuesOf('t', partition) : []);
      const again = await initProducer(r, transactionalId);
      expect(again.producerEpoch).toBe(p.producerEpoch + 1);
      const markers = PARTITIONS.map((partition) => markersOnDisk(dataDir, TOPIC, partition).length);
      observed.push(`${end} | SIGTERM with every fdatasync stalled after the write of the ${at === 'marker' ? 'first marker' : 'Prepare record'} | at stop: ${stateAtStop} | after restart: ${end === 'commit' ? 'committed' : 'aborted'}, markers ${markers.join('/')}, LSO = HW, re-init epoch ${again.producerEpoch}`);
    } finally {
      r.close();
    }
  }, 40_000);
});
