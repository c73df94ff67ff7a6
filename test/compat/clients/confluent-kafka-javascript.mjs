// @confluentinc/kafka-javascript scenarios, through its KafkaJS-style API
// (producer, group consumer, admin) where it has one, and its node-rdkafka-style
// API for what that lacks: reading partitions without a group, and the broker
// list of Metadata. The package is not a dependency of the project: the runner
// passes the directory ../librdkafka.mjs installed and built it in.
//
//   node confluent-kafka-javascript.mjs /path/to/node_modules/@confluentinc/kafka-javascript
import { createRequire } from 'node:module';
import { loadSpec, rdkafkaSecurity, runTasks, securitySteps, text, until } from './lib.mjs';
import { oneBatch, rdkafkaApi } from './rdkafka-api.mjs';

const ckjs = createRequire(import.meta.url)(process.argv[2]);
const { Kafka, logLevel, CompressionTypes } = ckjs.KafkaJS;
const CLIENT_ID = 'compat-confluent-kafka-javascript';
const spec = loadSpec();
const rd = rdkafkaApi(ckjs, CLIENT_ID);

const kafkaFor = (bootstrap) => new Kafka({ kafkaJS: { brokers: [bootstrap], clientId: CLIENT_ID, logLevel: logLevel.NOTHING } });
const kafka = kafkaFor(spec.bootstrap);
const errKafka = kafkaFor(spec.errBootstrap);

const CODECS = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.SNAPPY, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD };

const toRecord = (m) => ({
  key: m.key,
  value: m.value,
  partition: m.partition ?? 0,
  headers: Object.fromEntries(m.headers),
  ...(m.timestamp !== undefined ? { timestamp: String(m.timestamp) } : {}),
});

const fromMessage = (m) => ({
  key: text(m.key),
  value: text(m.value),
  headers: Object.entries(m.headers ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k, text(x)])),
});

/** One KafkaJS-style producer per call: compression is a producer setting in this client. */
async function produce(client, topic, messages, { codec = 'none', idempotent = false, extra = {} } = {}) {
  const producer = client.producer({ kafkaJS: { compression: CODECS[codec], idempotent, acks: -1 }, 'linger.ms': 5, 'message.timeout.ms': 10_000, ...extra });
  await producer.connect();
  try {
    await producer.send({ topic, messages: messages.map(toRecord) });
  } finally {
    await producer.disconnect();
  }
}

async function produceError(client, topic, messages, extra = {}) {
  try {
    await produce(client, topic, messages, { extra });
    return null;
  } catch (err) {
    return `${err.name}: ${err.type ?? err.code ?? ''} ${err.message}`;
  }
}

async function withAdmin(client, fn) {
  const admin = client.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * A security step's client: its KafkaJS-style `ssl` and `sasl` settings, and the CA (which that style takes
 * as librdkafka's ssl.ca.location beside them).
 */
function secureKafka(conn) {
  const tls = conn.protocol === 'SSL' || conn.protocol === 'SASL_SSL';
  const sasl = conn.mechanism === undefined ? {} : { sasl: { mechanism: conn.mechanism.toLowerCase(), username: conn.username, password: conn.password } };
  return new Kafka({
    kafkaJS: { brokers: [conn.bootstrap], clientId: CLIENT_ID, logLevel: logLevel.NOTHING, ssl: tls, ...sasl },
    ...(conn.ca === undefined ? {} : { 'ssl.ca.location': conn.ca }),
  });
}

const readPartition0 = async (bootstrap, topic, count, offset = 0) => (await rd.readAssigned(bootstrap, [{ topic, partition: 0, count, offset }]))[0];

/** A KafkaJS-style group consumer: reads `count` messages, commits what it consumed, leaves. */
async function groupRound(topic, groupId, count) {
  const consumer = kafka.consumer({ kafkaJS: { groupId, fromBeginning: true, autoCommit: false } });
  await consumer.connect();
  const got = [];
  try {
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachMessage: async ({ message }) => void got.push(fromMessage(message)) });
    await until(() => got.length >= count, 30_000, `${count} messages in group ${groupId}`);
    await consumer.commitOffsets();
  } finally {
    await consumer.disconnect();
  }
  return got;
}

/**
 * Two KafkaJS-style consumers with `'group.protocol': 'consumer'` (KIP-848): once they share the partitions
 * the messages come; each commits what it read and leaves; then one more member resumes from the commits.
 */
