// The scenarios of the compatibility matrix: what each client is asked to do
// (tasks written into its spec) and how its observations are judged.
import { batchesOnDisk, codecsOnDisk, topicOnDisk } from './broker.mjs';

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const CODEC_IDS = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** What a share consumer (KIP-932) needs; a share group's configs (share.auto.offset.reset) are set with IncrementalAlterConfigs. */
const SHARE_APIS = [
  { key: 76, name: 'ShareGroupHeartbeat' },
  { key: 78, name: 'ShareFetch' },
  { key: 79, name: 'ShareAcknowledge' },
  { key: 44, name: 'IncrementalAlterConfigs' },
];

/** The rows of share groups: a client without a share consumer gets one n/a reason for all three. */
export const SHARE_ROWS = ['share-group', 'share-acks', 'share-redelivery'];

/** Matrix rows, in order. `kind` is the task a client script implements. */
export const SCENARIOS = [
  { id: 'metadata', title: 'metadata (brokers, partitions, leaders)', kind: 'metadata' },
  { id: 'create-topic', title: 'create topic (+ TOPIC_ALREADY_EXISTS)', kind: 'create-topic' },
  ...CODECS.map((codec) => ({ id: `produce-${codec}`, title: `produce keys+headers, ${codec}; read back`, kind: 'produce', codec })),
  { id: 'consume', title: 'consume 3 partitions from the beginning, no group', kind: 'consume' },
  { id: 'mid-batch', title: 'fetch from an offset inside a gzip batch', kind: 'mid-batch' },
  { id: 'group', title: 'group: consume, commit, restart, resume from commit', kind: 'group' },
  {
    id: 'consumer-protocol',
    title: 'consumer protocol (KIP-848): two members share 4 partitions, commit, leave; a new member resumes from the commits',
    kind: 'consumer-protocol',
    needsApi: [{ key: 68, name: 'ConsumerGroupHeartbeat' }, { key: 69, name: 'ConsumerGroupDescribe' }],
  },
  {
    id: 'share-group',
    title: 'share group (KIP-932): 3 share consumers on a 1-partition topic, each gets some records; every record delivered once and acknowledged (ACCEPT)',
    kind: 'share-group',
    needsApi: SHARE_APIS,
  },
  {
    id: 'share-acks',
    title: 'share group: RELEASE delivers a record again (delivery count 2), REJECT archives it (never delivered again)',
    kind: 'share-acks',
    needsApi: SHARE_APIS,
  },
  {
    id: 'share-redelivery',
    title: 'share group: a share consumer killed while it holds records; they are delivered to another member',
    kind: 'share-redelivery',
    needsApi: SHARE_APIS,
  },
  { id: 'offsets-time', title: 'list offsets by timestamp (+ earliest/latest)', kind: 'offsets-time' },
  { id: 'delete-topic', title: 'delete topic', kind: 'delete-topic' },
  { id: 'idempotent', title: 'idempotent producer', kind: 'idempotent', needsApi: [{ key: 22, name: 'InitProducerId' }] },
  {
    id: 'transactions',
    title: 'transactions: commit, abort, commit; read_committed sees the committed ones',
    kind: 'transactions',
    needsApi: [{ key: 22, name: 'InitProducerId' }, { key: 24, name: 'AddPartitionsToTxn' }, { key: 26, name: 'EndTxn' }],
  },
  {
    id: 'topic-configs',
    title: 'topic config: describe, alter, describe again',
    kind: 'topic-configs',
    needsApi: [{ key: 32, name: 'DescribeConfigs' }, { key: 33, name: 'AlterConfigs' }],
  },
  { id: 'tls', title: 'TLS: produce and read back over an SSL listener, the CA verified', kind: 'security' },
  {
    id: 'sasl-plain',
    title: 'SASL PLAIN (SASL_PLAINTEXT): produce and read back; a wrong password refused (SASL_AUTHENTICATION_FAILED)',
    kind: 'security',
    needsApi: [{ key: 17, name: 'SaslHandshake' }, { key: 36, name: 'SaslAuthenticate' }],
  },
  {
    id: 'sasl-scram',
    title: 'SASL SCRAM: SCRAM-SHA-256 (SASL_PLAINTEXT) and SCRAM-SHA-512 (SASL_SSL), users made with AlterUserScramCredentials',
    kind: 'security',
    needsApi: [{ key: 17, name: 'SaslHandshake' }, { key: 36, name: 'SaslAuthenticate' }, { key: 51, name: 'AlterUserScramCredentials' }],
  },
  {
    id: 'acl',
    title: 'ACLs: a SASL PLAIN user allowed to write topic A is refused on topic B (TOPIC_AUTHORIZATION_FAILED)',
    kind: 'security',
    needsApi: [{ key: 17, name: 'SaslHandshake' }, { key: 30, name: 'CreateAcls' }],
  },
  { id: 'unknown-topic', title: 'error: unknown topic, auto-create off', kind: 'unknown-topic' },
  { id: 'too-large', title: 'error: message too large, then a small one', kind: 'too-large' },
  { id: 'cross-produce', title: 'cross-client: its data (none, gzip, snappy) read identically by every other client', kind: 'cross-produce' },
  { id: 'cross-read', title: "cross-client: reads every other client's data identically", kind: 'cross-read', phase: 2 },
];

