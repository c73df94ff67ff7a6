/**
 * Transactions with librdkafka through confluent-kafka-python (Debian python3-confluent-kafka 1.7.0 on
 * librdkafka 2.0.2, run with /usr/bin/python3) against a broker: a transactional
 * producer (init_transactions, begin_transaction, 100 messages, commit_transaction), then a second transaction of
 * 100 messages aborted; a read_committed consumer sees exactly the committed 100, a read_uncommitted one all 200.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../src/index.js';

const PYTHON = '/usr/bin/python3';
const TOPIC = 'txn-librdkafka';

const SCRIPT = String.raw`
import json, sys, time, uuid
from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING
bootstrap, topic = sys.argv[1], sys.argv[2]
p = Producer({"bootstrap.servers": bootstrap, "transactional.id": "txn-py-" + uuid.uuid4().hex, "linger.ms": 5})
p.init_transactions(30)
p.begin_transaction()
for i in range(100):
    p.produce(topic, key=b"k%d" % i, value=b"committed-%d" % i, partition=0)
p.commit_transaction(30)
p.begin_transaction()
for i in range(100):
    p.produce(topic, key=b"k%d" % i, value=b"aborted-%d" % i, partition=0)
p.flush(30)
p.abort_transaction(30)

def read(isolation, want):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-" + uuid.uuid4().hex, "enable.auto.commit": False,
                  "isolation.level": isolation, "fetch.wait.max.ms": 100})
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    # Poll until the expected count has arrived, then 2 s more so that an extra record would show; 60 s at most.
    values, quiet, deadline = [], 0, time.monotonic() + 60
    while quiet < 8 and time.monotonic() < deadline:
        m = c.poll(0.25)
        if m is None:
            quiet = quiet + 1 if len(values) >= want else 0
            continue
        if m.error():
            raise Exception(str(m.error()))
        values.append(m.value().decode())
        idle = 0
    c.close()
    return values

print(json.dumps({"committed": read("read_committed", 100), "uncommitted": read("read_uncommitted", 200)}))
`;

let broker: RunningBroker;
beforeAll(async () => {
  broker = await startBroker({ port: 0, logLevel: 'silent', config: { 'transaction.state.log.num.partitions': 3 } });
  await broker.broker.topics.create({ name: TOPIC, numPartitions: 1, replicationFactor: 1, configs: {} });
});
afterAll(async () => {
  await broker?.close();
});

describe('transactions with librdkafka (confluent-kafka-python)', () => {
  it('read_committed sees the committed transaction only, read_uncommitted both', async () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: apt-get install -y --no-install-recommends python3-confluent-kafka`);
    const out = await new Promise<string>((resolve, reject) => {
      execFile(PYTHON, ['-c', SCRIPT, `127.0.0.1:${broker.port}`, TOPIC], { timeout: 120_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      );
    });
    const seen = JSON.parse(out) as { committed: string[]; uncommitted: string[] };
    const range = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    expect(seen.committed).toEqual(range(100, 'committed'));
    expect(seen.uncommitted).toEqual([...range(100, 'committed'), ...range(100, 'aborted')]);
  }, 150_000);
});
