/**
 * De-duplication across a kill -9: the broker runs as users run it (`node dist/src/cli.js`, built here when
 * dist/ is stale), a kafkajs idempotent producer writes through a recording proxy, the broker is killed
 * with SIGKILL before it could snapshot its producer state, and after a restart on the same data directory
 * the producer's Produce requests, sent again byte for byte, are recognised (state rebuilt from the log)
 * and answered with their original offsets, and the producer itself carries on in sequence; producer ids
 * handed out after the restart are new.
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode, decodeResponseFrame, schemas } from '../../protocol/index.js';
import { PRODUCER_ID_BLOCK_SIZE } from '../../src/produce/producer-ids.js';
import { ensureBuilt, killAll, spawnCli, type BrokerProcess } from '../helpers/broker-process.js';
import { fetchAll } from '../helpers/fetch-records.js';
import { KafkaProxy, sendAgain, type ProxiedRequest } from '../helpers/kafka-proxy.js';
import { RawClient } from '../helpers/raw-client.js';

beforeAll(() => ensureBuilt(), 300_000);

let dataDir = '';
let proxy: KafkaProxy | undefined;
afterEach(async () => {
  killAll();
  await proxy?.close();
  proxy = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** `gregor` on a free port, advertising the proxy, so kafkajs goes through it after Metadata. */
function startChild(advertisedPort: number): Promise<BrokerProcess> {
  return spawnCli({ dataDir, config: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${advertisedPort}` } });
}

function produceAnswer(request: ProxiedRequest, frame: Buffer): { errorCode: number; baseOffset: bigint } {
  const p = decodeResponseFrame(schemas.produceResponse, request.apiVersion, frame).body.responses[0]!.partitionResponses[0]!;
  return { errorCode: p.errorCode, baseOffset: p.baseOffset };
}

describe('idempotent producer across a kill -9 of the broker process', () => {
  it('recognises requests sent again after a SIGKILL and restart, and never repeats a producer id', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-idem-crash-'));
    let broker: BrokerProcess | undefined;
    proxy = await KafkaProxy.start(() => broker!.port);
    broker = await startChild(proxy.port);

    const kafka = new Kafka({ clientId: 'crash-test', brokers: [`127.0.0.1:${proxy.port}`], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'crash', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic: 'crash', messages: ['a', 'b', 'c'].map((value) => ({ value })) });
    await producer.send({ topic: 'crash', messages: ['d', 'e'].map((value) => ({ value })) });
    const produces = proxy.requestsOf(ApiKey.Produce);
    expect(produces).toHaveLength(2);
    expect(produces.map((r) => produceAnswer(r, r.response!))).toEqual([
      { errorCode: ErrorCode.NONE, baseOffset: 0n },
      { errorCode: ErrorCode.NONE, baseOffset: 3n },
    ]);
    const init = proxy.requestsOf(ApiKey.InitProducerId)[0]!;
    const producerId = decodeResponseFrame(schemas.initProducerIdResponse, init.apiVersion, init.response!).body.producerId;

    broker.child.kill('SIGKILL');
    expect((await broker.exited).signal).toBe('SIGKILL');
    // nothing was snapshotted at the log end: the state has to come back from the log itself
    expect(readdirSync(join(dataDir, 'crash-0')).filter((n) => n.endsWith('.snapshot'))).toEqual([]);

    broker = await startChild(proxy.port);
    for (const [i, request] of produces.entries()) {
      expect(produceAnswer(request, await sendAgain(broker.port, request))).toEqual({ errorCode: ErrorCode.NONE, baseOffset: i === 0 ? 0n : 3n });
    }
    // the same kafkajs producer reconnects and carries on with its next sequence number
    await producer.send({ topic: 'crash', messages: [{ value: 'f' }] });
    await producer.disconnect();
    expect(proxy.requestsOf(ApiKey.InitProducerId)).toHaveLength(1);
    const raw = await RawClient.connect(broker.port);
    expect((await fetchAll(raw, 'crash', 0)).map((r) => [r.offset, r.value])).toEqual([
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
      [3, 'd'],
      [4, 'e'],
      [5, 'f'],
    ]);
    const after = await raw.request(schemas.initProducerIdRequest, schemas.initProducerIdResponse, 4, { transactionalId: null, transactionTimeoutMs: 60_000 });
    expect(after.errorCode).toBe(ErrorCode.NONE);
    expect(after.producerId).toBeGreaterThanOrEqual(producerId + BigInt(PRODUCER_ID_BLOCK_SIZE));
    raw.close();

    broker.child.kill('SIGTERM');
    expect((await broker.exited).code).toBe(0);
  });
});
