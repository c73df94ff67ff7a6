// kafkajs 2.2.4 scenarios. kafkajs ships gzip only; snappy, lz4 and zstd are
// plug-in codecs by design (kafkajs-snappy, kafkajs-lz4, @kafkajs/zstd): the
// three below do what those plug-ins do, on the codec libraries installed here.
import kafkajs from 'kafkajs';
import * as snappy from 'snappy';
import * as lz4 from 'lz4-napi';
import * as zstd from '@mongodb-js/zstd';
import { readFileSync } from 'node:fs';
import { loadSpec, runTasks, securitySteps, text, until } from './lib.mjs';

const { Kafka, logLevel, CompressionTypes, CompressionCodecs, ConfigResourceTypes } = kafkajs;

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

/** Kafka's Java producer writes snappy in xerial framing; raw snappy otherwise. */
async function snappyDecompress(buf) {
  if (buf.length < 16 || !buf.subarray(0, 8).equals(XERIAL_MAGIC)) return snappy.uncompress(buf);
  const blocks = [];
  for (let pos = 16; pos < buf.length; ) {
    const size = buf.readUInt32BE(pos);
    blocks.push(await snappy.uncompress(buf.subarray(pos + 4, pos + 4 + size)));
    pos += 4 + size;
  }
  return Buffer.concat(blocks);
}

CompressionCodecs[CompressionTypes.Snappy] = () => ({
  compress: async (encoder) => snappy.compress(encoder.buffer),
  decompress: snappyDecompress,
});
CompressionCodecs[CompressionTypes.LZ4] = () => ({
  compress: async (encoder) => lz4.compressFrame(encoder.buffer),
  decompress: (buf) => lz4.decompressFrame(buf),
});
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: async (encoder) => zstd.compress(encoder.buffer, 3),
  decompress: (buf) => zstd.decompress(buf),
});

const CODECS = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

const spec = loadSpec();
const kafkaFor = (bootstrap) =>
  new Kafka({ clientId: 'compat-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
const kafka = kafkaFor(spec.bootstrap);
const errKafka = kafkaFor(spec.errBootstrap);
const open = [];

/** A security step's client: `ssl` with the CA, `sasl` with the mechanism and credentials. */
const secureKafka = (conn) =>
  new Kafka({
    clientId: 'compat-kafkajs',
    brokers: [conn.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 1, initialRetryTime: 100 },
    ssl: conn.ca === undefined ? undefined : { ca: [readFileSync(conn.ca, 'utf8')] },
    sasl: conn.mechanism === undefined ? undefined : { mechanism: conn.mechanism.toLowerCase(), username: conn.username, password: conn.password },
  });

async function connected(client) {
  await client.connect();
  open.push(client);
  return client;
}

const toRecord = (m) => ({
  key: m.key,
  value: m.value,
  headers: Object.fromEntries(m.headers.map(([k, v]) => [k, v])),
  ...(m.timestamp !== undefined ? { timestamp: String(m.timestamp) } : {}),
});

const fromMessage = (m) => ({
  key: text(m.key),
  value: text(m.value),
  headers: Object.entries(m.headers ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k, text(x)])),
});

async function produce(client, topic, messages, extra = {}) {
  const producer = await connected(client.producer({ allowAutoTopicCreation: true, ...extra.producer }));
  await producer.send({ topic, compression: extra.compression ?? CompressionTypes.None, acks: -1, messages: messages.map(toRecord) });
  await producer.disconnect();
}

/** kafkajs consumers always belong to a group: read-backs use a fresh one. */
async function readTopics(client, topics, counts, groupId = `compat-read-${Math.random().toString(36).slice(2)}`, extra = {}) {
  const consumer = await connected(client.consumer({ groupId, maxWaitTimeInMs: 200, ...extra }));
  const got = Object.fromEntries(topics.map((t) => [t, []]));
  for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ topic, message }) => void got[topic].push(fromMessage(message)) });
  await until(() => topics.every((t, i) => got[t].length >= counts[i]), 30_000, `${counts} messages from ${topics}`);
  await consumer.disconnect();
  return got;
}