/** The rows of the security scenarios (broker A's SSL, SASL_PLAINTEXT and SASL_SSL listeners, its authorizer). */
export const SECURITY_ROWS = ['tls', 'sasl-plain', 'sasl-scram', 'acl'];

/** The topics of a client's security rows (one partition each, created before the clients run). */
const securityTopics = (p) => ['tls', 'sasl-plain', 'scram-256', 'scram-512', 'acl-allowed', 'acl-refused'].map((t) => `${p}-${t}`);

/**
 * The steps of a security row: each connects with `conn` (bootstrap, security protocol, the CA to verify,
 * SASL mechanism and credentials) and produces `messages` to `topic` then reads them back from the beginning
 * (expect `ok`), or tries to produce and reports the error (expect `auth-failed` or `topic-denied`).
 */
function securitySteps(id, p, ctx, headers) {
  const { listeners, ca, users, scramUser } = ctx.security;
  const step = (label, conn, topic, expect = 'ok') => ({ label, conn, topic, expect, messages: expect === 'ok' ? makeMessages(`${p}-${label}`, 3, { headers }) : makeMessages(`${p}-${label}`, 1, { headers }) });
  const sasl = (protocol, mechanism, username, password) => ({ bootstrap: listeners[protocol], protocol, ca: protocol === 'SASL_SSL' ? ca : undefined, mechanism, username, password });
  switch (id) {
    case 'tls':
      return [step('ssl', { bootstrap: listeners.SSL, protocol: 'SSL', ca }, `${p}-tls`)];
    case 'sasl-plain':
      return [
        step('plain', sasl('SASL_PLAINTEXT', 'PLAIN', 'alice', users.alice), `${p}-sasl-plain`),
        step('wrong-password', sasl('SASL_PLAINTEXT', 'PLAIN', 'alice', 'wrong-password'), `${p}-sasl-plain`, 'auth-failed'),
      ];
    case 'sasl-scram':
      return [
        step('scram-sha-256', sasl('SASL_PLAINTEXT', 'SCRAM-SHA-256', scramUser.name, scramUser.password), `${p}-scram-256`),
        step('scram-sha-512', sasl('SASL_SSL', 'SCRAM-SHA-512', scramUser.name, scramUser.password), `${p}-scram-512`),
      ];
    case 'acl':
      return [
        step('acl-allowed', sasl('SASL_PLAINTEXT', 'PLAIN', 'alice', users.alice), `${p}-acl-allowed`),
        step('acl-refused', sasl('SASL_PLAINTEXT', 'PLAIN', 'alice', users.alice), `${p}-acl-refused`, 'topic-denied'),
      ];
    default:
      throw new Error(`no security row ${id}`);
  }
}

/** Broker B (errors) rejects batches above this; `too-large` sends 2x. */
export const ERR_MESSAGE_MAX_BYTES = 65536;

/** Deterministic, compressible, non-ASCII test messages. */
export function makeMessages(label, n, { headers = true, partitions = 1, bigValue = false } = {}) {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push({
      key: `${label}-k${i}`,
      value: `${label} #${i} ✓ ünïcødé — ${'compressible text '.repeat(6)}${i}`,
      headers: headers ? [['idx', String(i)], ['origin', label]] : [],
      partition: i % partitions,
    });
  }
  if (bigValue) {
    const filler = Array.from({ length: 3000 }, (_, i) => `${label}:${i};`).join('');
    out.push({ key: `${label}-big`, value: filler, headers: headers ? [['idx', 'big'], ['origin', label]] : [], partition: 0 });
  }
  return out;
}

