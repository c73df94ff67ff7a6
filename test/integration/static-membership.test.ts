/**
 * Consumer groups driven by librdkafka: static membership (KIP-345) with
 * confluent-kafka-python (Debian python3-confluent-kafka, run with
 * /usr/bin/python3), and kcat's balanced consumer (-G). kafkajs has no
 * group.instance.id, so these are the tests of the static-member paths.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../src/index.js';

const PYTHON = '/usr/bin/python3';
const KCAT = '/usr/bin/kcat';

/** A consumer that reports what happens to it as JSON lines; "close" on stdin closes it. */
const CONSUMER_PY = String.raw`
import json, sys, threading
from confluent_kafka import Consumer

bootstrap, group, instance, topic = sys.argv[1:5]

def emit(**kw):
    print(json.dumps(kw), flush=True)

def on_error(err):
    emit(event='error', code=err.code(), name=err.name(), fatal=err.fatal(), text=err.str())

conf = {
    'bootstrap.servers': bootstrap,
    'group.id': group,
    'session.timeout.ms': 30000,
    'heartbeat.interval.ms': 300,
    'auto.offset.reset': 'earliest',
    'auto.commit.interval.ms': 200,
    'error_cb': on_error,
}
if instance != '-':
    conf['group.instance.id'] = instance
c = Consumer(conf)

def on_assign(consumer, partitions):
    emit(event='assigned', partitions=sorted(p.partition for p in partitions))

def on_revoke(consumer, partitions):
    emit(event='revoked', partitions=sorted(p.partition for p in partitions))

c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
stop = threading.Event()

def read_stdin():
    for line in sys.stdin:
        if line.strip() == 'close':
            break
    stop.set()

threading.Thread(target=read_stdin, daemon=True).start()
while not stop.is_set():
    m = c.poll(0.1)
    if m is None:
        continue
    if m.error():
        e = m.error()
        emit(event='error', code=e.code(), name=e.name(), fatal=e.fatal(), text=e.str())
        continue
    emit(event='message', partition=m.partition(), offset=m.offset(), value=m.value().decode())
c.close()
emit(event='closed')
`;

interface PyEvent {
  event: 'assigned' | 'revoked' | 'message' | 'error' | 'closed';
  partitions?: number[];
  partition?: number;
  offset?: number;
  value?: string;
  code?: number;
  name?: string;
  fatal?: boolean;
  text?: string;
}

async function until(check: () => boolean | Promise<boolean>, intervalMs = 50): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, intervalMs));
}

/** One confluent-kafka-python consumer process. */
class PyConsumer {
  readonly events: PyEvent[] = [];
  readonly stderr: string[] = [];
  private readonly proc: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;

  constructor(bootstrap: string, group: string, instance: string | null, topic: string) {
    this.proc = spawn(PYTHON, ['-c', CONSUMER_PY, bootstrap, group, instance ?? '-', topic]);
    let buffered = '';
    this.proc.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim() !== '') this.events.push(JSON.parse(line) as PyEvent);
      }
    });
    this.proc.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  of(kind: PyEvent['event']): PyEvent[] {
    return this.events.filter((e) => e.event === kind);
  }

  /** The partitions of the latest assignment. */
  get assignment(): number[] {
    return this.of('assigned').at(-1)?.partitions ?? [];
  }

  async close(): Promise<void> {
    this.proc.stdin.write('close\n');
    await this.exited;
  }

  kill(): void {
    this.proc.kill('SIGKILL');
  }
}