await runTasks(
  spec,
  {
    async metadata(task) {
      const admin = await connected(kafka.admin());
      const cluster = await admin.describeCluster();
      const meta = await admin.fetchTopicMetadata({ topics: [task.topic] });
      await admin.disconnect();
      return {
        brokers: cluster.brokers.map((b) => ({ id: b.nodeId, host: b.host, port: b.port })),
        partitions: meta.topics[0].partitions.map((p) => ({ id: p.partitionId, leader: p.leader, error: p.partitionErrorCode })),
      };
    },
    async 'create-topic'(task) {
      const admin = await connected(kafka.admin());
      const created = await admin.createTopics({ topics: [{ topic: task.topic, numPartitions: task.partitions }], waitForLeaders: true });
      const meta = await admin.fetchTopicMetadata({ topics: [task.topic] });
      // kafkajs answers false instead of throwing when the topic exists already.
      const again = await admin.createTopics({ topics: [{ topic: task.topic, numPartitions: task.partitions }] });
      await admin.disconnect();
      return { created, partitions: meta.topics[0].partitions.length, duplicate: again === false ? 'TOPIC_ALREADY_EXISTS (createTopics returned false)' : `createTopics returned ${again}` };
    },
    async produce(task) {
      await produce(kafka, task.topic, task.messages, { compression: CODECS[task.codec] });
      const got = await readTopics(kafka, [task.topic], [task.messages.length]);
      return { read: got[task.topic] };
    },
    async 'mid-batch'(task) {
      await produce(kafka, task.topic, task.messages, { compression: CODECS[task.codec] });
      // kafkajs has no group-less consumer: start a fresh group at the offset.
      const groupId = `compat-mid-${Math.random().toString(36).slice(2)}`;
      const admin = await connected(kafka.admin());
      await admin.setOffsets({ groupId, topic: task.topic, partitions: [{ partition: 0, offset: String(task.offset) }] });
      await admin.disconnect();
      const got = await readTopics(kafka, [task.topic], [task.messages.length - task.offset], groupId);
      return { read: got[task.topic] };
    },
    async group(task) {
      const producer = await connected(kafka.producer());
      await producer.send({ topic: task.topic, messages: task.first.map((m) => ({ ...toRecord(m), partition: m.partition })) });
      const first = [];
      const c1 = await connected(kafka.consumer({ groupId: task.group, maxWaitTimeInMs: 200 }));
      await c1.subscribe({ topic: task.topic, fromBeginning: true });
      await c1.run({ autoCommit: true, eachMessage: async ({ message }) => void first.push(fromMessage(message)) });
      await until(() => first.length >= task.first.length, 30_000, 'first round');
      await c1.disconnect(); // commits the resolved offsets
      await producer.send({ topic: task.topic, messages: task.second.map((m) => ({ ...toRecord(m), partition: m.partition })) });
      await producer.disconnect();
      const second = [];
      const c2 = await connected(kafka.consumer({ groupId: task.group, maxWaitTimeInMs: 200 }));
      await c2.subscribe({ topic: task.topic, fromBeginning: true });
      await c2.run({ eachMessage: async ({ message }) => void second.push(fromMessage(message)) });
      await until(() => second.length >= task.second.length, 30_000, 'second round');
      await c2.disconnect();
      const admin = await connected(kafka.admin());
      const committed = await admin.fetchOffsets({ groupId: task.group, topics: [task.topic] });
      await admin.disconnect();
      return { first, second, committed: committed[0].partitions.map((p) => ({ partition: p.partition, offset: Number(p.offset) })) };
    },
    async 'offsets-time'(task) {
      await produce(kafka, task.topic, task.messages);
      const admin = await connected(kafka.admin());
      const at = async (ts) => Number((await admin.fetchTopicOffsetsByTimestamp(task.topic, ts))[0].offset);
      const ends = (await admin.fetchTopicOffsets(task.topic))[0];
      const result = {};
      for (const [name, ts] of Object.entries(task.queries)) result[name] = await at(ts);
      await admin.disconnect();
      return { ...result, earliest: Number(ends.low), latest: Number(ends.high) };
    },
    async 'delete-topic'(task) {
      await produce(kafka, task.topic, task.messages);
      const admin = await connected(kafka.admin());
      const before = (await admin.listTopics()).includes(task.topic);
      await admin.deleteTopics({ topics: [task.topic] });
      const after = (await admin.listTopics()).includes(task.topic);
      await admin.disconnect();
      return { existedBefore: before, existsAfter: after };
    },
    async idempotent(task) {
      await produce(kafka, task.topic, task.messages, { producer: { idempotent: true, maxInFlightRequests: 1 } });
      const got = await readTopics(kafka, [task.topic], [task.messages.length]);
      return { read: got[task.topic] };
    },
    async transactions(task) {
      const producer = await connected(kafka.producer({ transactionalId: task.transactionalId, idempotent: true, maxInFlightRequests: 1 }));
      for (const t of task.transactions) {
        const txn = await producer.transaction();
        await txn.send({ topic: task.topic, acks: -1, messages: t.messages.map((m) => ({ ...toRecord(m), partition: m.partition })) });
        await (t.commit ? txn.commit() : txn.abort());
      }
      await producer.disconnect();
      const committed = task.transactions.filter((t) => t.commit).reduce((n, t) => n + t.messages.length, 0);
      const got = await readTopics(kafka, [task.topic], [committed], undefined, { readUncommitted: false });
      return { read: got[task.topic] };
    },
    async 'topic-configs'(task) {
      const admin = await connected(kafka.admin());
      const resource = { type: ConfigResourceTypes.TOPIC, name: task.topic };
      const describe = async () =>
        (await admin.describeConfigs({ resources: [{ ...resource, configNames: [task.config] }], includeSynonyms: false })).resources[0].configEntries.find(
          (e) => e.configName === task.config,
        )?.configValue;
      const before = await describe();
      await admin.alterConfigs({ validateOnly: false, resources: [{ ...resource, configEntries: [{ name: task.config, value: task.value }] }] });
      const after = await describe();
      await admin.disconnect();
      return { before, after };
    },
    security: (task) =>
      securitySteps(task, {
        async roundTrip(step) {
          const client = secureKafka(step.conn);
          await produce(client, step.topic, step.messages);
          return (await readTopics(client, [step.topic], [step.messages.length]))[step.topic];
        },
        async refused(step) {
          const producer = secureKafka(step.conn).producer({ retry: { retries: 1, initialRetryTime: 100 } });
          try {
            await producer.connect();
            await producer.send({ topic: step.topic, acks: -1, messages: step.messages.map(toRecord) });
            return 'delivered';
          } catch (err) {
            return `${err.name}: ${err.type ?? ''} ${err.message}`;
          } finally {
            await producer.disconnect();
          }
        },
      }),
    async 'unknown-topic'(task) {
      const producer = await connected(errKafka.producer({ allowAutoTopicCreation: false, retry: { retries: 1, initialRetryTime: 100 } }));
      let error = null;
      try {
        await producer.send({ topic: task.topic, messages: task.messages.map(toRecord) });
      } catch (err) {
        error = `${err.name}: ${err.type ?? ''} ${err.message}`;
      }
      await producer.disconnect();
      return { error };
    },
    async 'too-large'(task) {
      const producer = await connected(errKafka.producer({ retry: { retries: 1, initialRetryTime: 100 } }));
      let error = null;
      try {
        await producer.send({ topic: task.topic, messages: [{ key: 'big', value: Buffer.alloc(task.largeBytes, 'x') }] });
      } catch (err) {
        error = `${err.name}: ${err.type ?? ''} ${err.message}`;
      }
      await producer.send({ topic: task.topic, messages: task.messages.map(toRecord) });
      await producer.disconnect();
      const got = await readTopics(errKafka, [task.topic], [task.messages.length]);
      return { error, read: got[task.topic] };
    },
    async 'cross-produce'(task) {
      for (const t of task.topics) await produce(kafka, t.topic, task.messages, { compression: CODECS[t.codec] });
    },
    async 'cross-read'(task) {
      const got = await readTopics(kafka, task.topics.map((t) => t.topic), task.topics.map((t) => t.count));
      return { topics: got };
    },
  },
  async () => {
    await Promise.allSettled(open.map((c) => c.disconnect()));
  },
);