/** The tasks of one client in one phase; cells it cannot run become n/a or pending. */
export function planClient(client, ctx, phase) {
  const tasks = [];
  const cells = {};
  const p = client.name;
  const headers = client.headers;
  for (const s of SCENARIOS) {
    if ((s.phase ?? 1) !== phase) continue;
    const support = client.supports[s.id];
    if (typeof support === 'string') {
      cells[s.id] = { status: 'n/a', detail: support };
      continue;
    }
    // { reason, brokerError }: the client cannot do it against Kafka either; run it
    // anyway and check that the broker refuses it the way Kafka does.
    const refusal = typeof support === 'object' ? support : undefined;
    const missing = (s.needsApi ?? []).filter((api) => !ctx.apiKeys.has(api.key));
    if (missing.length > 0) {
      cells[s.id] = { status: 'pending', detail: `broker does not implement ${missing.map((api) => `${api.name} (API ${api.key})`).join(', ')} yet` };
      continue;
    }
    const base = { id: s.id, kind: s.kind, timeoutMs: 45_000, ...(refusal ? { refusal: { reason: refusal.reason, brokerError: refusal.brokerError.source } } : {}) };
    switch (s.kind) {
      case 'metadata':
        tasks.push({ ...base, topic: ctx.metaTopic });
        break;
      case 'create-topic':
        tasks.push({ ...base, topic: `${p}-created`, partitions: 3 });
        break;
      case 'produce':
        tasks.push({ ...base, codec: s.codec, topic: `${p}-${s.codec}`, messages: makeMessages(`${p}-${s.codec}`, 10, { headers }) });
        break;
      case 'consume':
        tasks.push({ ...base, topic: `${p}-consume`, partitions: 3, messages: makeMessages(`${p}-consume`, 12, { headers, partitions: 3 }) });
        break;
      case 'mid-batch':
        // Same headers on every message, so that kcat can send them in one batch too.
        tasks.push({ ...base, topic: `${p}-mid`, codec: 'gzip', offset: 4, messages: makeMessages(`${p}-mid`, 10, { headers }).map((m) => ({ ...m, headers: headers ? [['origin', `${p}-mid`]] : [] })) });
        break;
      case 'group': {
        const all = makeMessages(`${p}-group`, 16, { headers, partitions: 2 });
        tasks.push({ ...base, topic: `${p}-group`, group: `${p}-group-g`, first: all.slice(0, 10), second: all.slice(10) });
        break;
      }
      case 'consumer-protocol': {
        // group.protocol=consumer under its own client id, so that the wire log shows what the members sent
        const all = makeMessages(`${p}-kip848`, 24, { headers, partitions: 4 });
        tasks.push({ ...base, timeoutMs: 120_000, topic: `${p}-kip848`, group: `${p}-kip848-g`, clientId: `compat-${p}-kip848`, partitions: 4, first: all.slice(0, 16), second: all.slice(16) });
        break;
      }
      case 'share-group':
        // The consumers start first; records come in rounds until each consumer has had some (they join
        // one by one; the group's share.auto.offset.reset=earliest keeps what came before).
        tasks.push({
          ...base,
          timeoutMs: 60_000,
          topic: `${p}-share`,
          group: `${p}-share-g`,
          clientId: `compat-${p}-share`,
          consumers: 3,
          perRound: 10,
          roundMs: 200,
          messages: makeMessages(`${p}-share`, 600, { headers: false }),
        });
        break;
      case 'share-acks':
        // Explicit acknowledgement: one consumer RELEASEs each record at its first delivery and ACCEPTs it at the
        // second; another REJECTs the records whose offset is a multiple of `rejectEvery` and ACCEPTs the others.
        tasks.push({
          ...base,
          timeoutMs: 60_000,
          clientId: `compat-${p}-share`,
          release: { topic: `${p}-share-release`, group: `${p}-share-release-g`, messages: makeMessages(`${p}-share-release`, 10, { headers: false }) },
          reject: { topic: `${p}-share-reject`, group: `${p}-share-reject-g`, messages: makeMessages(`${p}-share-reject`, 10, { headers: false }), rejectEvery: 3 },
        });
        break;
      case 'share-redelivery':
        // Records in batches of maxPollRecords. One consumer takes some and holds them without acknowledging; a
        // second joins; the first is killed (SIGKILL): the second gets every record, those the first held at their
        // second delivery.
        tasks.push({
          ...base,
          timeoutMs: 60_000,
          topic: `${p}-share-kill`,
          group: `${p}-share-kill-g`,
          clientId: `compat-${p}-share`,
          maxPollRecords: 10,
          messages: makeMessages(`${p}-share-kill`, 30, { headers: false }),
        });
        break;
      case 'offsets-time': {
        const t0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
        const messages = makeMessages(`${p}-times`, 3, { headers }).map((m, i) => ({ ...m, timestamp: t0 + i * 10_000 }));
        tasks.push({ ...base, topic: `${p}-times`, messages, queries: { first: t0 - 5_000, mid: t0 + 5_000, exact: t0 + 10_000, last: t0 + 20_000 } });
        break;
      }
      case 'delete-topic':
        tasks.push({ ...base, topic: `${p}-deleted`, messages: makeMessages(`${p}-deleted`, 1, { headers }) });
        break;
      case 'idempotent':
        tasks.push({ ...base, topic: `${p}-idempotent`, messages: makeMessages(`${p}-idempotent`, 10, { headers }) });
        break;
      case 'transactions': {
        // One header set for all (kcat gives one to every message of an invocation, and a transaction is one).
        const txn = (label, n) => makeMessages(`${p}-txn-${label}`, n, { headers }).map((m) => ({ ...m, headers: headers ? [['origin', `${p}-txn`]] : [] }));
        tasks.push({ ...base, topic: `${p}-txn`, transactionalId: `compat-${p}-txn`, transactions: [
          { commit: true, messages: txn('first', 6) },
          { commit: false, messages: txn('aborted', 4) },
          { commit: true, messages: txn('second', 4) },
        ] });
        break;
      }
      case 'topic-configs':
        tasks.push({ ...base, topic: `${p}-configs`, config: 'retention.ms', before: '604800000', value: '3600000' });
        break;
      case 'security':
        tasks.push({ ...base, timeoutMs: 60_000, steps: securitySteps(s.id, p, ctx, headers) });
        break;
      case 'unknown-topic':
        tasks.push({ ...base, topic: `${p}-missing`, messages: makeMessages(`${p}-missing`, 1, { headers }) });
        break;
      case 'too-large':
        tasks.push({ ...base, topic: `${p}-big`, largeBytes: ERR_MESSAGE_MAX_BYTES * 2, messages: makeMessages(`${p}-big`, 1, { headers }) });
        break;
      case 'cross-produce':
        tasks.push({ ...base, topics: crossTopics(client), messages: crossMessages(client) });
        break;
      case 'cross-read':
        tasks.push({ ...base, topics: ctx.crossTopics.map((t) => ({ topic: t.topic, count: t.count })) });
        break;
      default:
        throw new Error(`unknown scenario kind ${s.kind}`);
    }
  }
  return { tasks, cells };
}

