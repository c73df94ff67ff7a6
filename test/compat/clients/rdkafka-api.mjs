// The node-rdkafka API (Producer, KafkaConsumer, AdminClient with callbacks and
// events), as promises: node-rdkafka.mjs uses it for everything, and
// confluent-kafka-javascript.mjs for what its KafkaJS-style API lacks, since
// @confluentinc/kafka-javascript carries the same API (it began as a fork).
import { rdkafkaSecurity, until } from './lib.mjs';

const buf = (s) => (s === null || s === undefined ? null : Buffer.from(s, 'utf8'));
const text = (b) => (b === null || b === undefined ? null : Buffer.from(b).toString('utf8'));

/**
 * librdkafka producer settings that put `messages` (all to one partition) into
 * one batch whatever the machine's speed: librdkafka sends a partition's batch
 * once it holds batch.num.messages messages, or once linger.ms has passed since
 * its first one. With the count exactly that of the messages and a linger far
 * longer than queueing them takes, the batch leaves when the last one is queued.
 * The producer must then wait for the delivery reports, not flush: a flush
 * sends whatever is queued at once.
 */
export const oneBatch = (messages) => ({ 'batch.num.messages': String(messages.length), 'linger.ms': '15000', 'message.timeout.ms': '30000' });

/** A message as the scripts report it: key, value, headers as [name, value] pairs. */
export function fromRdkafka(m) {
  return {
    key: text(m.key),
    value: text(m.value),
    headers: (m.headers ?? []).flatMap((h) => Object.entries(h).map(([k, v]) => [k, text(v)])),
  };
}

