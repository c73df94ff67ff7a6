/**
 * Offset commits while their write to `__consumer_offsets` is still in flight
 * (fdatasync held by storage's FaultyFs, gregor.flush.acks.all on): the
 * commit is pending (require_stable fetches get UNSTABLE_OFFSET_COMMIT, plain
 * fetches the previous offset), and an OffsetDelete of its partition cancels
 * it, so that the offset the group ends with is the one the log ends with,
 * before and after a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { FaultyFs } from '../../storage/index.js';
import { RawClient } from '../helpers/raw-client.js';

const GROUP = 'in-flight';
const TOPIC = 'committed';

async function until(done: () => boolean): Promise<void> {
  for (let spins = 0; !done(); spins++) {
    if (spins > 100_000) throw new Error('never happened');
    await new Promise((r) => setImmediate(r));
  }
}

function commit(c: RawClient, partition: number, offset: bigint): Promise<number> {
  return c
    .request(schemas.offsetCommitRequest, schemas.offsetCommitResponse, 8, {
      groupId: GROUP,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: partition, committedOffset: offset, committedMetadata: null }] }],
    })
    .then((r) => r.topics[0]!.partitions[0]!.errorCode);
}

async function fetched(c: RawClient, requireStable: boolean): Promise<Array<[number, number, number]>> {
  const res = await c.request(schemas.offsetFetchRequest, schemas.offsetFetchResponse, 8, {
    groups: [{ groupId: GROUP, topics: [{ name: TOPIC, partitionIndexes: [0, 1] }] }],
    requireStable,
  });
  return res.groups[0]!.topics[0]!.partitions.map((p) => [p.partitionIndex, Number(p.committedOffset), p.errorCode]);
}

describe('offset commits in flight', () => {
  let dataDir: string;
  let broker: RunningBroker | undefined;
  afterAll(async () => {
    await broker?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('are pending until written, and an OffsetDelete cancels them: the group keeps what the log says', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-in-flight-'));
    const fs = new FaultyFs();
    broker = await startBroker({ port: 0, dataDir, storageFs: fs, config: { 'gregor.flush.acks.all': true } });
    const connect = (): Promise<RawClient> => RawClient.connect(broker!.port);
    const [c1, c2, c3, c4] = await Promise.all([connect(), connect(), connect(), connect()]);
    await c1.request(schemas.createTopicsRequest, schemas.createTopicsResponse, 5, {
      topics: [{ name: TOPIC, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
    });
    expect(await commit(c1, 0, 1n)).toBe(ErrorCode.NONE);
    expect(await commit(c1, 1, 1n)).toBe(ErrorCode.NONE);

    const gate = fs.hold('fdatasync', '__consumer_offsets');
    const first = commit(c1, 0, 5n);
    await until(() => gate.waiting > 0);
    expect(await fetched(c2, true)).toEqual([[0, -1, ErrorCode.UNSTABLE_OFFSET_COMMIT], [1, 1, ErrorCode.NONE]]);
    expect(await fetched(c2, false)).toEqual([[0, 1, ErrorCode.NONE], [1, 1, ErrorCode.NONE]]);

    // the removal shows at once; its tombstone is written behind the commit in flight
    const deleted = c3.request(schemas.offsetDeleteRequest, schemas.offsetDeleteResponse, 0, { groupId: GROUP, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0 }] }] });
    await until(() => broker!.broker.groups.fetchOffsets(GROUP, [{ topic: TOPIC, partitions: [0] }], true).topics[0]!.partitions[0]!.errorCode === ErrorCode.NONE);
    expect(await fetched(c2, true)).toEqual([[0, -1, ErrorCode.NONE], [1, 1, ErrorCode.NONE]]);
    const second = commit(c4, 0, 9n);
    await until(() => broker!.broker.groups.fetchOffsets(GROUP, [{ topic: TOPIC, partitions: [0] }], true).topics[0]!.partitions[0]!.errorCode === ErrorCode.UNSTABLE_OFFSET_COMMIT);

    gate.release();
    expect(await first).toBe(ErrorCode.NONE);
    expect((await deleted).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(await second).toBe(ErrorCode.NONE);
    // the first commit was cancelled by the delete; the second is the group's offset, as in the log
    expect(await fetched(c2, true)).toEqual([[0, 9, ErrorCode.NONE], [1, 1, ErrorCode.NONE]]);
    for (const c of [c1, c2, c3, c4]) c.close();

    await broker.close();
    broker = await startBroker({ port: 0, dataDir });
    await broker.broker.groups.whenLoaded();
    const c = await RawClient.connect(broker.port);
    expect(await fetched(c, true)).toEqual([[0, 9, ErrorCode.NONE], [1, 1, ErrorCode.NONE]]);
    c.close();
  }, 60_000);
});
