// kafka-node 5 scenarios: pure JS, Produce/Fetch v0-v2 with legacy message
// sets (magic 0/1), no record headers, gzip and snappy only.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { loadSpec, runTasks, securitySteps, until } from './lib.mjs';

// kafka-node loads snappy through the `optional` package, which resolves it
// from its own (top-level) directory: there it finds the broker's snappy 7,
// whose promise API never calls kafka-node's callbacks. Hand kafka-node the
// snappy 6 it declares and installs under its own node_modules instead.
const require = createRequire(import.meta.url);
const kafkaNodeRequire = createRequire(require.resolve('kafka-node'));
const ownSnappy = kafkaNodeRequire.resolve('snappy');
const seenSnappy = createRequire(kafkaNodeRequire.resolve('optional')).resolve('snappy');
const snappyRoot = ownSnappy.slice(0, ownSnappy.lastIndexOf('/node_modules/snappy/') + '/node_modules/snappy/'.length);
const snappyUsable = Number(kafkaNodeRequire(`${snappyRoot}package.json`).version.split('.')[0]) < 7;
if (seenSnappy !== ownSnappy && snappyUsable) {
  kafkaNodeRequire(ownSnappy);
  require.cache[seenSnappy] = require.cache[ownSnappy];
}
const kafkaNode = require('kafka-node');

const { KafkaClient, Producer, Consumer, ConsumerGroup, KeyedMessage, Admin } = kafkaNode;
const CODECS = { none: 0, gzip: 1, snappy: 2 };
const spec = loadSpec();
const open = [];

const call = (fn) => new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));

async function client(bootstrap, options = {}) {
  const c = new KafkaClient({ kafkaHost: bootstrap, requestTimeout: 10_000, connectTimeout: 5_000, connectRetryOptions: { retries: 1 }, ...options });
  open.push(c);
  await new Promise((resolve, reject) => {
    c.once('ready', resolve);
    c.once('error', reject);
  }).catch(async (err) => {
    // A client that could not connect (a refused login) goes on retrying and raising errors: close it.
    c.on('error', () => {});
    await close(c).catch(() => {});
    throw err;
  });
  return c;
}

const close = (c) => call((cb) => c.close(() => cb()));

async function produce(bootstrap, topic, messages, codec = 'none', options = {}) {
  if (codec === 'snappy' && !snappyUsable) throw new Error(`kafka-node's optional snappy 6 is not installed (found ${ownSnappy})`);
  const c = await client(bootstrap, options);
  try {
    const producer = new Producer(c, { requireAcks: -1, ackTimeoutMs: 10_000 });
    // The producer emits 'ready' from its constructor when the client is ready already.
    if (!producer.ready) {
      await new Promise((resolve, reject) => {
        producer.once('ready', resolve);
        producer.once('error', reject);
      });
    }
    const payloads = [];
    for (const p of [...new Set(messages.map((m) => m.partition))]) {
      const mine = messages.filter((m) => m.partition === p);
      payloads.push({
        topic,
        partition: p,
        attributes: CODECS[codec],
        messages: mine.map((m) => new KeyedMessage(m.key, m.value)),
        ...(mine[0].timestamp !== undefined ? { timestamp: mine[0].timestamp } : {}),
      });
    }
    return await call((cb) => producer.send(payloads, cb));
  } finally {
    await close(c);
  }
}

const fromMessage = (m) => ({ key: m.key ?? null, value: m.value ?? null, headers: [] });

/** kafka-node's plain Consumer: Fetch from explicit offsets, no group. wanted: [[topic, partition, count]]. */
async function readAssigned(bootstrap, wanted, from = 0, dropped = [], options = {}) {
  const c = await client(bootstrap, options);
  const got = new Map(wanted.map(([t, p]) => [`${t}/${p}`, []]));
  const consumer = new Consumer(c, wanted.map(([topic, partition]) => ({ topic, partition, offset: from })), {
    autoCommit: false,
    fromOffset: true,
    fetchMaxWaitMs: 100,
    encoding: 'utf8',
    keyEncoding: 'utf8',
  });
  let failure = null;
  consumer.on('message', (m) => {
    // The plain Consumer hands over every record of a compressed wrapper, also
    // those before the fetch offset (Kafka returns the whole wrapper); the
    // ConsumerGroup drops them (kafkaClient.js): do as it does, and check them.
    if (m.offset < from) {
      if (m.offset < 0 || dropped.includes(m.offset)) failure = new Error(`record before the fetch offset has offset ${m.offset}`);
      dropped.push(m.offset);
      return;
    }
    got.get(`${m.topic}/${m.partition}`).push(fromMessage(m));
  });
  consumer.on('error', (err) => (failure = err));
  await until(() => {
    if (failure) throw failure;
    return wanted.every(([t, p, n]) => got.get(`${t}/${p}`).length >= n);
  }, 30_000, `messages ${JSON.stringify(wanted)}`);
  await call((cb) => consumer.close(true, cb));
  await close(c).catch(() => {});
  return got;
}

