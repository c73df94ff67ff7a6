// @platformatic/kafka scenarios: it speaks only the flexible (KIP-482) versions.
import { Admin, Consumer, Producer } from '@platformatic/kafka';
import { readFileSync } from 'node:fs';
import { loadSpec, runTasks, securitySteps, text, until } from './lib.mjs';

const spec = loadSpec();
const open = [];
const base = (bootstrap) => ({ clientId: 'compat-platformatic', bootstrapBrokers: [bootstrap], retries: 2, retryDelay: 100 });
const track = (client) => (open.push(client), client);

const toRecord = (topic, m) => ({
  topic,
  key: Buffer.from(m.key),
  value: Buffer.from(m.value),
  partition: m.partition,
  headers: new Map(m.headers.map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
  ...(m.timestamp !== undefined ? { timestamp: BigInt(m.timestamp) } : {}),
});

const fromRecord = (r) => ({
  key: text(r.key),
  value: text(r.value),
  headers: [...(r.headers instanceof Map ? r.headers.entries() : r.headers ?? [])].map(([k, v]) => [text(k), text(v)]),
});

/** A security step's connection as client options: `tls` with the CA, `sasl` with the mechanism and credentials. */
const securityOptions = (conn) => ({
  ...(conn.ca === undefined ? {} : { tls: { ca: readFileSync(conn.ca, 'utf8') } }),
  ...(conn.mechanism === undefined ? {} : { sasl: { mechanism: conn.mechanism, username: conn.username, password: conn.password } }),
});

async function produce(bootstrap, topic, messages, options = {}) {
  const producer = track(new Producer({ ...base(bootstrap), autocreateTopics: true, acks: -1, ...options }));
  try {
    await producer.send({ messages: messages.map((m) => toRecord(topic, m)) });
  } finally {
    await producer.close();
  }
}

/** No group: Fetch requests straight to the leader, by topic id. wanted: [[topic, partition, count]]. */
async function readAssigned(bootstrap, wanted, from = 0n, options = {}) {
  const consumer = track(new Consumer({ ...base(bootstrap), groupId: 'compat-unused', ...options }));
  const meta = await consumer.metadata({ topics: [...new Set(wanted.map(([t]) => t))] });
  const got = new Map(wanted.map(([t, p]) => [`${t}/${p}`, []]));
  const next = new Map(wanted.map(([t, p]) => [`${t}/${p}`, from]));
  const done = () => wanted.every(([t, p, n]) => got.get(`${t}/${p}`).length >= n);
  await until(async () => {
    const todo = wanted.filter(([t, p, n]) => got.get(`${t}/${p}`).length < n);
    const byTopic = new Map();
    for (const [t, p] of todo) {
      const id = meta.topics.get(t).id;
      if (!byTopic.has(id)) byTopic.set(id, { topic: t, partitions: [] });
      byTopic.get(id).partitions.push({ partition: p, currentLeaderEpoch: -1, fetchOffset: next.get(`${t}/${p}`), lastFetchedEpoch: -1, partitionMaxBytes: 1 << 20 });
    }
    const res = await consumer.fetch({ node: meta.topics.get(todo[0][0]).partitions[todo[0][1]].leader, maxWaitTime: 100, topics: [...byTopic].map(([topicId, t]) => ({ topicId, partitions: t.partitions })) });
    for (const topicRes of res.responses) {
      const name = byTopic.get(topicRes.topicId).topic;
      for (const part of topicRes.partitions) {
        if (part.errorCode !== 0) throw new Error(`fetch ${name}/${part.partitionIndex}: error ${part.errorCode}`);
        const k = `${name}/${part.partitionIndex}`;
        for (const batch of part.records ?? []) {
          for (const r of batch.records) {
            const offset = batch.firstOffset + BigInt(r.offsetDelta);
            if (offset < next.get(k)) continue;
            got.get(k).push(fromRecord(r));
            next.set(k, offset + 1n);
          }
        }
      }
    }
    return done();
  }, 30_000, `messages ${JSON.stringify(wanted)}`);
  await consumer.close();
  return got;
}

async function readGroup(bootstrap, topic, groupId, count) {
  const consumer = track(new Consumer({ ...base(bootstrap), groupId, autocommit: false, maxWaitTime: 100 }));
  const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
  const got = [];
  const last = new Map();
  stream.on('data', (m) => {
    got.push(fromRecord(m));
    last.set(m.partition, m);
  });
  await until(() => got.length >= count, 30_000, `${count} messages in group ${groupId}`);
  for (const m of last.values()) await m.commit();
  await stream.close();
  await consumer.close();
  return got;
}

/**
 * The consumer-protocol scenario: two consumers with `groupProtocol: 'consumer'` (KIP-848) share the
 * partitions, read the first messages, commit and leave; one more resumes from their commits.
 */
async function consumerProtocol(task) {
  const join = async () => {
    const consumer = track(new Consumer({ ...base(spec.bootstrap), clientId: task.clientId, groupId: task.group, groupProtocol: 'consumer', autocommit: false, maxWaitTime: 100 }));
    const stream = await consumer.consume({ topics: [task.topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
    const m = { consumer, stream, got: [], last: new Map(), fetches: 0 };
    stream.on('fetch', () => m.fetches++);
    stream.on('data', (r) => {
      m.got.push(fromRecord(r));
      m.last.set(r.partition, r);
    });
    return m;
  };
  const leave = async (m) => {
    for (const r of m.last.values()) await r.commit();
    await m.stream.close();
    await m.consumer.close();
  };
  const held = (m) => [...(m.consumer.assignments?.find((a) => a.topic === task.topic)?.partitions ?? [])].sort((x, y) => x - y);
  const members = [await join(), await join()];
  await until(() => members.every((m) => held(m).length > 0) && new Set(members.flatMap(held)).size === task.partitions, 60_000, 'the two members to share the partitions');
  const assignments = members.map(held);
  // A fetch sent before a revocation still delivers the revoked partitions' records: wait until each
  // member's stream has had two fetches answered since the split (one fetch per broker is in flight).
  const since = members.map((m) => m.fetches);
  await until(() => members.every((m, i) => m.fetches >= since[i] + 2), 30_000, 'fetches after the split');
  await produce(spec.bootstrap, task.topic, task.first);
  await until(() => members.reduce((n, m) => n + m.got.length, 0) >= task.first.length, 30_000, `${task.first.length} messages`);
  for (const m of members) await leave(m);
  await produce(spec.bootstrap, task.topic, task.second);
  const last = await join();
  await until(() => last.got.length >= task.second.length, 30_000, `${task.second.length} messages`);
  for (const r of last.last.values()) await r.commit();
  const partitions = [...Array(task.partitions).keys()];
  const offsets = (await last.consumer.listCommittedOffsets({ topics: [{ topic: task.topic, partitions }] })).get(task.topic);
  await leave(last);
  const committed = partitions.map((partition) => ({ partition, offset: Number(offsets[partition]) }));
  return { first: members.flatMap((m) => m.got), assignments, second: last.got, committed, note: "groupProtocol: 'consumer'; the members' streams fetch twice after the split before the messages are produced: @platformatic/kafka 1.35 delivers the records a fetch sent before a revocation brings back for the revoked partitions (a member read two partitions it had just given up, and the other member read them too)" };
}

/** A fresh group's stream from the earliest offsets, isolation READ_COMMITTED (the stream skips control batches). */
async function readCommitted(bootstrap, topic, count) {
  const consumer = track(new Consumer({ ...base(bootstrap), groupId: `compat-rc-${Math.random().toString(36).slice(2)}`, autocommit: false, maxWaitTime: 100, isolationLevel: 1 }));
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  const got = [];
  stream.on('data', (m) => got.push(fromRecord(m)));
  await until(() => got.length >= count, 30_000, `${count} committed messages of ${topic}`);
  await stream.close();
  await consumer.close();
  return got;
}

/** Platformatic nests the broker's error codes (apiId) in `errors` and `response`. */
function errorText(err) {
  const found = [];
  const walk = (e, depth) => {
    if (e === null || typeof e !== 'object' || depth > 6) return;
    if (e.apiId || e.message) found.push([e.apiId, e.message].filter(Boolean).join(': '));
    for (const inner of e.errors ?? []) walk(inner, depth + 1);
    if (e.cause) walk(e.cause, depth + 1);
  };
  walk(err, 0);
  return found.join(' | ');
}

await runTasks(
  spec,
  {
    async metadata(task) {
      const admin = track(new Admin(base(spec.bootstrap)));
      const meta = await admin.metadata({ topics: [task.topic] });
      await admin.close();
      return {
        brokers: [...meta.brokers].map(([id, b]) => ({ id, host: b.host, port: b.port })),
        partitions: meta.topics.get(task.topic).partitions.map((p, id) => ({ id, leader: p.leader, error: 0 })),
      };
    },
    async 'create-topic'(task) {
      const admin = track(new Admin(base(spec.bootstrap)));
      await admin.createTopics({ topics: [task.topic], partitions: task.partitions, replicas: 1 });
      const meta = await admin.metadata({ topics: [task.topic] });
      let duplicate = 'no error';
      await admin.createTopics({ topics: [task.topic], partitions: task.partitions, replicas: 1 }).catch((err) => (duplicate = errorText(err)));
      await admin.close();
      return { partitions: meta.topics.get(task.topic).partitionsCount, duplicate };
    },
    async produce(task) {
      await produce(spec.bootstrap, task.topic, task.messages, task.codec === 'none' ? {} : { compression: task.codec });
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
      await produce(spec.bootstrap, task.topic, task.messages, { compression: task.codec });
      const got = await readAssigned(spec.bootstrap, [[task.topic, 0, task.messages.length - task.offset]], BigInt(task.offset));
      return { read: got.get(`${task.topic}/0`) };
    },
    async group(task) {
      await produce(spec.bootstrap, task.topic, task.first);
      const first = await readGroup(spec.bootstrap, task.topic, task.group, task.first.length);
      await produce(spec.bootstrap, task.topic, task.second);
      const second = await readGroup(spec.bootstrap, task.topic, task.group, task.second.length);
      return { first, second };
    },
    'consumer-protocol': consumerProtocol,
    async 'offsets-time'(task) {
      await produce(spec.bootstrap, task.topic, task.messages);
      const consumer = track(new Consumer({ ...base(spec.bootstrap), groupId: 'compat-unused' }));
      const at = async (ts) => Number((await consumer.listOffsets({ topics: [task.topic], timestamp: BigInt(ts) })).get(task.topic)[0]);
      const out = {};
      for (const [name, ts] of Object.entries(task.queries)) out[name] = await at(ts);
      out.earliest = await at(-2);
      out.latest = await at(-1);
      await consumer.close();
      return out;
    },
    async 'delete-topic'(task) {
      await produce(spec.bootstrap, task.topic, task.messages);
      const admin = track(new Admin(base(spec.bootstrap)));
      const existedBefore = (await admin.listTopics()).includes(task.topic);
      await admin.deleteTopics({ topics: [task.topic] });
      const existsAfter = (await admin.listTopics()).includes(task.topic);
      await admin.close();
      return { existedBefore, existsAfter };
    },
    async idempotent(task) {
      await produce(spec.bootstrap, task.topic, task.messages, { idempotent: true });
      const got = await readAssigned(spec.bootstrap, [[task.topic, 0, task.messages.length]]);
      return { read: got.get(`${task.topic}/0`) };
    },
    async 'topic-configs'(task) {
      const admin = track(new Admin(base(spec.bootstrap)));
      const TOPIC = 2; // ConfigResourceTypes.TOPIC
      const describe = async () =>
        (await admin.describeConfigs({ resources: [{ resourceType: TOPIC, resourceName: task.topic, configurationKeys: [task.config] }] }))[0].configs.find(
          (c) => c.name === task.config,
        )?.value;
      const before = await describe();
      await admin.alterConfigs({ resources: [{ resourceType: TOPIC, resourceName: task.topic, configs: [{ name: task.config, value: task.value }] }] });
      const after = await describe();
      await admin.close();
      return { before, after };
    },
    async transactions(task) {
      const producer = track(new Producer({ ...base(spec.bootstrap), idempotent: true, transactionalId: task.transactionalId, acks: -1 }));
      for (const t of task.transactions) {
        const txn = await producer.beginTransaction();
        await txn.send({ messages: t.messages.map((m) => toRecord(task.topic, m)) });
        await (t.commit ? txn.commit() : txn.abort());
      }
      await producer.close();
      const committed = task.transactions.filter((t) => t.commit).reduce((n, t) => n + t.messages.length, 0);
      return { read: await readCommitted(spec.bootstrap, task.topic, committed) };
    },
    security: (task) =>
      securitySteps(task, {
        async roundTrip(step) {
          await produce(step.conn.bootstrap, step.topic, step.messages, securityOptions(step.conn));
          return (await readAssigned(step.conn.bootstrap, [[step.topic, 0, step.messages.length]], 0n, securityOptions(step.conn))).get(`${step.topic}/0`);
        },
        async refused(step) {
          let error = 'delivered';
          await produce(step.conn.bootstrap, step.topic, step.messages, { ...securityOptions(step.conn), retries: 0 }).catch((err) => (error = errorText(err)));
          return error;
        },
      }),
    async 'unknown-topic'(task) {
      let error = null;
      await produce(spec.errBootstrap, task.topic, task.messages, { autocreateTopics: false, retries: 1 }).catch((err) => (error = errorText(err)));
      return { error };
    },
    async 'too-large'(task) {
      let error = null;
      const big = [{ key: 'big', value: 'x'.repeat(task.largeBytes), headers: [], partition: 0 }];
      await produce(spec.errBootstrap, task.topic, big, { retries: 0 }).catch((err) => (error = errorText(err)));
      await produce(spec.errBootstrap, task.topic, task.messages);
      const got = await readAssigned(spec.errBootstrap, [[task.topic, 0, task.messages.length]]);
      return { error, read: got.get(`${task.topic}/0`) };
    },
    async 'cross-produce'(task) {
      for (const t of task.topics) await produce(spec.bootstrap, t.topic, task.messages, t.codec === 'none' ? {} : { compression: t.codec });
    },
    async 'cross-read'(task) {
      // Topic by topic: one undecodable batch fails the whole Fetch.
      const topics = {};
      const errors = {};
      for (const t of task.topics) {
        try {
          topics[t.topic] = (await readAssigned(spec.bootstrap, [[t.topic, 0, t.count]])).get(`${t.topic}/0`);
        } catch (err) {
          errors[t.topic] = errorText(err);
        }
      }
      return { topics, errors };
    },
  },
  async () => {
    await Promise.allSettled(open.map((c) => c.close()));
  },
);