/** Each client produces the same data three times: uncompressed, gzip and snappy (codecs every client has). */
export const crossTopics = (client) => ['none', 'gzip', 'snappy'].map((codec) => ({ topic: `xc-${client.name}-${codec}`, codec }));
export const crossMessages = (client) => makeMessages(`xc-${client.name}`, 12, { headers: client.headers, bigValue: true });

/** Topics the runner creates before the clients run: [broker, topic, partitions]. */
export function setupTopics(clients, ctx) {
  const a = [[ctx.metaTopic, 2]];
  const b = [];
  for (const c of clients) {
    a.push([`${c.name}-consume`, 3], [`${c.name}-group`, 2], [`${c.name}-kip848`, 4], [`${c.name}-configs`, 1], [`${c.name}-txn`, 1]);
    if (typeof c.supports['share-group'] !== 'string') a.push([`${c.name}-share`, 1], [`${c.name}-share-release`, 1], [`${c.name}-share-reject`, 1], [`${c.name}-share-kill`, 1]);
    b.push([`${c.name}-big`, 1]);
    for (const t of securityTopics(c.name)) a.push([t, 1]);
  }
  return { a, b };
}

// ---------------------------------------------------------------- judging

const show = (m) => JSON.stringify(m);

function normal(m, withHeaders) {
  return { key: m.key ?? null, value: m.value ?? null, headers: withHeaders ? (m.headers ?? []).map(([k, v]) => [k, v ?? null]) : [] };
}

/** Null when `got` holds exactly `expected`, in order; else what differs first. */
export function diffMessages(expected, got, withHeaders) {
  if (!Array.isArray(got)) return `read nothing (${show(got)})`;
  for (let i = 0; i < Math.max(expected.length, got.length); i++) {
    if (i >= got.length) return `read ${got.length} of ${expected.length} messages`;
    if (i >= expected.length) return `read ${got.length - expected.length} extra messages, first ${show(got[i])}`;
    const e = show(normal(expected[i], withHeaders));
    const g = show(normal(got[i], withHeaders));
    if (e !== g) return `message ${i}: expected ${e.slice(0, 300)}, read ${g.slice(0, 300)}`;
  }
  return null;
}