function runKcat(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(KCAT, args);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('librdkafka consumer groups', () => {
  let broker: RunningBroker;
  let kafka: Kafka;
  const processes: PyConsumer[] = [];

  beforeAll(async () => {
    for (const tool of [PYTHON, KCAT]) {
      if (!existsSync(tool)) throw new Error(`${tool} is missing: apt-get install -y --no-install-recommends python3-confluent-kafka kcat`);
    }
    broker = await startBroker({ port: 0, config: { 'group.initial.rebalance.delay.ms': 50, 'gregor.flush.acks.all': false } });
    kafka = new Kafka({ clientId: 'librdkafka-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  });
  afterEach(() => {
    for (const p of processes.splice(0)) p.kill();
  });
  afterAll(async () => {
    await broker?.close();
  });

  function pyConsumer(group: string, instance: string | null, topic: string): PyConsumer {
    const c = new PyConsumer(broker.bootstrap, group, instance, topic);
    processes.push(c);
    return c;
  }

  async function createTopic(topic: string, numPartitions: number): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1 }] });
    await admin.disconnect();
  }

  async function produce(topic: string, count: number, prefix: string): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: `${prefix}-${i}`, partition: i % 4 })) });
    await producer.disconnect();
  }

  function group(groupId: string): { state: string; generationId: number; members: number } | undefined {
    return broker.broker.groups.groupOverview().find((g) => g.groupId === groupId);
  }

  it('a static member that restarts within its session timeout rejoins without a rebalance', async () => {
    await createTopic('static', 4);
    const a = pyConsumer('g-static', 'member-a', 'static');
    const b = pyConsumer('g-static', 'member-b', 'static');
    await until(() => a.assignment.length === 2 && b.assignment.length === 2 && group('g-static')?.state === 'Stable');
    const before = group('g-static')!;
    const assignmentOfA = a.assignment;
    const bEventsBefore = b.of('assigned').length + b.of('revoked').length;

    // a static member does not leave on close: the group keeps it and stays Stable
    await a.close();
    expect(group('g-static')).toMatchObject({ state: 'Stable', generationId: before.generationId, members: 2 });

    const again = pyConsumer('g-static', 'member-a', 'static');
    await until(() => again.assignment.length > 0);
    expect(again.assignment).toEqual(assignmentOfA);
    expect(group('g-static')).toMatchObject({ state: 'Stable', generationId: before.generationId, members: 2 });

    // the other member saw no rebalance, and both consume
    await produce('static', 40, 'static');
    await until(() => again.of('message').length + b.of('message').length >= 40);
    expect(b.of('assigned').length + b.of('revoked').length).toBe(bEventsBefore);
    expect(new Set([...again.of('message'), ...b.of('message')].map((m) => m.value)).size).toBe(40);
    expect(again.of('message').every((m) => assignmentOfA.includes(m.partition!))).toBe(true);
  });

  it('a second member with the same group.instance.id fences the first', async () => {
    await createTopic('fenced', 2);
    const first = pyConsumer('g-fenced', 'the-instance', 'fenced');
    await until(() => first.assignment.length === 2 && group('g-fenced')?.state === 'Stable');
    const generation = group('g-fenced')!.generationId;
    const second = pyConsumer('g-fenced', 'the-instance', 'fenced');
    await until(() => second.assignment.length === 2);
    // librdkafka raises FENCED_INSTANCE_ID from the heartbeat as its fatal error (_FATAL, -150)
    const isFatal = (e: PyEvent): boolean => e.fatal === true || e.name === '_FATAL';
    await until(() => first.of('error').some(isFatal));
    const fatal = first.of('error').find(isFatal)!;
    expect(fatal.text).toContain('Static consumer fenced by other consumer with same group.instance.id');
    expect(group('g-fenced')).toMatchObject({ state: 'Stable', generationId: generation, members: 1 });
  });

  it('kcat -G consumes every partition through the group and resumes from its committed offsets', async () => {
    await createTopic('kcat-group', 4);
    await produce('kcat-group', 100, 'k');
    const common = ['-b', broker.bootstrap, '-G', 'g-kcat', '-X', 'auto.offset.reset=earliest', '-e', '-q', '-f', '%p %o %s\\n'];
    const first = await runKcat([...common, 'kcat-group']);
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trim().split('\n');
    expect(new Set(lines.map((l) => l.split(' ')[2])).size).toBe(100);

    const admin = kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId: 'g-kcat', topics: ['kcat-group'] });
    expect(committed[0]!.partitions.map((p) => p.offset)).toEqual(['25', '25', '25', '25']);
    const described = await admin.describeGroups(['g-kcat']);
    expect(described.groups[0]).toMatchObject({ groupId: 'g-kcat', state: 'Empty', protocolType: 'consumer' });
    await admin.disconnect();

    await produce('kcat-group', 8, 'later');
    const second = await runKcat([...common, 'kcat-group']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.trim().split('\n').map((l) => l.split(' ')[2]).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `later-${i}`).sort());
  });
});
