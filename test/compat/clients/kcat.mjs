// kcat (librdkafka) scenarios: every step is a `kcat` command line, as a user
// would type it; this script only feeds stdin and parses kcat's JSON output.
import { spawn } from 'node:child_process';
import { loadSpec, rdkafkaSecurity, runTasks, securitySteps, sleep } from './lib.mjs';

const spec = loadSpec();

/** Runs kcat; resolves { code, stdout, stderr } (never rejects on a non-zero exit). */
function kcat(args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr });
    });
    if (input !== undefined) {
      child.stdin.on('error', (err) => (stderr += `[stdin: ${err.message}]`)); // kcat may exit before reading it all
      child.stdin.end(input);
    }
  });
}

async function kcatOk(args, input) {
  const r = await kcat(args, input);
  if (r.code !== 0 || /ERROR|failed/i.test(r.stderr)) throw new Error(`kcat ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** kcat applies -H to every message of one invocation: one invocation per message. */
async function produce(bootstrap, topic, messages, codec = 'none', extra = []) {
  for (const m of messages) {
    const headers = m.headers.flatMap(([k, v]) => ['-H', `${k}=${v}`]);
    await kcatOk(['-b', bootstrap, '-P', '-t', topic, '-p', String(m.partition), '-K', '\t', '-z', codec, ...headers, ...extra], `${m.key}\t${m.value}\n`);
  }
}

function parseJsonLines(out) {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

const fromJson = (j) => {
  const h = j.headers ?? [];
  const headers = [];
  for (let i = 0; i < h.length; i += 2) headers.push([h[i], h[i + 1]]);
  return { key: j.key ?? null, value: j.payload ?? null, headers };
};

/** Reads a topic (all partitions, or one) from the beginning to its end, no group. */
async function readTopic(bootstrap, topic, partition, from = 'beginning', extra = []) {
  const p = partition === undefined ? [] : ['-p', String(partition)];
  return parseJsonLines(await kcatOk(['-b', bootstrap, '-C', '-t', topic, ...p, '-o', String(from), '-e', '-J', '-q', ...extra]));
}

/** A security step's connection as kcat options. */
const securityArgs = (conn) => Object.entries(rdkafkaSecurity(conn)).flatMap(([k, v]) => ['-X', `${k}=${v}`]);

async function readGroup(topic, group) {
  const out = await kcatOk(['-b', spec.bootstrap, '-G', group, '-X', 'auto.offset.reset=earliest', '-e', '-J', '-q', topic]);
  return parseJsonLines(out).map(fromJson);
}

async function queryOffset(topic, partition, ts) {
  const out = JSON.parse(await kcatOk(['-b', spec.bootstrap, '-Q', '-J', '-t', `${topic}:${partition}:${ts}`]));
  return out[topic][String(partition)].offset;
}

await runTasks(spec, {
  async metadata(task) {
    const md = JSON.parse(await kcatOk(['-b', spec.bootstrap, '-L', '-J', '-t', task.topic]));
    return {
      brokers: md.brokers.map((b) => {
        const i = b.name.lastIndexOf(':');
        return { id: b.id, host: b.name.slice(0, i), port: Number(b.name.slice(i + 1)) };
      }),
      partitions: md.topics[0].partitions.map((p) => ({ id: p.partition, leader: p.leader, error: p.error === undefined ? 0 : p.error })),
    };
  },
  async produce(task) {
    await produce(spec.bootstrap, task.topic, task.messages, task.codec);
    return { read: (await readTopic(spec.bootstrap, task.topic, 0)).map(fromJson) };
  },
  async consume(task) {
    await produce(spec.bootstrap, task.topic, task.messages);
    const all = await readTopic(spec.bootstrap, task.topic);
    return { read: Object.fromEntries([0, 1, 2].map((p) => [p, all.filter((j) => j.partition === p).map(fromJson)])) };
  },
  async 'mid-batch'(task) {
    // One invocation (these messages share their headers) and one batch whatever the machine's
    // speed: librdkafka sends a partition's batch once it holds batch.num.messages messages (or
    // linger.ms after its first), and kcat polls until delivery rather than flushing.
    const headers = task.messages[0].headers.flatMap(([k, v]) => ['-H', `${k}=${v}`]);
    const lines = task.messages.map((m) => `${m.key}\t${m.value}\n`).join('');
    const oneBatch = ['-X', `batch.num.messages=${task.messages.length}`, '-X', 'linger.ms=15000'];
    await kcatOk(['-b', spec.bootstrap, '-P', '-t', task.topic, '-p', '0', '-K', '\t', '-z', task.codec, ...oneBatch, ...headers], lines);
    return { read: (await readTopic(spec.bootstrap, task.topic, 0, task.offset)).map(fromJson) };
  },
  async group(task) {
    // librdkafka commits the consumed offsets when kcat closes the consumer.
    await produce(spec.bootstrap, task.topic, task.first);
    const first = await readGroup(task.topic, task.group);
    await produce(spec.bootstrap, task.topic, task.second);
    const second = await readGroup(task.topic, task.group);
    return { first, second };
  },
  async 'offsets-time'(task) {
    // kcat cannot set a message timestamp: librdkafka stamps each one; space them out.
    for (const m of task.messages) {
      await produce(spec.bootstrap, task.topic, [m]);
      await sleep(30);
    }
    const ts = (await readTopic(spec.bootstrap, task.topic, 0)).map((j) => j.ts);
    if (!(ts[0] < ts[1] && ts[1] < ts[2])) throw new Error(`timestamps not increasing: ${ts}`);
    return {
      first: await queryOffset(task.topic, 0, ts[0] - 5_000),
      mid: await queryOffset(task.topic, 0, Math.floor((ts[0] + ts[1]) / 2) + 1),
      exact: await queryOffset(task.topic, 0, ts[1]),
      last: await queryOffset(task.topic, 0, ts[2]),
      earliest: await queryOffset(task.topic, 0, -2),
      latest: await queryOffset(task.topic, 0, -1),
      note: 'timestamps set by librdkafka at produce time',
    };
  },
  async idempotent(task) {
    await produce(spec.bootstrap, task.topic, task.messages, 'none', ['-X', 'enable.idempotence=true']);
    return { read: (await readTopic(spec.bootstrap, task.topic, 0)).map(fromJson) };
  },
  async security(task) {
    return securitySteps(task, {
      async roundTrip(step) {
        await produce(step.conn.bootstrap, step.topic, step.messages, 'none', securityArgs(step.conn));
        return (await readTopic(step.conn.bootstrap, step.topic, 0, 'beginning', securityArgs(step.conn))).map(fromJson);
      },
      async refused(step) {
        const m = step.messages[0];
        const r = await kcat(['-b', step.conn.bootstrap, '-P', '-t', step.topic, '-p', '0', '-X', 'message.timeout.ms=5000', ...securityArgs(step.conn)], `${m.value}\n`);
        return `exit ${r.code}: ${r.stderr.trim().split('\n').slice(0, 3).join(' / ')}`;
      },
    });
  },
  async 'unknown-topic'(task) {
    const m = task.messages[0];
    const r = await kcat(['-b', spec.errBootstrap, '-P', '-t', task.topic, '-X', 'topic.metadata.propagation.max.ms=1000', '-X', 'message.timeout.ms=10000'], `${m.value}\n`);
    const md = JSON.parse((await kcat(['-b', spec.errBootstrap, '-L', '-J', '-t', task.topic])).stdout);
    return { error: `produce exit ${r.code}: ${r.stderr.trim()}; metadata: ${md.topics[0].error ?? 'no error'}` };
  },
  async 'too-large'(task) {
    const r = await kcat(['-b', spec.errBootstrap, '-P', '-t', task.topic, '-p', '0'], `${'x'.repeat(task.largeBytes)}\n`);
    await produce(spec.errBootstrap, task.topic, task.messages);
    return { error: `exit ${r.code}: ${r.stderr.trim()}`, read: (await readTopic(spec.errBootstrap, task.topic, 0)).map(fromJson) };
  },
  async 'cross-produce'(task) {
    for (const t of task.topics) await produce(spec.bootstrap, t.topic, task.messages, t.codec);
  },
  async 'cross-read'(task) {
    const topics = {};
    for (const t of task.topics) topics[t.topic] = (await readTopic(spec.bootstrap, t.topic, 0)).map(fromJson);
    return { topics };
  },
});