async function consumerProtocol(task) {
  const client = new Kafka({ kafkaJS: { brokers: [spec.bootstrap], clientId: task.clientId, logLevel: logLevel.NOTHING } });
  const newMember = () => client.consumer({ kafkaJS: { groupId: task.group, fromBeginning: true, autoCommit: false }, 'group.protocol': 'consumer' });
  const members = [newMember(), newMember()].map((consumer) => ({ consumer, got: [] }));
  const held = (m) => m.consumer.assignment().filter((tp) => tp.topic === task.topic).map((tp) => tp.partition).sort((x, y) => x - y);
  let assignments;
  try {
    for (const m of members) {
      await m.consumer.connect();
      await m.consumer.subscribe({ topics: [task.topic] });
      await m.consumer.run({ eachMessage: async ({ message }) => void m.got.push(fromMessage(message)) });
    }
    await until(() => members.every((m) => held(m).length > 0) && new Set(members.flatMap(held)).size === task.partitions, 60_000, 'the two members to share the partitions');
    assignments = members.map(held);
    await produce(kafka, task.topic, task.first);
    await until(() => members.reduce((n, m) => n + m.got.length, 0) >= task.first.length, 30_000, `${task.first.length} messages`);
    for (const m of members) await m.consumer.commitOffsets();
  } finally {
    for (const m of members) await m.consumer.disconnect();
  }
  await produce(kafka, task.topic, task.second);
  const last = { consumer: newMember(), got: [] };
  await last.consumer.connect();
  try {
    await last.consumer.subscribe({ topics: [task.topic] });
    await last.consumer.run({ eachMessage: async ({ message }) => void last.got.push(fromMessage(message)) });
    await until(() => last.got.length >= task.second.length, 30_000, `${task.second.length} messages`);
    await last.consumer.commitOffsets();
  } finally {
    await last.consumer.disconnect();
  }
  const [committed] = await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId: task.group, topics: [task.topic] }));
  return {
    first: members.flatMap((m) => m.got),
    assignments,
    second: last.got,
    committed: committed.partitions.map((p) => ({ partition: p.partition, offset: Number(p.offset) })),
    note: "KafkaJS-style consumers with 'group.protocol': 'consumer'",
  };
}