/** `Kafka` is the module (node-rdkafka, or @confluentinc/kafka-javascript). */
export function rdkafkaApi(Kafka, clientId) {
  const connect = (client) =>
    new Promise((resolve, reject) => client.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve(client))));
  const disconnect = (client) => new Promise((resolve) => client.disconnect(() => resolve()));
  const call = (fn) => new Promise((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result))));

  /** Produces every message with one producer; throws the first failed delivery. */
  async function produce(bootstrap, topic, messages, conf = {}) {
    const p = new Kafka.Producer({ 'bootstrap.servers': bootstrap, 'client.id': clientId, dr_cb: true, 'linger.ms': 5, 'message.timeout.ms': 10_000, ...conf });
    await connect(p);
    const failed = [];
    let reported = 0;
    p.on('delivery-report', (err) => {
      reported++;
      if (err) failed.push(err);
    });
    p.setPollInterval(20);
    try {
      for (const m of messages) {
        const headers = m.headers.map(([k, v]) => ({ [k]: buf(v) }));
        p.produce(topic, m.partition ?? 0, buf(m.value), buf(m.key), m.timestamp ?? 0, null, headers);
      }
      // Delivery first, then a flush that has nothing left to send: flushing at once would
      // send what is queued without lingering (see oneBatch).
      await until(() => reported >= messages.length, 30_000, 'delivery reports');
      await call((cb) => p.flush(20_000, cb));
    } finally {
      await disconnect(p);
    }
    if (failed.length > 0) throw failed[0];
  }

  /**
   * One transactional producer runs `transactions` ([{ commit, messages }]) in turn: each one's messages are
   * delivered before it is committed or aborted (an aborted transaction has data to abort).
   */
  async function produceTransactions(bootstrap, topic, transactionalId, transactions) {
    const p = new Kafka.Producer({ 'bootstrap.servers': bootstrap, 'client.id': clientId, 'transactional.id': transactionalId, dr_cb: true, 'linger.ms': 5 });
    await connect(p);
    const failed = [];
    let reported = 0;
    p.on('delivery-report', (err) => {
      reported++;
      if (err) failed.push(err);
    });
    p.setPollInterval(20);
    try {
      await call((cb) => p.initTransactions(30_000, cb));
      let sent = 0;
      for (const t of transactions) {
        await call((cb) => p.beginTransaction(cb));
        for (const m of t.messages) {
          p.produce(topic, m.partition ?? 0, buf(m.value), buf(m.key), 0, null, m.headers.map(([k, v]) => ({ [k]: buf(v) })));
        }
        sent += t.messages.length;
        await until(() => reported >= sent, 30_000, 'delivery reports');
        if (failed.length > 0) throw failed[0];
        await call((cb) => (t.commit ? p.commitTransaction(30_000, cb) : p.abortTransaction(30_000, cb)));
      }
    } finally {
      await disconnect(p);
    }
  }

  /** Produces expecting a failure: resolves to the error it reported (null if none). */
  async function produceError(bootstrap, topic, messages, conf = {}) {
    try {
      await produce(bootstrap, topic, messages, conf);
      return null;
    } catch (err) {
      return `${err.code ?? ''} ${err.message}`.trim();
    }
  }

  /**
   * The steps of a security row (lib.mjs securitySteps): produce and read back with the step's connection
   * settings; or produce where the broker refuses, reporting the delivery error and the errors librdkafka
   * logged or raised (after an authentication failure the connection fails and the messages time out).
   */
  const security = {
    async roundTrip(step) {
      const conf = rdkafkaSecurity(step.conn);
      await produce(step.conn.bootstrap, step.topic, step.messages, conf);
      return (await readAssigned(step.conn.bootstrap, [{ topic: step.topic, partition: 0, count: step.messages.length }], conf))[0];
    },
    async refused(step) {
      const errors = [];
      const p = new Kafka.Producer({ 'bootstrap.servers': step.conn.bootstrap, 'client.id': clientId, dr_cb: true, 'message.timeout.ms': 5000, ...rdkafkaSecurity(step.conn) });
      // librdkafka logs an authentication failure (at error level): its error callback does not reach event.error
      p.on('event.log', (log) => log.severity <= 3 && errors.push(log.message.replace(/^\[thrd:[^\]]*\]: /, '')));
      p.on('event.error', (err) => errors.push(`${err.code ?? ''} ${err.message}`.trim()));
      let reported = false;
      p.on('delivery-report', (err) => {
        reported = true;
        if (err) errors.push(`${err.code ?? ''} ${err.message}`.trim());
      });
      try {
        await new Promise((resolve, reject) => p.connect({ timeout: 5000 }, (err) => (err ? reject(err) : resolve())));
        p.setPollInterval(20);
        const m = step.messages[0];
        p.produce(step.topic, 0, buf(m.value), buf(m.key));
        await until(() => reported, 15_000, 'a delivery report');
      } catch (err) {
        errors.push(`${err.code ?? ''} ${err.message}`.trim());
        // a failed connect: what librdkafka logged meanwhile comes after it
        await until(() => errors.length > 1, 2000, 'a logged error').catch(() => {});
      } finally {
        if (p.isConnected()) await disconnect(p);
      }
      return errors.length === 0 ? 'delivered' : [...new Set(errors)].join('; ');
    },
  };

  function consumer(bootstrap, group, conf = {}) {
    return new Kafka.KafkaConsumer(
      {
        'bootstrap.servers': bootstrap,
        'client.id': clientId,
        // librdkafka needs a group.id to build a consumer; assign() never joins it nor reads its offsets.
        'group.id': group ?? `compat-unused-${Math.random().toString(36).slice(2)}`,
        'enable.auto.commit': false,
        'fetch.wait.max.ms': 100,
        ...conf,
      },
      { 'auto.offset.reset': 'earliest' },
    );
  }

  /** Reads `count` messages of each { topic, partition, count, offset? } without a group. */
  async function readAssigned(bootstrap, wanted, conf = {}) {
    const c = consumer(bootstrap, undefined, conf);
    await connect(c);
    c.setDefaultConsumeTimeout(100);
    const got = new Map(wanted.map((w) => [`${w.topic}/${w.partition}`, []]));
    try {
      c.assign(wanted.map((w) => ({ topic: w.topic, partition: w.partition, offset: w.offset ?? 0 })));
      await until(
        async () => {
          for (const m of await call((cb) => c.consume(100, cb))) got.get(`${m.topic}/${m.partition}`)?.push(fromRdkafka(m));
          return wanted.every((w) => got.get(`${w.topic}/${w.partition}`).length >= w.count);
        },
        30_000,
        `messages ${JSON.stringify(wanted)}`,
      );
    } finally {
      await disconnect(c);
    }
    return wanted.map((w) => got.get(`${w.topic}/${w.partition}`));
  }

  /** Joins `group`, reads `count` messages of `topic`, commits, reads the committed offsets back, leaves. */
  async function readGroup(bootstrap, topic, group, count) {
    const c = consumer(bootstrap, group);
    await connect(c);
    c.setDefaultConsumeTimeout(100);
    const got = [];
    try {
      c.subscribe([topic]);
      await until(
        async () => {
          for (const m of await call((cb) => c.consume(100, cb))) got.push(fromRdkafka(m));
          return got.length >= count;
        },
        30_000,
        `${count} messages in group ${group}`,
      );
      c.commitSync(null);
      const committed = await call((cb) => c.committed(null, 10_000, cb));
      return { messages: got, committed: committed.map((tp) => ({ partition: tp.partition, offset: tp.offset })) };
    } finally {
      await disconnect(c);
    }
  }

  /**
   * The consumer-protocol scenario: two KafkaConsumers with `group.protocol=consumer` (KIP-848) under
   * `task.clientId`; once they share the partitions the first messages come; each commits what it read and
   * leaves; then one more member resumes from the commits.
   */
  async function consumerProtocol(bootstrap, task) {
    const join = async () => {
      const c = consumer(bootstrap, task.group, { 'client.id': task.clientId, 'group.protocol': 'consumer' });
      await connect(c);
      c.setDefaultConsumeTimeout(100);
      c.subscribe([task.topic]);
      const m = { c, got: [], reading: true };
      m.loop = (async () => {
        while (m.reading) for (const msg of await call((cb) => c.consume(100, cb))) m.got.push(fromRdkafka(msg));
      })();
      return m;
    };
    /** Stops reading, commits what it read, leaves. */
    const leave = async (m) => {
      m.reading = false;
      await m.loop;
      if (m.got.length > 0) m.c.commitSync(null);
      await disconnect(m.c);
    };
    const held = (m) => m.c.assignments().filter((tp) => tp.topic === task.topic).map((tp) => tp.partition).sort((x, y) => x - y);
    const members = [await join(), await join()];
    let assignments;
    try {
      await until(() => members.every((m) => held(m).length > 0) && new Set(members.flatMap(held)).size === task.partitions, 60_000, 'the two members to share the partitions');
      assignments = members.map(held);
      await produce(bootstrap, task.topic, task.first);
      await until(() => members.reduce((n, m) => n + m.got.length, 0) >= task.first.length, 30_000, `${task.first.length} messages`);
    } finally {
      for (const m of members) await leave(m);
    }
    await produce(bootstrap, task.topic, task.second);
    const last = await join();
    let committed;
    try {
      await until(() => last.got.length >= task.second.length, 30_000, `${task.second.length} messages`);
    } finally {
      last.reading = false;
      await last.loop;
      last.c.commitSync(null);
      committed = await call((cb) => last.c.committed(null, 10_000, cb));
      await disconnect(last.c);
    }
    return {
      first: members.flatMap((m) => m.got),
      assignments,
      second: last.got,
      committed: committed.map((tp) => ({ partition: tp.partition, offset: tp.offset })),
      note: 'KafkaConsumers with group.protocol=consumer',
    };
  }

  /** Offsets of partition 0 for each timestamp of `queries`, and its watermarks. */
  async function offsetsForTimes(bootstrap, topic, queries) {
    const c = consumer(bootstrap);
    await connect(c);
    try {
      const out = {};
      for (const [name, ts] of Object.entries(queries)) {
        const [tp] = await call((cb) => c.offsetsForTimes([{ topic, partition: 0, offset: ts }], 10_000, cb));
        out[name] = tp.offset;
      }
      const w = await call((cb) => c.queryWatermarkOffsets(topic, 0, 10_000, cb));
      return { ...out, earliest: w.lowOffset, latest: w.highOffset };
    } finally {
      await disconnect(c);
    }
  }

  /** Metadata through a producer handle: of one topic, or of all (topic undefined). */
  async function metadata(bootstrap, topic) {
    const p = new Kafka.Producer({ 'bootstrap.servers': bootstrap, 'client.id': clientId });
    await connect(p);
    try {
      return await call((cb) => p.getMetadata({ ...(topic === undefined ? {} : { topic }), timeout: 10_000 }, cb));
    } finally {
      await disconnect(p);
    }
  }

  async function admin(bootstrap, fn) {
    const a = Kafka.AdminClient.create({ 'bootstrap.servers': bootstrap, 'client.id': clientId });
    try {
      return await fn({
        createTopic: (topic, partitions) => call((cb) => a.createTopic({ topic, num_partitions: partitions, replication_factor: 1 }, 10_000, cb)),
        deleteTopic: (topic) => call((cb) => a.deleteTopic(topic, 10_000, cb)),
      });
    } finally {
      a.disconnect();
    }
  }

  return { produce, produceError, produceTransactions, security, readAssigned, readGroup, consumerProtocol, offsetsForTimes, metadata, admin };
}
