/**
 * librdkafka's idempotent producer (kcat, `enable.idempotence=true`, `max.in.flight=5`) on a real broker,
 * through a recording proxy. librdkafka 2.0 caps a partition's in-flight *messages* at 5 when idempotent,
 * so one-message batches are what keep five Produce requests in flight on one connection (fsync'ed
 * acks=all makes them queue at the broker); a second producer writes large batches to the same partition
 * at the same time. Every answer is NONE (no OUT_OF_ORDER_SEQUENCE_NUMBER), and reading the partition back
 * shows each producer's messages exactly once and in the order it sent them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode, decodeResponseFrame, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { KafkaProxy } from '../helpers/kafka-proxy.js';
import { kcatConsume, kcatProduce } from '../helpers/kcat.js';

const IDEMPOTENT = ['-X', 'enable.idempotence=true', '-X', 'max.in.flight=5', '-X', 'linger.ms=0'];
const PRODUCERS = [
  { key: 'a', messages: 1_500, batch: 1 },
  { key: 'b', messages: 20_000, batch: 200 },
];

describe('librdkafka idempotent producer with five requests in flight', () => {
  let broker: RunningBroker;
  let proxy: KafkaProxy;

  beforeAll(async () => {
    proxy = await KafkaProxy.start(() => broker.port);
    broker = await startBroker({ port: 0, config: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` } });
    await broker.broker.topics.create({ name: 'pipelined', numPartitions: 1, replicationFactor: 1 });
  });
  afterAll(async () => {
    await proxy?.close();
    await broker?.close();
  });

  it('lands every message once and in order, with no OUT_OF_ORDER_SEQUENCE_NUMBER', async () => {
    const lines = (p: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${p}:${p}-${String(i).padStart(6, '0')}`);
    await Promise.all(
      PRODUCERS.map((p) => kcatProduce(proxy.port, 'pipelined', lines(p.key, p.messages), ['-K:', '-p', '0', ...IDEMPOTENT, '-X', `batch.num.messages=${p.batch}`])),
    );

    const produces = proxy.requestsOf(ApiKey.Produce);
    const codes = new Map<number, number>();
    for (const r of produces) {
      expect(r.response).toBeDefined();
      for (const t of decodeResponseFrame(schemas.produceResponse, r.apiVersion, r.response!).body.responses) {
        for (const p of t.partitionResponses) codes.set(p.errorCode, (codes.get(p.errorCode) ?? 0) + 1);
      }
    }
    expect([...codes.keys()]).toEqual([ErrorCode.NONE]);
    // pipelining did happen: the broker saw requests queued behind each other on one connection
    expect(proxy.maxInFlight).toBeGreaterThan(1);
    expect(proxy.maxInFlight).toBeLessThanOrEqual(5);

    const records = await kcatConsume(proxy.port, 'pipelined');
    expect(records).toHaveLength(PRODUCERS.reduce((n, p) => n + p.messages, 0));
    expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
    for (const p of PRODUCERS) {
      expect(records.filter((r) => r.key === p.key).map((r) => r.payload)).toEqual(lines(p.key, p.messages).map((l) => l.slice(2)));
    }
    const producerIds = new Set([...(await broker.broker.producerStates.producersOf(broker.broker.topics.partition('pipelined', 0)!.log)).keys()]);
    expect(producerIds.size).toBe(2);
  });
});
