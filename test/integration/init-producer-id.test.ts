/**
 * InitProducerId on a real broker with the raw client: fresh producer ids at every version, never repeated
 * across restarts (the reserved id block in the log dir), the transactional id answers of a broker without a
 * transaction coordinator, and INVALID_REQUEST for half a producer id/epoch pair.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { PRODUCER_ID_BLOCK_SIZE, PRODUCER_ID_FILE } from '../../src/produce/producer-ids.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

let dataDir: string;
let broker: RunningBroker | undefined;
let client: RawClient | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gregor-pid-'));
});
afterEach(async () => {
  client?.close();
  client = undefined;
  await broker?.close();
  broker = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

async function start(config: Record<string, string | number> = {}): Promise<RawClient> {
  client?.close();
  await broker?.close();
  broker = await startBroker({ port: 0, dataDir, config });
  client = await RawClient.connect(broker.port);
  return client;
}

type InitRequest = MessageInput<typeof schemas.initProducerIdRequest>;

function init(c: RawClient, version: number, body: Partial<InitRequest> = {}): Promise<MessageValue<typeof schemas.initProducerIdResponse>> {
  return c.request(schemas.initProducerIdRequest, schemas.initProducerIdResponse, version, { transactionalId: null, transactionTimeoutMs: 60_000, ...body });
}

describe('InitProducerId', () => {
  it('answers every version v0-v5 with a new producer id and epoch 0', async () => {
    const c = await start();
    const ids: bigint[] = [];
    for (let v = 0; v <= 5; v++) {
      const res = await init(c, v);
      expect(res).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 0, throttleTimeMs: 0 });
      ids.push(res.producerId);
    }
    expect(new Set(ids).size).toBe(6);
    expect(ids.every((id) => id >= 0n)).toBe(true);
  });

  it('gives a new id, not an epoch bump, to a v3+ request naming its producer id and epoch (as Kafka without a transactional id)', async () => {
    const c = await start();
    const first = await init(c, 4);
    const again = await init(c, 4, { producerId: first.producerId, producerEpoch: first.producerEpoch });
    expect(again.errorCode).toBe(ErrorCode.NONE);
    expect(again.producerId).not.toBe(first.producerId);
    expect(again.producerEpoch).toBe(0);
  });

  it('answers INVALID_REQUEST when only one of producer id and epoch is set', async () => {
    const c = await start();
    expect(await init(c, 3, { producerId: 5n, producerEpoch: -1 })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1 });
    expect(await init(c, 5, { producerId: -1n, producerEpoch: 2 })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1 });
  });

  it('answers a transactional id as its transaction coordinator: validation, then one producer id whose epoch each init bumps', async () => {
    const c = await start({ 'transaction.max.timeout.ms': 100_000 });
    expect(await init(c, 4, { transactionalId: '' })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1 });
    expect((await init(c, 4, { transactionalId: 'tx', transactionTimeoutMs: 0 })).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await init(c, 4, { transactionalId: 'tx', transactionTimeoutMs: 100_001 })).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    const first = await init(c, 4, { transactionalId: 'tx', transactionTimeoutMs: 100_000 });
    expect(first).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 0 });
    expect(first.producerId).toBeGreaterThanOrEqual(0n);
    expect(await init(c, 0, { transactionalId: 'tx' })).toMatchObject({ errorCode: ErrorCode.NONE, producerId: first.producerId, producerEpoch: 1 });
    const other = await init(c, 4, { transactionalId: 'tx-other' });
    expect(other.errorCode).toBe(ErrorCode.NONE);
    expect(other.producerId).not.toBe(first.producerId);
  });

  it('never hands out an id twice across restarts: each start reserves a new block', async () => {
    let c = await start();
    const seen = new Set<bigint>();
    for (let i = 0; i < 3; i++) seen.add((await init(c, 4)).producerId);
    expect([...seen]).toEqual([0n, 1n, 2n]);
    expect(readFileSync(join(dataDir, PRODUCER_ID_FILE), 'utf8')).toBe(`version: 0\nnext_block_start: ${PRODUCER_ID_BLOCK_SIZE}\n`);
    c = await start();
    const next = (await init(c, 4)).producerId;
    expect(next).toBe(BigInt(PRODUCER_ID_BLOCK_SIZE));
    expect(seen.has(next)).toBe(false);
  });

  it('reserves the next block when one is used up, also under concurrent requests', async () => {
    const c = await start();
    const ids = await Promise.all(Array.from({ length: PRODUCER_ID_BLOCK_SIZE + 10 }, () => init(c, 4)));
    const values = ids.map((r) => r.producerId);
    expect(new Set(values).size).toBe(values.length);
    expect(readFileSync(join(dataDir, PRODUCER_ID_FILE), 'utf8')).toContain(`next_block_start: ${2 * PRODUCER_ID_BLOCK_SIZE}\n`);
  });

  it('refuses to start on a malformed producer id block file', async () => {
    // a data directory of this broker (a directory with files but no meta.properties is refused before this)
    await (await startBroker({ port: 0, dataDir })).close();
    await writeFile(join(dataDir, PRODUCER_ID_FILE), 'version: 0\nnext_block_start: banana\n');
    await expect(startBroker({ port: 0, dataDir })).rejects.toThrow(/producer-id-block: invalid next_block_start/);
  });

  it('kafkajs idempotent producers get distinct ids', async () => {
    await start();
    const kafka = new Kafka({ clientId: 'pid-test', brokers: [broker!.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'pids', numPartitions: 1 }] });
    await admin.disconnect();
    const producers = [kafka.producer({ idempotent: true }), kafka.producer({ idempotent: true })];
    for (const p of producers) {
      await p.connect();
      await p.send({ topic: 'pids', messages: [{ value: 'v' }] });
    }
    const table = await broker!.broker.producerStates.producersOf(broker!.broker.topics.partition('pids', 0)!.log);
    expect(table.size).toBe(2);
    for (const p of producers) await p.disconnect();
  });
});