const byValue = (list) => [...list].sort((x, y) => (x.value < y.value ? -1 : x.value > y.value ? 1 : 0));

function expect(cond, message) {
  if (!cond) throw new Error(message);
}

/** A share consumer's delivery ({ value, ... }) as a message for diffMessages. */
const valueOnly = (x) => ({ key: null, value: x.value, headers: [] });

/** Errors a share consumer reported (acknowledgements the broker refused, poll or close errors). */
function expectNoShareProblems(problems = []) {
  expect(problems.length === 0, `share consumer errors: ${show(problems.slice(0, 5))}`);
}

/** Throws with the reason when the observation `data` of `task` is wrong. Returns an optional note. */
export function judge(task, data, client, ctx) {
  const headers = client.headers;
  switch (task.kind) {
    case 'metadata': {
      const brokers = data.brokers ?? [];
      expect(brokers.length === 1, `expected one broker, got ${show(brokers)}`);
      const b = brokers[0];
      expect(b.id === ctx.nodeId && b.host === ctx.host && b.port === ctx.portA, `broker ${show(b)} is not ${ctx.nodeId}@${ctx.host}:${ctx.portA}`);
      const parts = (data.partitions ?? []).slice().sort((x, y) => x.id - y.id);
      expect(parts.length === 2, `${task.topic}: expected 2 partitions, got ${show(parts)}`);
      parts.forEach((pt, i) => expect(pt.id === i && pt.leader === ctx.nodeId && (pt.error ?? 0) === 0, `partition ${show(pt)}`));
      return null;
    }
    case 'create-topic':
      expect(data.partitions === task.partitions, `created topic has ${data.partitions} partitions, not ${task.partitions}`);
      if (data.duplicateHidden === true) return 'creating it again: the client hides TOPIC_ALREADY_EXISTS (not checked)';
      expect(/already.?exists|TOPIC_ALREADY_EXISTS|\b36\b/i.test(String(data.duplicate)), `creating it again: ${data.duplicate}`);
      return null;
    case 'produce': {
      const diff = diffMessages(task.messages, data.read, headers);
      expect(diff === null, diff);
      const codecs = codecsOnDisk(ctx.dataDirA, task.topic);
      const want = CODEC_IDS[task.codec];
      expect(codecs.length > 0 && codecs.every((c) => c === want), `batches on disk have codecs [${codecs}], expected ${want} (${task.codec})`);
      return headers ? null : 'no record headers (client has none)';
    }
    case 'consume':
      for (let p = 0; p < task.partitions; p++) {
        const diff = diffMessages(task.messages.filter((m) => m.partition === p), data.read?.[p] ?? data.read?.[String(p)], headers);
        expect(diff === null, `partition ${p}: ${diff}`);
      }
      return null;
    case 'mid-batch': {
      const diff = diffMessages(task.messages.slice(task.offset), data.read, headers);
      expect(diff === null, `from offset ${task.offset}: ${diff}`);
      const batches = batchesOnDisk(ctx.dataDirA, task.topic);
      const inside = batches.find((b) => b.magic === 2 && b.baseOffset < task.offset && task.offset < b.baseOffset + b.count);
      expect(inside !== undefined && inside.codec === CODEC_IDS.gzip, `offset ${task.offset} is not inside a gzip batch on disk: ${show(batches)}`);
      return data.note ?? null;
    }
    case 'group': {
      const d1 = diffMessages(byValue(task.first), byValue(data.first ?? []), headers);
      expect(d1 === null, `first consumer: ${d1}`);
      const d2 = diffMessages(byValue(task.second), byValue(data.second ?? []), headers);
      expect(d2 === null, `restarted consumer: ${d2}`);
      if (data.committed !== undefined) {
        const all = [...task.first, ...task.second];
        for (const { partition, offset } of data.committed) {
          const want = all.filter((m) => m.partition === partition).length;
          expect(Number(offset) === want, `committed offset of partition ${partition} is ${offset}, expected ${want}`);
        }
      }
      return data.note ?? null;
    }
    case 'consumer-protocol': {
      // first: the two members together read every message once; each held some partitions, none both
      const d1 = diffMessages(byValue(task.first), byValue(data.first ?? []), headers);
      expect(d1 === null, `the two members: ${d1}`);
      const held = data.assignments ?? [];
      const all = held.flat().sort((x, y) => x - y);
      expect(
        held.length === 2 && held.every((h) => h.length > 0) && show(all) === show([...Array(task.partitions).keys()]),
        `the two members held ${show(held)}, expected each some of the ${task.partitions} partitions, together all, none both`,
      );
      const d2 = diffMessages(byValue(task.second), byValue(data.second ?? []), headers);
      expect(d2 === null, `the member after them: ${d2}`);
      const total = [...task.first, ...task.second];
      for (const { partition, offset } of data.committed ?? []) {
        const want = total.filter((m) => m.partition === partition).length;
        expect(Number(offset) === want, `committed offset of partition ${partition} is ${offset}, expected ${want}`);
      }
      expect((data.committed ?? []).length > 0, 'no committed offsets reported');
      return [`the two members held partitions ${held.map((h) => h.join(',')).join(' and ')}`, data.note].filter(Boolean).join('; ');
    }
    case 'share-group': {
      const consumers = data.consumers ?? [];
      const all = consumers.flat();
      expect(data.produced > 0, `nothing produced: ${show(data)}`);
      const d = diffMessages(byValue(task.messages.slice(0, data.produced)).map(valueOnly), byValue(all.map(valueOnly)), false);
      expect(d === null, `the ${task.consumers} consumers together: ${d}`);
      const again = all.filter((x) => x.deliveryCount !== 1 || x.ack !== 'accept');
      expect(again.length === 0, `delivered more than once or not accepted: ${show(again.slice(0, 3))}`);
      expect(consumers.length === task.consumers && consumers.every((c) => c.length > 0), `records per consumer: ${consumers.map((c) => c.length).join(', ')}; expected each of the ${task.consumers} to have some`);
      expectNoShareProblems(data.problems);
      return `the ${task.consumers} consumers got ${consumers.map((c) => c.length).join(' / ')} of the ${data.produced} records`;
    }
    case 'share-acks': {
      const { release, reject } = data;
      // RELEASE: each record twice, released at delivery 1, accepted at delivery 2
      for (let offset = 0; offset < task.release.messages.length; offset++) {
        const got = (release ?? []).filter((x) => x.offset === offset).map((x) => [x.deliveryCount, x.ack]);
        expect(show(got) === show([[1, 'release'], [2, 'accept']]), `released record at offset ${offset}: deliveries ${show(got)}, expected [[1,"release"],[2,"accept"]]`);
      }
      const dr = diffMessages(byValue(task.release.messages).map(valueOnly), byValue((release ?? []).filter((x) => x.ack === 'accept').map(valueOnly)), false);
      expect(dr === null, `released records accepted at their second delivery: ${dr}`);
      // REJECT: each record once; the rejected ones never again
      const offsets = (reject ?? []).map((x) => x.offset).sort((x, y) => x - y);
      expect(show(offsets) === show([...task.reject.messages.keys()]), `rejecting consumer: offsets delivered ${show(offsets)}, expected each of 0-${task.reject.messages.length - 1} once`);
      const rejected = (reject ?? []).filter((x) => x.ack === 'reject').map((x) => x.offset).sort((x, y) => x - y);
      const want = [...task.reject.messages.keys()].filter((o) => o % task.reject.rejectEvery === 0);
      expect(show(rejected) === show(want), `rejected offsets ${show(rejected)}, expected ${show(want)}`);
      const dj = diffMessages(byValue(task.reject.messages).map(valueOnly), byValue((reject ?? []).map(valueOnly)), false);
      expect(dj === null, `rejecting consumer: ${dj}`);
      expectNoShareProblems(data.problems);
      return `${task.release.messages.length} records released then accepted; offsets ${want.join(', ')} rejected and not delivered again`;
    }
    case 'share-redelivery': {
      const held = data.held ?? [];
      expect(held.length > 0, 'the first consumer held no records');
      const taken = data.taken ?? [];
      const d = diffMessages(byValue(task.messages).map(valueOnly), byValue(taken.map(valueOnly)), false);
      expect(d === null, `the second consumer: ${d}`);
      const heldValues = new Set(held.map((x) => x.value));
      const wrong = taken.filter((x) => x.deliveryCount !== (heldValues.has(x.value) ? 2 : 1));
      expect(wrong.length === 0, `delivery counts: ${show(wrong.slice(0, 3))}; expected 2 for the ${held.length} records the killed consumer held, 1 for the others`);
      expectNoShareProblems(data.problems);
      return `the killed consumer held ${held.length} records; the other got them at delivery 2, and the other ${taken.length - held.length} at delivery 1`;
    }
    case 'offsets-time': {
      const want = { first: 0, mid: 1, exact: 1, last: 2, earliest: 0, latest: 3 };
      const wrong = Object.entries(want).filter(([k, v]) => data[k] !== undefined && data[k] !== v);
      expect(wrong.length === 0, `offsets ${show(data)}, expected ${show(want)}`);
      expect(data.mid !== undefined && data.exact !== undefined, `no timestamp look-up reported: ${show(data)}`);
      return data.note ?? null;
    }
    case 'delete-topic':
      expect(data.existedBefore === true, `topic was not listed before the delete: ${show(data)}`);
      expect(data.existsAfter === false, `topic still listed after the delete: ${show(data)}`);
      return data.note ?? null;
    case 'idempotent': {
      const diff = diffMessages(task.messages, data.read, headers);
      expect(diff === null, diff);
      // Every batch on disk carries a producer id; each producer's sequences run from 0 without gaps.
      const batches = batchesOnDisk(ctx.dataDirA, task.topic);
      expect(batches.length > 0 && batches.every((b) => b.magic === 2 && b.producerId >= 0), `batches on disk: ${show(batches)}`);
      const next = new Map();
      for (const b of batches) {
        const want = next.get(b.producerId) ?? 0;
        expect(b.baseSequence === want, `producer ${b.producerId}: batch sequence ${b.baseSequence}, expected ${want}: ${show(batches)}`);
        next.set(b.producerId, want + b.count);
      }
      return `${next.size} producer id(s), sequences from 0 without gaps in ${batches.length} batch(es)`;
    }
    case 'transactions': {
      const committed = task.transactions.filter((t) => t.commit).flatMap((t) => t.messages);
      const diff = diffMessages(committed, data.read, headers);
      expect(diff === null, `read_committed: ${diff}`);
      // What the broker stored: every message of the three transactions (the aborted ones too), each
      // transaction closed by its marker, in order.
      const batches = batchesOnDisk(ctx.dataDirA, task.topic);
      const stored = batches.filter((b) => !b.control);
      const markers = batches.filter((b) => b.control).map((b) => b.marker);
      const sent = task.transactions.reduce((n, t) => n + t.messages.length, 0);
      expect(stored.every((b) => b.transactional), `non-transactional batches on disk: ${show(stored)}`);
      expect(stored.reduce((n, b) => n + b.count, 0) === sent, `${stored.reduce((n, b) => n + b.count, 0)} records on disk, ${sent} sent`);
      expect(show(markers) === show(task.transactions.map((t) => (t.commit ? 'COMMIT' : 'ABORT'))), `markers on disk: ${show(markers)}`);
      return `${committed.length} committed and ${sent - committed.length} aborted records, markers ${markers.join(', ')}${data.note ? `; ${data.note}` : ''}`;
    }
    case 'topic-configs':
      expect(String(data.before) === task.before, `${task.config} before the change: ${show(data.before)}, expected the default ${task.before}`);
      expect(String(data.after) === task.value, `${task.config} after AlterConfigs: ${show(data.after)}, expected ${task.value}`);
      return null;
    case 'security':
      return judgeSecurity(task, data, headers);
    case 'unknown-topic':
      expect(
        /unknown.?topic|UNKNOWN_TOPIC|UnknownTopic|not exist|does not host this topic/i.test(String(data.error)),
        `expected an unknown-topic error, got ${show(data.error)}`,
      );
      expect(!topicOnDisk(ctx.dataDirB, task.topic), `${task.topic} was created on the broker with auto-create off`);
      return `reported: ${data.error}`;
    case 'too-large': {
      expect(/too.?large|MESSAGE_TOO_LARGE|MessageSizeTooLarge|TooLarge/i.test(String(data.error)), `expected MESSAGE_TOO_LARGE, got ${show(data.error)}`);
      const diff = diffMessages(task.messages, data.read, headers);
      expect(diff === null, `small message after the large one: ${diff}`);
      return `reported: ${data.error}`;
    }
    case 'cross-produce':
      for (const t of task.topics) {
        const codecs = codecsOnDisk(ctx.dataDirA, t.topic);
        expect(codecs.length > 0 && codecs.every((c) => c === CODEC_IDS[t.codec]), `${t.topic}: batches on disk have codecs [${codecs}], expected ${t.codec}`);
      }
      return null;
    case 'cross-read':
      return null; // judged per producer by the runner
    default:
      throw new Error(`unknown scenario kind ${task.kind}`);
  }
}