async function readGroup(bootstrap, topic, groupId, count) {
  const group = new ConsumerGroup(
    { kafkaHost: bootstrap, groupId, fromOffset: 'earliest', autoCommit: false, fetchMaxWaitMs: 100, encoding: 'utf8', keyEncoding: 'utf8', sessionTimeout: 10_000 },
    [topic],
  );
  open.push(group);
  const got = [];
  let failure = null;
  group.on('message', (m) => got.push(fromMessage(m)));
  group.on('error', (err) => (failure = err));
  await until(() => {
    if (failure) throw failure;
    return got.length >= count;
  }, 30_000, `${count} messages in group ${groupId}`);
  await call((cb) => group.commit(true, cb));
  await call((cb) => group.close(false, cb));
  return got;
}

/** A security step's connection as client options: `ssl` with the CA, `sasl` (PLAIN only in kafka-node). */
const securityOptions = (conn) => ({
  ...(conn.ca === undefined ? {} : { sslOptions: { ca: readFileSync(conn.ca, 'utf8') } }),
  ...(conn.mechanism === undefined ? {} : { sasl: { mechanism: conn.mechanism.toLowerCase(), username: conn.username, password: conn.password } }),
});

const errorText = (err) => (err === null || err === undefined ? null : `${err.name}: ${err.message}`);

await runTasks(
  spec,
  {
    async metadata(task) {
      const c = await client(spec.bootstrap);
      const [brokers, { metadata }] = await call((cb) => c.loadMetadataForTopics([task.topic], cb));
      await close(c);
      return {
        brokers: Object.values(brokers).map((b) => ({ id: b.nodeId, host: b.host, port: b.port })),
        partitions: Object.values(metadata[task.topic]).map((p) => ({ id: p.partition, leader: p.leader, error: 0 })),
      };
    },
    async 'create-topic'(task) {
      const c = await client(spec.bootstrap);
      const admin = new Admin(c);
      const topics = [{ topic: task.topic, partitions: task.partitions, replicationFactor: 1 }];
      const first = await call((cb) => admin.createTopics(topics, cb));
      if (first.length > 0) throw new Error(`createTopics: ${JSON.stringify(first)}`);
      const [, { metadata }] = await call((cb) => c.loadMetadataForTopics([task.topic], cb));
      const again = await call((cb) => admin.createTopics(topics, cb));
      await close(c);
      return { partitions: Object.keys(metadata[task.topic]).length, duplicate: JSON.stringify(again) };
    },
    async produce(task) {
      await produce(spec.bootstrap, task.topic, task.messages, task.codec);
      const got = await readAssigned(spec.bootstrap, [[task.topic, 0, task.messages.length]]);
      return { read: got.get(`${task.topic}/0`) };
    },
    async consume(task) {
      await produce(spec.bootstrap, task.topic, task.messages);
      const wanted = [0, 1, 2].map((p) => [task.topic, p, task.messages.filter((m) => m.partition === p).length]);
      const got = await readAssigned(spec.bootstrap, wanted);
      return { read: Object.fromEntries(wanted.map(([t, p]) => [p, got.get(`${t}/${p}`)])) };
    },
    async 'mid-batch'(task) {
      await produce(spec.bootstrap, task.topic, task.messages, task.codec);
      const dropped = [];
      const got = await readAssigned(spec.bootstrap, [[task.topic, 0, task.messages.length - task.offset]], task.offset, dropped);
      return { read: got.get(`${task.topic}/0`), note: `the wrapper also held offsets [${dropped}], dropped as kafka-node's ConsumerGroup does` };
    },
    async group(task) {
      await produce(spec.bootstrap, task.topic, task.first);
      const first = await readGroup(spec.bootstrap, task.topic, task.group, task.first.length);
      await produce(spec.bootstrap, task.topic, task.second);
      const second = await readGroup(spec.bootstrap, task.topic, task.group, task.second.length);
      return { first, second };
    },
    security: (task) =>
      securitySteps(task, {
        async roundTrip(step) {
          await produce(step.conn.bootstrap, step.topic, step.messages, 'none', securityOptions(step.conn));
          return (await readAssigned(step.conn.bootstrap, [[step.topic, 0, step.messages.length]], 0, [], securityOptions(step.conn))).get(`${step.topic}/0`);
        },
        async refused(step) {
          let error = 'delivered';
          await produce(step.conn.bootstrap, step.topic, step.messages, 'none', securityOptions(step.conn)).catch((err) => (error = errorText(err)));
          return error;
        },
      }),
    async 'unknown-topic'(task) {
      let error = null;
      await produce(spec.errBootstrap, task.topic, task.messages).catch((err) => (error = errorText(err)));
      return { error };
    },
    async 'too-large'(task) {
      let error = null;
      const big = [{ key: 'big', value: 'x'.repeat(task.largeBytes), headers: [], partition: 0 }];
      await produce(spec.errBootstrap, task.topic, big).catch((err) => (error = errorText(err)));
      await produce(spec.errBootstrap, task.topic, task.messages);
      const got = await readAssigned(spec.errBootstrap, [[task.topic, 0, task.messages.length]]);
      return { error, read: got.get(`${task.topic}/0`) };
    },
    async 'cross-produce'(task) {
      for (const t of task.topics) await produce(spec.bootstrap, t.topic, task.messages, t.codec);
    },
    async 'cross-read'(task) {
      const got = await readAssigned(spec.bootstrap, task.topics.map((t) => [t.topic, 0, t.count]));
      return { topics: Object.fromEntries(task.topics.map((t) => [t.topic, got.get(`${t.topic}/0`)])) };
    },
  },
  async () => {
    await Promise.allSettled(open.map((c) => new Promise((resolve) => c.close(() => resolve()))));
  },
);
