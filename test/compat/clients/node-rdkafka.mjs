// node-rdkafka scenarios: its Producer, KafkaConsumer (assign and subscribe)
// and AdminClient. The package is not a dependency of the project: the runner
// passes the directory ../librdkafka.mjs installed and built it in.
//
//   node node-rdkafka.mjs /path/to/node_modules/node-rdkafka
import { createRequire } from 'node:module';
import { loadSpec, runTasks, securitySteps } from './lib.mjs';
import { oneBatch, rdkafkaApi } from './rdkafka-api.mjs';

const Kafka = createRequire(import.meta.url)(process.argv[2]);
const spec = loadSpec();
const A = spec.bootstrap;
const B = spec.errBootstrap;
const rd = rdkafkaApi(Kafka, 'compat-node-rdkafka');

const readPartition0 = async (bootstrap, topic, count, offset = 0) => (await rd.readAssigned(bootstrap, [{ topic, partition: 0, count, offset }]))[0];

await runTasks(spec, {
  security: (task) => securitySteps(task, rd.security),
  async metadata(task) {
    const md = await rd.metadata(A, task.topic);
    const topic = md.topics.find((t) => t.name === task.topic);
    return {
      brokers: md.brokers.map((b) => ({ id: b.id, host: b.host, port: b.port })),
      partitions: topic.partitions.map((p) => ({ id: p.id, leader: p.leader, error: 0 })),
    };
  },
  async 'create-topic'(task) {
    return rd.admin(A, async (admin) => {
      await admin.createTopic(task.topic, task.partitions);
      const md = await rd.metadata(A, task.topic);
      let duplicate = null;
      try {
        await admin.createTopic(task.topic, task.partitions);
      } catch (err) {
        duplicate = `${err.code}: ${err.message}`;
      }
      return { partitions: md.topics.find((t) => t.name === task.topic).partitions.length, duplicate };
    });
  },
  async produce(task) {
    await rd.produce(A, task.topic, task.messages, { 'compression.codec': task.codec });
    return { read: await readPartition0(A, task.topic, task.messages.length) };
  },
  async consume(task) {
    await rd.produce(A, task.topic, task.messages);
    const wanted = [0, 1, 2].map((p) => ({ topic: task.topic, partition: p, count: task.messages.filter((m) => m.partition === p).length }));
    const got = await rd.readAssigned(A, wanted);
    return { read: Object.fromEntries(got.map((msgs, p) => [p, msgs])) };
  },
  async 'mid-batch'(task) {
    await rd.produce(A, task.topic, task.messages, { 'compression.codec': task.codec, ...oneBatch(task.messages) });
    return { read: await readPartition0(A, task.topic, task.messages.length - task.offset, task.offset) };
  },
  async group(task) {
    await rd.produce(A, task.topic, task.first);
    const first = await rd.readGroup(A, task.topic, task.group, task.first.length);
    await rd.produce(A, task.topic, task.second);
    const second = await rd.readGroup(A, task.topic, task.group, task.second.length);
    return { first: first.messages, second: second.messages, committed: second.committed };
  },
  'consumer-protocol': (task) => rd.consumerProtocol(A, task),
  async 'offsets-time'(task) {
    await rd.produce(A, task.topic, task.messages);
    return rd.offsetsForTimes(A, task.topic, task.queries);
  },
  async 'delete-topic'(task) {
    await rd.produce(A, task.topic, task.messages);
    const listed = async () => (await rd.metadata(A)).topics.some((t) => t.name === task.topic);
    const before = await listed();
    await rd.admin(A, (admin) => admin.deleteTopic(task.topic));
    return { existedBefore: before, existsAfter: await listed() };
  },
  async idempotent(task) {
    await rd.produce(A, task.topic, task.messages, { 'enable.idempotence': true });
    return { read: await readPartition0(A, task.topic, task.messages.length) };
  },
  async transactions(task) {
    await rd.produceTransactions(A, task.topic, task.transactionalId, task.transactions);
    const committed = task.transactions.filter((t) => t.commit).reduce((n, t) => n + t.messages.length, 0);
    const [read] = await rd.readAssigned(A, [{ topic: task.topic, partition: 0, count: committed }], { 'isolation.level': 'read_committed' });
    return { read };
  },
  async 'unknown-topic'(task) {
    // librdkafka fails queued messages once the topic has stayed unknown this long.
    const error = await rd.produceError(B, task.topic, task.messages, { 'topic.metadata.propagation.max.ms': 1000 });
    return { error: `produce: ${error}` };
  },
  async 'too-large'(task) {
    const error = await rd.produceError(B, task.topic, [{ key: 'big', value: 'x'.repeat(task.largeBytes), headers: [], partition: 0 }]);
    await rd.produce(B, task.topic, task.messages);
    return { error, read: await readPartition0(B, task.topic, task.messages.length) };
  },
  async 'cross-produce'(task) {
    for (const t of task.topics) await rd.produce(A, t.topic, task.messages, { 'compression.codec': t.codec });
  },
  async 'cross-read'(task) {
    const got = await rd.readAssigned(A, task.topics.map((t) => ({ topic: t.topic, partition: 0, count: t.count })));
    return { topics: Object.fromEntries(task.topics.map((t, i) => [t.topic, got[i]])) };
  },
});