/** What a client reports when the broker refused its login, and when it refused a topic. */
const AUTH_FAILED = /SASL_AUTHENTICATION_FAILED|SaslAuthenticationFailed|Authentication failed|Invalid username or password/i;
const TOPIC_DENIED = /TOPIC_AUTHORIZATION_FAILED|Topic authorization failed|TopicAuthorizationFailed|TopicAuthorization|not authorized to access (this topic|topics)/i;

/**
 * The part of a client's error text that names the refusal, without what changes from run to run (a log line's
 * time stamp and thread, the broker's address, how long the exchange took).
 */
function refusalNote(error, want) {
  const parts = error.split(/; | \| | \/ /).filter((x) => want.test(x));
  return (parts.at(-1) ?? error) // the last names it best (a chain of errors ends with the broker's)
    .replace(/%\d\|[\d.]+\|\w+\|[^|]*\|\s*/g, '')
    .replace(/\[thrd:[^\]]*\]:\s*/g, '')
    .replace(/\w+:\/\/[\d.]+:\d+\/\w+:\s*/g, '')
    .replace(/\s*\(after \d+ms in state \w+(, \d+ identical error\(s\) suppressed)?\)/g, '')
    .replace(/[\d.]+:\d+/g, '<broker>')
    .trim()
    .slice(0, 200);
}

