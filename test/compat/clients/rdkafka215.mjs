// librdkafka 2.15 scenarios, through our kcat-like driver (rdkafka_driver.c,
// built against librdkafka built from source by ../librdkafka.mjs). Every step
// is one driver run, as kcat.mjs runs kcat; this script encodes the records
// for its stdin and decodes its JSON output. Transactions go through
// rdkafka_txn.c, a transactional producer driven by a script on its stdin;
// share groups (KIP-932) through rdkafka_share.c, a share consumer that prints
// each record it is delivered and how it acknowledged it.
//
//   node rdkafka215.mjs /path/to/rdkafka_driver /path/to/rdkafka_txn /path/to/rdkafka_share
import { spawn } from 'node:child_process';
import { loadSpec, rdkafkaSecurity, runTasks, securitySteps, sleep, until } from './lib.mjs';
import { oneBatch } from './rdkafka-api.mjs';

const spec = loadSpec();
const DRIVER = process.argv[2];
const TXN = process.argv[3];
const SHARE = process.argv[4];
const CLIENT_ID = ['-X', 'client.id=compat-librdkafka-2.15'];

/** Runs the driver; resolves { code, lines (parsed JSON), stderr } (never rejects on a non-zero exit). */
function driver(bootstrap, args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(DRIVER, ['-b', bootstrap, ...CLIENT_ID, ...args], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      resolve({ code: code ?? signal, lines, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

async function driverOk(bootstrap, args, input) {
  const r = await driver(bootstrap, args, input);
  const fatal = r.lines.find((l) => l.fatal !== undefined);
  if (r.code !== 0 || fatal !== undefined) throw new Error(`rdkafka_driver ${args.join(' ')}: exit ${r.code}: ${fatal?.fatal ?? ''} ${r.stderr.trim()}`.trim());
  return r.lines;
}

const hex = (s) => (s === null || s === undefined ? '-' : Buffer.from(s, 'utf8').toString('hex'));
const unhex = (h) => (h === null ? null : Buffer.from(h, 'hex').toString('utf8'));

function recordLines(messages) {
  return messages
    .map((m) => {
      const headers = m.headers.length === 0 ? '-' : m.headers.map(([k, v]) => `${hex(k)}=${hex(v)}`).join(',');
      return `${m.partition ?? 0}\t${m.timestamp ?? 0}\t${hex(m.key)}\t${hex(m.value)}\t${headers}\n`;
    })
    .join('');
}

const fromLine = (l) => ({ key: unhex(l.key), value: unhex(l.value), headers: l.headers.map(([k, v]) => [unhex(k), unhex(v)]) });

/** Produces all messages with one producer; throws unless every one was delivered. */
async function produce(bootstrap, topic, messages, props = {}) {
  const x = Object.entries({ 'linger.ms': '5', ...props }).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
  const [result] = await driverOk(bootstrap, [...x, 'produce', topic], recordLines(messages));
  if (result.delivered !== messages.length) throw new Error(`delivered ${result.delivered} of ${messages.length}: ${JSON.stringify(result)}`);
}

/** Produces expecting a failure; resolves to the driver's errors. */
async function produceError(bootstrap, topic, messages, props = {}) {
  const x = Object.entries(props).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
  const r = await driver(bootstrap, ['-X', 'message.timeout.ms=10000', ...x, 'produce', topic], recordLines(messages));
  const result = r.lines[0] ?? {};
  return r.code === 0 ? null : (result.errors ?? []).concat(result.fatal ?? []).join('; ') || `exit ${r.code}: ${r.stderr.trim()}`;
}

async function read(bootstrap, topic, partitions = [0], from = 'beginning', props = {}) {
  const x = Object.entries(props).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
  return driverOk(bootstrap, [...x, 'consume', topic, partitions.join(','), String(from)]);
}

/**
 * A long-lived group member (the driver's `member` command) with `group.protocol=consumer`: its
 * messages and the partitions it holds, from its event lines; `leave()` ends its stdin (a clean close).
 */
function member(bootstrap, topic, group, clientId) {
  const child = spawn(DRIVER, ['-b', bootstrap, '-X', `client.id=${clientId}`, '-X', 'group.protocol=consumer', '-T', '60000', 'member', topic, group], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = [];
  let partial = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop();
    for (const l of parts) if (l.startsWith('{')) lines.push(JSON.parse(l));
  });
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  return {
    messages: () => lines.filter((l) => l.offset !== undefined).map(fromLine),
    held: () => {
      const held = new Set();
      for (const l of lines) {
        if (l.event === 'assigned') l.partitions.forEach((p) => held.add(p));
        if (l.event === 'revoked') l.partitions.forEach((p) => held.delete(p));
      }
      return [...held].sort((x, y) => x - y);
    },
    problems: () => lines.filter((l) => l.fatal !== undefined || l.event === 'error' || l.event === 'commit-failed'),
    async leave() {
      child.stdin.end();
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`rdkafka_driver member: exit ${code}: ${JSON.stringify(lines.at(-1))} ${stderr.trim()}`);
    },
    stop: () => child.kill('SIGKILL'),
  };
}

/** Runs a script through rdkafka_txn; resolves to its answers, one per step; throws on any error. */
function transactional(bootstrap, transactionalId, script) {
  return new Promise((resolve, reject) => {
    const child = spawn(TXN, ['-b', bootstrap, ...CLIENT_ID, '-X', `transactional.id=${transactionalId}`, '-X', 'linger.ms=5'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      const failed = lines.find((l) => l.fatal !== undefined || (l.error !== null && l.error !== undefined));
      if (code !== 0 || failed !== undefined) reject(new Error(`rdkafka_txn: exit ${code ?? signal}: ${JSON.stringify(failed ?? {})} ${stderr.trim()}`));
      else resolve(lines);
    });
    child.stdin.end(script.map((l) => `${l}\n`).join(''));
  });
}

/**
 * A share consumer (rdkafka_share) of `group` on `topic`, `args` its options (-a ACK, -i IDLE_MS, -H, ...):
 * its deliveries as they come ({ partition, offset, value, deliveryCount, ack }), the errors it reported, its end.
 */
function shareConsumer(group, topic, clientId, args) {
  const child = spawn(SHARE, ['-b', spec.bootstrap, '-g', group, '-t', topic, '-X', `client.id=${clientId}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  let partial = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop();
    for (const l of parts) if (l.startsWith('{')) lines.push(JSON.parse(l));
  });
  child.stderr.on('data', (c) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 55_000);
  const exited = new Promise((resolve) => child.on('close', (code, signal) => {
    clearTimeout(timer);
    resolve(code ?? signal);
  }));
  const deliveries = () => lines.filter((l) => l.offset !== undefined && l.recordError === undefined).map((l) => ({ ...l, value: unhex(l.value) }));
  return {
    deliveries,
    held: () => lines.some((l) => l.held !== undefined),
    problems: () => lines.filter((l) => l.fatal !== undefined || l.ackError !== undefined || l.pollError !== undefined || l.recordError !== undefined || l.closeError !== undefined),
    /** Resolves to its deliveries once it ended by itself (-i, -n); rejects when it failed. */
    async done() {
      const code = await exited;
      if (code !== 0) throw new Error(`rdkafka_share ${args.join(' ')}: exit ${code}: ${JSON.stringify(lines.at(-1) ?? {})} ${stderr.trim().split('\n').slice(-3).join(' ')}`);
      return deliveries();
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Share groups start at the log end by default: the scenarios' groups start at the earliest offset (a group config). */
async function shareFromEarliest(group) {
  const [altered] = await driverOk(spec.bootstrap, ['alter-group-config', group, 'share.auto.offset.reset', 'earliest']);
  if (altered.error !== null) throw new Error(`IncrementalAlterConfigs on group ${group}: ${altered.error}`);
}

await runTasks(spec, {
  async metadata(task) {
    const [md] = await driverOk(spec.bootstrap, ['metadata', task.topic]);
    return { brokers: md.brokers, partitions: md.partitions };
  },
  async 'create-topic'(task) {
    const [created] = await driverOk(spec.bootstrap, ['create-topic', task.topic, String(task.partitions)]);
    if (created.error !== null) throw new Error(`CreateTopics: ${created.error}`);
    const [md] = await driverOk(spec.bootstrap, ['metadata', task.topic]);
    const [again] = await driverOk(spec.bootstrap, ['create-topic', task.topic, String(task.partitions)]);
    return { partitions: md.partitions.length, duplicate: again.error };
  },
  async produce(task) {
    await produce(spec.bootstrap, task.topic, task.messages, { 'compression.type': task.codec });
    return { read: (await read(spec.bootstrap, task.topic)).map(fromLine) };
  },
  async consume(task) {
    await produce(spec.bootstrap, task.topic, task.messages);
    const all = await read(spec.bootstrap, task.topic, [0, 1, 2]);
    return { read: Object.fromEntries([0, 1, 2].map((p) => [p, all.filter((l) => l.partition === p).map(fromLine)])) };
  },
  async 'mid-batch'(task) {
    // The driver polls until delivery before it flushes, so oneBatch's settings hold.
    await produce(spec.bootstrap, task.topic, task.messages, { 'compression.type': task.codec, ...oneBatch(task.messages) });
    return { read: (await read(spec.bootstrap, task.topic, [0], task.offset)).map(fromLine) };
  },
  async group(task) {
    const round = async (count) => {
      const lines = await driverOk(spec.bootstrap, ['group', task.topic, task.group, String(count)]);
      return { messages: lines.filter((l) => l.offset !== undefined).map(fromLine), committed: lines.find((l) => l.committed)?.committed };
    };
    await produce(spec.bootstrap, task.topic, task.first);
    const first = await round(task.first.length);
    await produce(spec.bootstrap, task.topic, task.second);
    const second = await round(task.second.length);
    return { first: first.messages, second: second.messages, committed: second.committed };
  },
  async 'consumer-protocol'(task) {
    // two members join; once they share the partitions the messages come; each commits what it read and leaves
    const members = [member(spec.bootstrap, task.topic, task.group, task.clientId), member(spec.bootstrap, task.topic, task.group, task.clientId)];
    try {
      const split = () => members.every((m) => m.held().length > 0) && new Set(members.flatMap((m) => m.held())).size === task.partitions;
      await until(split, 60_000, 'the two members to share the partitions');
      const assignments = members.map((m) => m.held());
      await produce(spec.bootstrap, task.topic, task.first);
      await until(() => members.reduce((n, m) => n + m.messages().length, 0) >= task.first.length, 30_000, `${task.first.length} messages`);
      for (const m of members) await m.leave();
      const problems = members.flatMap((m) => m.problems());
      if (problems.length > 0) throw new Error(`member errors: ${JSON.stringify(problems)}`);
      const first = members.flatMap((m) => m.messages());
      // a new member resumes from their commits
      await produce(spec.bootstrap, task.topic, task.second);
      const lines = await driverOk(spec.bootstrap, ['-X', `client.id=${task.clientId}`, '-X', 'group.protocol=consumer', 'group', task.topic, task.group, String(task.second.length)]);
      return { first, assignments, second: lines.filter((l) => l.offset !== undefined).map(fromLine), committed: lines.find((l) => l.committed)?.committed };
    } finally {
      for (const m of members) m.stop();
    }
  },
  async 'share-group'(task) {
    await shareFromEarliest(task.group);
    const consumers = Array.from({ length: task.consumers }, () => shareConsumer(task.group, task.topic, task.clientId, ['-a', 'accept', '-i', '3000', '-X', 'max.poll.records=5']));
    try {
      // They join one by one (each gets the partition at a heartbeat): records come in rounds until each has had some.
      let produced = 0;
      while (produced < task.messages.length && !consumers.every((c) => c.deliveries().length > 0)) {
        await produce(spec.bootstrap, task.topic, task.messages.slice(produced, produced + task.perRound));
        produced += task.perRound;
        await sleep(task.roundMs);
      }
      const got = [];
      for (const c of consumers) got.push(await c.done());
      return { produced, consumers: got, problems: consumers.flatMap((c) => c.problems()) };
    } finally {
      for (const c of consumers) await c.kill();
    }
  },
  async 'share-acks'(task) {
    await shareFromEarliest(task.release.group);
    await shareFromEarliest(task.reject.group);
    await produce(spec.bootstrap, task.release.topic, task.release.messages);
    await produce(spec.bootstrap, task.reject.topic, task.reject.messages);
    const releasing = shareConsumer(task.release.group, task.release.topic, task.clientId, ['-a', 'release-first', '-i', '3000']);
    const rejecting = shareConsumer(task.reject.group, task.reject.topic, task.clientId, ['-a', `reject-mod:${task.reject.rejectEvery}`, '-i', '3000']);
    try {
      const [release, reject] = await Promise.all([releasing.done(), rejecting.done()]);
      return { release, reject, problems: [...releasing.problems(), ...rejecting.problems()] };
    } finally {
      await Promise.all([releasing.kill(), rejecting.kill()]);
    }
  },
  async 'share-redelivery'(task) {
    await shareFromEarliest(task.group);
    // one batch per max.poll.records: the first consumer takes one or some of them
    for (let i = 0; i < task.messages.length; i += task.maxPollRecords) await produce(spec.bootstrap, task.topic, task.messages.slice(i, i + task.maxPollRecords));
    const x = ['-X', `max.poll.records=${task.maxPollRecords}`];
    const holder = shareConsumer(task.group, task.topic, task.clientId, ['-H', ...x]);
    let taker;
    try {
      await until(() => holder.held(), 40_000, 'the first consumer to hold records');
      taker = shareConsumer(task.group, task.topic, task.clientId, ['-a', 'accept', '-i', '3000', ...x]);
      await holder.kill();
      const taken = await taker.done();
      return { held: holder.deliveries(), taken, problems: [...holder.problems(), ...taker.problems()] };
    } finally {
      await holder.kill();
      await taker?.kill();
    }
  },
  async 'offsets-time'(task) {
    await produce(spec.bootstrap, task.topic, task.messages);
    const names = Object.keys(task.queries);
    const [r] = await driverOk(spec.bootstrap, ['offsets', task.topic, '0', ...names.map((n) => String(task.queries[n]))]);
    return { ...Object.fromEntries(names.map((n, i) => [n, r.times[i]])), earliest: r.low, latest: r.high };
  },
  async 'delete-topic'(task) {
    await produce(spec.bootstrap, task.topic, task.messages);
    const listed = async () => (await driverOk(spec.bootstrap, ['list-topics']))[0].topics.includes(task.topic);
    const before = await listed();
    const [deleted] = await driverOk(spec.bootstrap, ['delete-topic', task.topic]);
    if (deleted.error !== null) throw new Error(`DeleteTopics: ${deleted.error}`);
    return { existedBefore: before, existsAfter: await listed() };
  },
  async idempotent(task) {
    await produce(spec.bootstrap, task.topic, task.messages, { 'enable.idempotence': 'true' });
    return { read: (await read(spec.bootstrap, task.topic)).map(fromLine) };
  },
  async transactions(task) {
    const script = ['init 30000'];
    for (const t of task.transactions) {
      script.push('begin');
      for (const m of t.messages) {
        const headers = m.headers.length === 0 ? '-' : m.headers.map(([k, v]) => `${hex(k)}=${hex(v)}`).join(',');
        script.push(`produce ${task.topic} ${m.partition} ${hex(m.key)} ${hex(m.value)} ${headers}`);
      }
      // the messages reach the broker first: an aborted transaction has data to abort
      script.push('flush 30000', t.commit ? 'commit 30000' : 'abort 30000');
    }
    const steps = await transactional(spec.bootstrap, task.transactionalId, script);
    const last = steps.at(-1);
    const sent = task.transactions.reduce((n, t) => n + t.messages.length, 0);
    if (last.delivered !== sent || last.failed !== 0) throw new Error(`delivered ${last.delivered} of ${sent}: ${JSON.stringify(last)}`);
    // The markers are written after EndTxn is answered: read until the committed messages are all there.
    const committed = task.transactions.filter((t) => t.commit).reduce((n, t) => n + t.messages.length, 0);
    let lines = [];
    await until(async () => (lines = await read(spec.bootstrap, task.topic, [0], 'beginning', { 'isolation.level': 'read_committed' })).length >= committed, 20_000, `${committed} committed messages`);
    return { read: lines.map(fromLine) };
  },
  async 'topic-configs'(task) {
    const describe = async () => (await driverOk(spec.bootstrap, ['describe-config', task.topic, task.config]))[0].value;
    const before = await describe();
    const [altered] = await driverOk(spec.bootstrap, ['alter-config', task.topic, task.config, task.value]);
    if (altered.error !== null) throw new Error(`IncrementalAlterConfigs: ${altered.error}`);
    return { before, after: await describe(), note: 'altered with IncrementalAlterConfigs' };
  },
  async security(task) {
    return securitySteps(task, {
      async roundTrip(step) {
        await produce(step.conn.bootstrap, step.topic, step.messages, rdkafkaSecurity(step.conn));
        return (await read(step.conn.bootstrap, step.topic, [0], 'beginning', rdkafkaSecurity(step.conn))).map(fromLine);
      },
      async refused(step) {
        // The delivery errors, and what librdkafka logged (an authentication failure is logged, the messages time out).
        const x = Object.entries({ 'message.timeout.ms': '5000', ...rdkafkaSecurity(step.conn) }).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
        const r = await driver(step.conn.bootstrap, [...x, 'produce', step.topic], recordLines(step.messages));
        const result = r.lines[0] ?? {};
        const logged = r.stderr.split('\n').filter((l) => /error|fail/i.test(l)).slice(0, 2);
        return [r.code === 0 ? 'delivered' : `exit ${r.code}`, ...(result.errors ?? []), ...[result.fatal ?? []].flat(), ...logged].join('; ');
      },
    });
  },
  async 'unknown-topic'(task) {
    // librdkafka fails queued messages once the topic has stayed unknown this long.
    const error = await produceError(spec.errBootstrap, task.topic, task.messages, { 'topic.metadata.propagation.max.ms': '1000' });
    const [md] = await driverOk(spec.errBootstrap, ['metadata', task.topic]);
    return { error: `produce: ${error}; metadata: ${md.error ?? 'no error'}` };
  },
  async 'too-large'(task) {
    const big = [{ key: 'big', value: 'x'.repeat(task.largeBytes), headers: [], partition: 0 }];
    const error = await produceError(spec.errBootstrap, task.topic, big);
    await produce(spec.errBootstrap, task.topic, task.messages);
    return { error, read: (await read(spec.errBootstrap, task.topic)).map(fromLine) };
  },
  async 'cross-produce'(task) {
    for (const t of task.topics) await produce(spec.bootstrap, t.topic, task.messages, { 'compression.type': t.codec });
  },
  async 'cross-read'(task) {
    const topics = {};
    for (const t of task.topics) topics[t.topic] = (await read(spec.bootstrap, t.topic)).map(fromLine);
    return { topics };
  },
});