await runTasks(spec, {
  security: (task) =>
    securitySteps(task, {
      async roundTrip(step) {
        await produce(secureKafka(step.conn), step.topic, step.messages);
        return (await rd.readAssigned(step.conn.bootstrap, [{ topic: step.topic, partition: 0, count: step.messages.length }], rdkafkaSecurity(step.conn)))[0];
      },
      // The KafkaJS-style producer reports a failed login as a transport failure: the node-rdkafka-style one's log has the broker's error.
      refused: (step) => (step.expect === 'auth-failed' ? rd.security.refused(step) : produceError(secureKafka(step.conn), step.topic, step.messages, { 'message.timeout.ms': 5000 })),
    }),
  async metadata(task) {
    const md = await rd.metadata(spec.bootstrap, task.topic);
    const [topic] = await withAdmin(kafka, (admin) => admin.fetchTopicMetadata({ topics: [task.topic] }));
    return {
      brokers: md.brokers.map((b) => ({ id: b.id, host: b.host, port: b.port })),
      partitions: topic.partitions.map((p) => ({ id: p.partitionId, leader: p.leader, error: p.partitionErrorCode })),
    };
  },
  async 'create-topic'(task) {
    return withAdmin(kafka, async (admin) => {
      const created = await admin.createTopics({ topics: [{ topic: task.topic, numPartitions: task.partitions }] });
      const [topic] = await admin.fetchTopicMetadata({ topics: [task.topic] });
      // Like kafkajs, createTopics answers false instead of throwing when a topic exists already.
      const again = await admin.createTopics({ topics: [{ topic: task.topic, numPartitions: task.partitions }] });
      return { created, partitions: topic.partitions.length, duplicate: again === false ? 'TOPIC_ALREADY_EXISTS (createTopics returned false)' : `createTopics returned ${again}` };
    });
  },
  async produce(task) {
    await produce(kafka, task.topic, task.messages, { codec: task.codec });
    return { read: await readPartition0(spec.bootstrap, task.topic, task.messages.length) };
  },
  async consume(task) {
    await produce(kafka, task.topic, task.messages);
    const wanted = [0, 1, 2].map((p) => ({ topic: task.topic, partition: p, count: task.messages.filter((m) => m.partition === p).length }));
    const got = await rd.readAssigned(spec.bootstrap, wanted);
    return { read: Object.fromEntries(got.map((msgs, p) => [p, msgs])), note: 'read with the node-rdkafka-style KafkaConsumer (assign)' };
  },
  async 'mid-batch'(task) {
    // send() waits for the delivery reports without flushing, so oneBatch's settings hold.
    await produce(kafka, task.topic, task.messages, { codec: task.codec, extra: oneBatch(task.messages) });
    return { read: await readPartition0(spec.bootstrap, task.topic, task.messages.length - task.offset, task.offset) };
  },
  async group(task) {
    await produce(kafka, task.topic, task.first);
    const first = await groupRound(task.topic, task.group, task.first.length);
    await produce(kafka, task.topic, task.second);
    const second = await groupRound(task.topic, task.group, task.second.length);
    const [committed] = await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId: task.group, topics: [task.topic] }));
    return { first, second, committed: committed.partitions.map((p) => ({ partition: p.partition, offset: Number(p.offset) })) };
  },
  'consumer-protocol': consumerProtocol,
  async 'offsets-time'(task) {
    await produce(kafka, task.topic, task.messages);
    return withAdmin(kafka, async (admin) => {
      const result = {};
      for (const [name, ts] of Object.entries(task.queries)) {
        result[name] = Number((await admin.fetchTopicOffsetsByTimestamp(task.topic, ts)).find((p) => p.partition === 0).offset);
      }
      const ends = (await admin.fetchTopicOffsets(task.topic)).find((p) => p.partition === 0);
      return { ...result, earliest: Number(ends.low), latest: Number(ends.high) };
    });
  },
  async 'delete-topic'(task) {
    await produce(kafka, task.topic, task.messages);
    return withAdmin(kafka, async (admin) => {
      const before = (await admin.listTopics()).includes(task.topic);
      await admin.deleteTopics({ topics: [task.topic] });
      return { existedBefore: before, existsAfter: (await admin.listTopics()).includes(task.topic) };
    });
  },
  async idempotent(task) {
    await produce(kafka, task.topic, task.messages, { idempotent: true });
    return { read: await readPartition0(spec.bootstrap, task.topic, task.messages.length) };
  },
  async transactions(task) {
    const producer = kafka.producer({ kafkaJS: { transactionalId: task.transactionalId, idempotent: true, acks: -1 }, 'linger.ms': 5 });
    await producer.connect();
    try {
      for (const t of task.transactions) {
        const txn = await producer.transaction();
        await txn.send({ topic: task.topic, messages: t.messages.map(toRecord) });
        await (t.commit ? txn.commit() : txn.abort());
      }
    } finally {
      await producer.disconnect();
    }
    const committed = task.transactions.filter((t) => t.commit).reduce((n, t) => n + t.messages.length, 0);
    const [read] = await rd.readAssigned(spec.bootstrap, [{ topic: task.topic, partition: 0, count: committed }], { 'isolation.level': 'read_committed' });
    return { read, note: 'read with the node-rdkafka-style KafkaConsumer (assign, isolation.level=read_committed)' };
  },
  async 'unknown-topic'(task) {
    // librdkafka fails queued messages once the topic has stayed unknown this long.
    const error = await produceError(errKafka, task.topic, task.messages, { 'topic.metadata.propagation.max.ms': 1000 });
    return { error: `produce: ${error}` };
  },
  async 'too-large'(task) {
    const error = await produceError(errKafka, task.topic, [{ key: 'big', value: 'x'.repeat(task.largeBytes), headers: [], partition: 0 }]);
    await produce(errKafka, task.topic, task.messages);
    return { error, read: await readPartition0(spec.errBootstrap, task.topic, task.messages.length) };
  },
  async 'cross-produce'(task) {
    for (const t of task.topics) await produce(kafka, t.topic, task.messages, { codec: t.codec });
  },
  async 'cross-read'(task) {
    const got = await rd.readAssigned(spec.bootstrap, task.topics.map((t) => ({ topic: t.topic, partition: 0, count: t.count })));
    return { topics: Object.fromEntries(task.topics.map((t, i) => [t.topic, got[i]])) };
  },
});