/** A security row: each step read back what it produced, or was refused with the error Kafka gives. */
function judgeSecurity(task, data, headers) {
  const notes = [];
  for (const step of task.steps) {
    const got = (data.steps ?? []).find((x) => x.label === step.label);
    expect(got !== undefined, `${step.label}: no result`);
    if (step.expect === 'ok') {
      expect(got.error === undefined, `${step.label}: ${got.error}`);
      const diff = diffMessages(step.messages, got.read, headers);
      expect(diff === null, `${step.label}: ${diff}`);
      continue;
    }
    if (got.hidden !== undefined) {
      expect(got.refused === true, `${step.label}: the client went on as if the broker had accepted (${show(got)})`);
      notes.push(`${step.label}: refused; ${got.hidden}`);
      continue;
    }
    const want = step.expect === 'auth-failed' ? AUTH_FAILED : TOPIC_DENIED;
    expect(typeof got.error === 'string' && want.test(got.error), `${step.label}: expected ${step.expect === 'auth-failed' ? 'SASL_AUTHENTICATION_FAILED' : 'TOPIC_AUTHORIZATION_FAILED'}, got ${show(got.error ?? got)}`);
    notes.push(`${step.label}: ${refusalNote(got.error, want)}`);
  }
  return notes.length === 0 ? null : notes.join('; ');
}

/**
 * The consumer-protocol cell, once the wire log is read: its members' client id (`task.clientId`) must have
 * spoken KIP-848 (ConsumerGroupHeartbeat) and never the classic protocol (JoinGroup). `apis`: what that id
 * sent, [{ apiKey, versions }]. Returns a note; throws when the members did not use the consumer protocol.
 */
export function judgeConsumerProtocolWire(task, apis = []) {
  const heartbeat = apis.find((a) => a.apiKey === 68);
  expect(heartbeat !== undefined, `${task.clientId} sent no ConsumerGroupHeartbeat`);
  expect(!apis.some((a) => a.apiKey === 11), `${task.clientId} sent JoinGroup (the classic protocol)`);
  return `ConsumerGroupHeartbeat v${heartbeat.versions.join('/')}`;
}

/**
 * The share-group cell, once the wire log is read: the share consumers' client id (`task.clientId`, which the
 * three share rows use) must have spoken KIP-932: ShareGroupHeartbeat to join, ShareFetch to read. Returns a
 * note with the versions of the share APIs it sent.
 */
export function judgeShareGroupWire(task, apis = []) {
  const sent = (key) => apis.find((a) => a.apiKey === key);
  expect(sent(76) !== undefined, `${task.clientId} sent no ShareGroupHeartbeat`);
  expect(sent(78) !== undefined, `${task.clientId} sent no ShareFetch`);
  const names = { 76: 'ShareGroupHeartbeat', 78: 'ShareFetch', 79: 'ShareAcknowledge' };
  return Object.entries(names)
    .filter(([key]) => sent(Number(key)) !== undefined)
    .map(([key, name]) => `${name} v${sent(Number(key)).versions.join('/')}`)
    .join(', ');
}
