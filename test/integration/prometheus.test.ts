/**
 * The metrics and the Grafana dashboard against a real Prometheus (Debian's `prometheus` package, which
 * .ci/run installs): a broker serves traffic that exercises every panel (several topics, a consumer group
 * that keeps up and one that lags, produce and metadata errors, long polls, acks=all produces, transactions
 * committed and aborted, a consumer-protocol group whose members keep joining and leaving, a share group fetching and acknowledging,
 * SASL logins that succeed and fail, TLS handshakes that succeed and fail on an SSL listener) while
 * Prometheus scrapes it every second; then every query of every panel is evaluated through Prometheus's
 * HTTP API as Grafana would run it (template variables resolved from their label_values queries,
 * $__interval, $__rate_interval and $__range substituted) and must succeed with data. promtool checks the
 * scraped exposition and the shipped prometheus.yml.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, schemas } from '../../protocol/index.js';
import { startBroker, type RunningBroker } from '../../src/index.js';
import { TestPki } from '../helpers/certificates.js';
import { freePort } from '../helpers/free-port.js';
import { queryPanels, readDashboard, REPO_ROOT, variableQuery, type DashboardJson } from '../helpers/grafana-dashboard.js';
import { batchOf, produceRaw, testRecords } from '../helpers/produce-records.js';
import { RawClient } from '../helpers/raw-client.js';

const INSTALL_HINT = 'apt-get update && apt-get install -y --no-install-recommends prometheus';
const SCRAPE_SECONDS = 1;
/** Grafana's $__interval for the test's time range, and the step of range queries. */
const STEP_SECONDS = 2;
/** Seconds of traffic: several scrapes, and several $__rate_interval windows. */
const TRAFFIC_SECONDS = 10;

function findBinary(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/local/bin']) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function requireBinary(name: string): string {
  const path = findBinary(name);
  if (path) return path;
  const where = process.env.CI === 'true' ? 'CI must install it (.ci/run)' : 'install it to run this test';
  throw new Error(
    `\n\n*** ${name} is not installed: this test runs a real Prometheus and promtool. ${where}:\n***   ${INSTALL_HINT}\n` +
      `*** (Debian's prometheus package provides /usr/bin/prometheus and /usr/bin/promtool.)\n`,
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface PromResponse<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

interface PromSeries {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

/** Grafana's escaping of a value in a regex of a multi-value variable (Prometheus datasource). */
function regexEscape(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}]/g, '\\\\$&');
}

class Prometheus {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    private readonly output: () => string,
  ) {}

  static async start(binary: string, dir: string, target: string): Promise<Prometheus> {
    const config = join(dir, 'prometheus.yml');
    await writeFile(
      config,
      `global:\n  scrape_interval: ${SCRAPE_SECONDS}s\n  evaluation_interval: ${SCRAPE_SECONDS}s\n` +
        `scrape_configs:\n  - job_name: gregor\n    static_configs:\n      - targets: ['${target}']\n`,
    );
    const port = await freePort();
    const child = spawn(binary, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const prom = new Prometheus(child, port, () => output);
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${output}`);
      const ready = await fetch(`http://127.0.0.1:${port}/-/ready`).then((r) => r.ok, () => false);
      if (ready) return prom;
      await sleep(100);
    }
  }

  async api<T>(path: string, params: Record<string, string | string[]>): Promise<PromResponse<T>> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const item of Array.isArray(v) ? v : [v]) query.append(k, item);
    const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/${path}?${query.toString()}`);
    const text = await res.text();
    try {
      return JSON.parse(text) as PromResponse<T>;
    } catch {
      return { status: 'error', errorType: `HTTP ${res.status}`, error: text };
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }

  get log(): string {
    return this.output();
  }
}

/** Traffic for every panel: several topics, a keeping-up group, a lagging group, errors, clients. */
class Traffic {
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly consumers: Consumer[] = [];
  private producer!: Producer;
  private transactional!: Producer;
  private raw!: RawClient;
  private tlsClient: RawClient | undefined;

  constructor(
    private readonly broker: RunningBroker,
    /** The CA of the SSL listener's certificate (PEM). */
    private readonly ca: string,
  ) {}

  async start(): Promise<void> {
    const kafka = new Kafka({ clientId: 'prometheus-test', brokers: [this.broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
    const topics = this.broker.broker.topics;
    await topics.create({ name: 'orders', numPartitions: 3, replicationFactor: 1, configs: {} });
    await topics.create({ name: 'payments', numPartitions: 2, replicationFactor: 1, configs: {} });
    await topics.create({ name: 'audit.log', numPartitions: 1, replicationFactor: 1, configs: {} });
    this.producer = kafka.producer();
    await this.producer.connect();
    this.transactional = kafka.producer({ transactionalId: 'prometheus-txn', idempotent: true, maxInFlightRequests: 1 });
    await this.transactional.connect();
    this.raw = await RawClient.connect(this.broker.port, '127.0.0.1', 'raw-software');
    await this.raw.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'gregor-prometheus-test', clientSoftwareVersion: '1.0' });

    // the lagging group reads payments once, commits, and leaves
    await this.producer.send({ topic: 'payments', acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ key: `p${i}`, value: `payment-${i}` })) });
    const lagging = kafka.consumer({ groupId: 'lagging-group', maxWaitTimeInMs: 100, heartbeatInterval: 500 });
    let seen = 0;
    await lagging.connect();
    await lagging.subscribe({ topic: 'payments', fromBeginning: true });
    await lagging.run({ autoCommitInterval: 100, eachMessage: async () => void seen++ });
    while (seen < 20) await sleep(50);
    await lagging.disconnect();

    // the live group keeps up with orders (its fetches long-poll)
    const live = kafka.consumer({ groupId: 'live-group', maxWaitTimeInMs: 500, heartbeatInterval: 500 });
    this.consumers.push(live);
    await live.connect();
    await live.subscribe({ topic: 'orders', fromBeginning: true });
    await live.run({ autoCommitInterval: 200, eachMessage: async () => undefined });

    // a connection that stays open on the SSL listener (gregor_listener_connections of SSL)
    this.tlsClient = await RawClient.connectTls(this.broker.broker.boundPorts.get('SSL')!, { ca: this.ca });
    this.loops.push(this.produceLoop(), this.errorLoop(), this.transactionLoop(), this.consumerProtocolLoop(), this.shareGroupLoop(), this.saslLoop(), this.tlsLoop());
  }

  /** On the SSL listener, twice a second: a TLS handshake that succeeds, and one that fails (not TLS at all). */
  private async tlsLoop(): Promise<void> {
    const port = this.broker.broker.boundPorts.get('SSL')!;
    while (this.running) {
      const c = await RawClient.connectTls(port, { ca: this.ca });
      await c.request(schemas.apiVersionsRequest, schemas.apiVersionsResponse, 3, { clientSoftwareName: 'gregor-prometheus-test', clientSoftwareVersion: '1.0' });
      c.close();
      await new Promise<void>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\n\r\n'));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
      });
      await sleep(500);
    }
  }

  /** PLAIN logins on the SASL listener: one that succeeds and one with a wrong password, twice a second. */
  private async saslLoop(): Promise<void> {
    const port = this.broker.broker.boundPorts.get('SASL_PLAINTEXT')!;
    while (this.running) {
      for (const password of ['alice-secret', 'wrong']) {
        const c = await RawClient.connect(port);
        await c.request(schemas.saslHandshakeRequest, schemas.saslHandshakeResponse, 1, { mechanism: 'PLAIN' });
        await c.request(schemas.saslAuthenticateRequest, schemas.saslAuthenticateResponse, 2, { authBytes: Buffer.from(`\u0000alice\u0000${password}`) });
        c.close();
      }
      await sleep(500);
    }
  }

  private async produceLoop(): Promise<void> {
    let n = 0;
    while (this.running) {
      await this.producer.sendBatch({
        acks: -1,
        topicMessages: [
          { topic: 'orders', messages: Array.from({ length: 30 }, (_, i) => ({ key: `o${n + i}`, value: `order-${n + i}-${'x'.repeat(i * 3)}` })) },
          { topic: 'payments', messages: [{ key: `p${n}`, value: `payment-${n}` }] },
          { topic: 'audit.log', messages: [{ value: `audit-${n}` }] },
        ],
      });
      n += 30;
      await sleep(50);
    }
  }

  /** Transactions to orders and payments: two committed for each aborted one. */
  private async transactionLoop(): Promise<void> {
    let n = 0;
    while (this.running) {
      const txn = await this.transactional.transaction();
      await txn.sendBatch({
        acks: -1,
        topicMessages: [
          { topic: 'orders', messages: [{ key: `t${n}`, value: `txn-order-${n}` }] },
          { topic: 'payments', messages: [{ key: `t${n}`, value: `txn-payment-${n}` }] },
        ],
      });
      if (n % 3 === 2) await txn.abort();
      else await txn.commit();
      n++;
      await sleep(100);
    }
  }

  /**
   * A consumer group of the consumer protocol (raw ConsumerGroupHeartbeat v1): two members stay, a third joins
   * and leaves again every second (rebalances, revocations, assignments); the others revoke at once.
   */
  private async consumerProtocolLoop(): Promise<void> {
    const c = await RawClient.connect(this.broker.port, '127.0.0.1', 'kip848-member');
    const groupId = 'kip848-group';
    type Owned = Array<{ topicId: string; partitions: number[] }>;
    const members = new Map<string, { epoch: number; owned: Owned }>();
    const beat = async (memberId: string, join: boolean): Promise<void> => {
      const m = members.get(memberId) ?? { epoch: 0, owned: [] };
      const res = await c.request(schemas.consumerGroupHeartbeatRequest, schemas.consumerGroupHeartbeatResponse, 1, {
        groupId,
        memberId,
        memberEpoch: join ? 0 : m.epoch,
        topicPartitions: m.owned,
        ...(join ? { rebalanceTimeoutMs: 5_000, subscribedTopicNames: ['orders', 'payments'] } : {}),
      });
      if (res.errorCode !== ErrorCode.NONE) {
        members.delete(memberId);
        return;
      }
      m.epoch = res.memberEpoch;
      if (res.assignment !== null) m.owned = res.assignment.topicPartitions.map((t) => ({ topicId: t.topicId, partitions: [...t.partitions] }));
      members.set(memberId, m);
    };
    const stay = [randomBytes(16).toString('base64url'), randomBytes(16).toString('base64url')];
    let round = 0;
    while (this.running) {
      for (const id of stay) await beat(id, !members.has(id));
      if (round % 5 === 0) {
        const id = randomBytes(16).toString('base64url');
        await beat(id, true);
        await beat(id, false);
        await c.request(schemas.consumerGroupHeartbeatRequest, schemas.consumerGroupHeartbeatResponse, 1, { groupId, memberId: id, memberEpoch: -1, topicPartitions: [] });
        members.delete(id);
      }
      round++;
      await sleep(200);
    }
    c.close();
  }

  /**
   * A share group (raw ShareFetch v1 in one share session) on orders: each fetch acknowledges what the
   * last one acquired, mostly ACCEPT, every third round RELEASE (delivered again), every fifth REJECT.
   */
  private async shareGroupLoop(): Promise<void> {
    const c = await RawClient.connect(this.broker.port, '127.0.0.1', 'kip932-member');
    const topicId = this.broker.broker.topics.get('orders')!.topicId;
    const memberId = randomBytes(16).toString('base64url');
    let epoch = 0;
    let acquired: Array<{ partition: number; firstOffset: bigint; lastOffset: bigint }> = [];
    let round = 0;
    while (this.running) {
      const type = round % 5 === 4 ? 3 : round % 3 === 2 ? 2 : 1;
      const res = await c.request(schemas.shareFetchRequest, schemas.shareFetchResponse, 1, {
        groupId: 'share-group',
        memberId,
        shareSessionEpoch: epoch,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        maxRecords: 100,
        batchSize: 100,
        topics: [
          {
            topicId,
            partitions: [0, 1, 2].map((partitionIndex) => ({
              partitionIndex,
              acknowledgementBatches: acquired.filter((a) => a.partition === partitionIndex).map((a) => ({ firstOffset: a.firstOffset, lastOffset: a.lastOffset, acknowledgeTypes: [type] })),
            })),
          },
        ],
        forgottenTopicsData: [],
      });
      if (res.errorCode !== ErrorCode.NONE) {
        epoch = 0;
        acquired = [];
      } else {
        epoch++;
        acquired = res.responses.flatMap((t) => t.partitions.flatMap((p) => p.acquiredRecords.map((a) => ({ partition: p.partitionIndex, firstOffset: a.firstOffset, lastOffset: a.lastOffset }))));
      }
      round++;
      await sleep(200);
    }
    c.close();
  }

  /** Produce to a partition that does not exist and ask for unknown topics: error codes in responses. */
  private async errorLoop(): Promise<void> {
    const batch = await batchOf(testRecords(1));
    while (this.running) {
      await produceRaw(this.raw, 'orders', 99, Buffer.from(batch));
      await this.raw.request(schemas.metadataRequest, schemas.metadataResponse, 12, {
        topics: [{ name: 'no-such-topic', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      await sleep(200);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    for (const c of this.consumers) await c.disconnect();
    await this.producer?.disconnect();
    await this.transactional?.disconnect();
    this.raw?.close();
    this.tlsClient?.close();
  }
}

describe('metrics and dashboard with a real Prometheus', () => {
  const prometheusBinary = findBinary('prometheus');
  const promtoolBinary = findBinary('promtool');
  let broker: RunningBroker;
  let prometheus: Prometheus | undefined;
  let dir: string;
  let traffic: Traffic | undefined;
  let pki: TestPki | undefined;
  let start = 0;
  let end = 0;

  beforeAll(async () => {
    requireBinary('prometheus');
    requireBinary('promtool');
    dir = await mkdtemp(join(tmpdir(), 'gregor-prometheus-'));
    pki = await TestPki.create();
    const server = pki.issue('server', '/CN=localhost', { san: 'DNS:localhost,IP:127.0.0.1' });
    broker = await startBroker({
      metrics: true,
      config: {
        'group.initial.rebalance.delay.ms': 50,
        'gregor.flush.acks.all': true,
        'auto.create.topics.enable': false,
        // a SASL listener and an SSL one, for the security panels: PLAIN logins and TLS handshakes that
        // succeed and fail
        listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': server.pem,
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";',
        'connection.failed.authentication.delay.ms': 0,
      },
    });
    prometheus = await Prometheus.start(prometheusBinary!, dir, `127.0.0.1:${broker.metricsPort}`);
    traffic = new Traffic(broker, pki.caCertText);
    start = Date.now() / 1000;
    await traffic.start();
    await sleep(TRAFFIC_SECONDS * 1000);
    end = Date.now() / 1000;
    // the last scrape saw the traffic
    await sleep(2 * SCRAPE_SECONDS * 1000);
  }, 120_000);

  afterAll(async () => {
    await traffic?.stop();
    await prometheus?.stop();
    await broker?.close();
    await pki?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('scraped the broker several times while the traffic ran, and always successfully', async () => {
    const res = await prometheus!.api<{ result: PromSeries[] }>('query', { query: `count_over_time(up{job="gregor"}[${Math.ceil(end - start)}s]) `, time: String(end) });
    expect(res.status, prometheus!.log).toBe('success');
    expect(Number(res.data!.result[0]?.value?.[1] ?? 0)).toBeGreaterThanOrEqual(5);
    const up = await prometheus!.api<{ result: PromSeries[] }>('query', { query: 'min_over_time(up{job="gregor"}[30s])', time: String(end) });
    expect(up.data!.result.map((s) => s.value![1])).toEqual(['1']);
  });

  it('answers every query of every dashboard panel with data', async () => {
    const dashboard: DashboardJson = readDashboard();
    const range = { start: String(start), end: String(end) };
    // Grafana: $__interval is the step; $__rate_interval = max($__interval + scrape interval, 4 × scrape interval)
    const builtins: Record<string, string> = {
      __interval: `${STEP_SECONDS}s`,
      __rate_interval: `${Math.max(STEP_SECONDS + SCRAPE_SECONDS, 4 * SCRAPE_SECONDS)}s`,
      __range: `${Math.ceil(end - start)}s`,
    };
    const values = new Map<string, string>();
    const substitute = (text: string): string =>
      text.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
        const name = (braced ?? bare)!;
        return builtins[name] ?? values.get(name) ?? whole;
      });
    const failures: string[] = [];

    // template variables, in order (later ones use earlier ones), as Grafana resolves label_values()
    for (const v of dashboard.templating.list) {
      if (v.type !== 'query') continue;
      const m = /^label_values\((.+),\s*(\w+)\)$/.exec(variableQuery(v).trim());
      expect(m, `variable ${v.name}: ${variableQuery(v)}`).not.toBeNull();
      const selector = substitute(m![1]!);
      const res = await prometheus!.api<string[]>(`label/${m![2]}/values`, { 'match[]': selector, ...range });
      if (res.status !== 'success' || (res.data ?? []).length === 0) {
        failures.push(`variable ${v.name}: ${selector}: ${res.error ?? 'no values'}`);
        continue;
      }
      values.set(v.name, `(${res.data!.map(regexEscape).join('|')})`);
    }
    expect(values.get('topic')).toContain('audit\\\\.log');

    let queries = 0;
    for (const panel of queryPanels(dashboard)) {
      for (const t of panel.targets ?? []) {
        queries++;
        const expr = substitute(t.expr);
        const what = `panel "${panel.title}" ${t.refId}: ${expr}`;
        if (/\$/.test(expr.replace(/\$\d/g, ''))) failures.push(`${what}: unresolved variable`);
        const res = t.instant
          ? await prometheus!.api<{ resultType: string; result: PromSeries[] }>('query', { query: expr, time: String(end) })
          : await prometheus!.api<{ resultType: string; result: PromSeries[] }>('query_range', { query: expr, ...range, step: `${STEP_SECONDS}s` });
        if (res.status !== 'success') {
          failures.push(`${what}: ${res.errorType}: ${res.error}`);
          continue;
        }
        const samples = res.data!.result.flatMap((s) => (s.values ?? (s.value ? [s.value] : [])).map(([, v]) => Number(v)));
        if (res.data!.result.length === 0) failures.push(`${what}: empty result`);
        else if (!samples.some(Number.isFinite)) failures.push(`${what}: no finite value`);
      }
    }
    expect(queries).toBeGreaterThan(60);
    expect(failures).toEqual([]);
  });

  it('puts the lagging group\'s lag and the live group\'s progress where the lag panels read them', async () => {
    const lag = await prometheus!.api<{ result: PromSeries[] }>('query', { query: 'sum by (group) (gregor_consumer_group_lag)', time: String(end) });
    const byGroup = Object.fromEntries(lag.data!.result.map((s) => [s.metric.group, Number(s.value![1])]));
    // payments got one record per produce round after the lagging group left
    expect(byGroup['lagging-group']).toBeGreaterThan(5);
    expect(byGroup['live-group']).toBeDefined();
  });

  it('counts the SSL listener\'s handshakes, failed handshakes and open connections where the TLS panels read them', async () => {
    const value = async (query: string): Promise<number> => {
      const res = await prometheus!.api<{ result: PromSeries[] }>('query', { query, time: String(end) });
      return Number(res.data!.result[0]?.value?.[1] ?? 0);
    };
    expect(await value('sum(gregor_tls_handshakes_total{listener="SSL"})')).toBeGreaterThan(5);
    expect(await value('sum(gregor_tls_handshake_failures_total{listener="SSL"})')).toBeGreaterThan(5);
    expect(await value('sum(gregor_listener_connections{listener="SSL", security_protocol="SSL"})')).toBeGreaterThanOrEqual(1);
  });

  it('passes promtool check metrics on the scraped exposition', async () => {
    const text = await (await fetch(`http://127.0.0.1:${broker.metricsPort}/metrics`)).text();
    expect(text).toContain('gregor_requests_total');
    const r = spawnSync(promtoolBinary!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });

  it('passes promtool check config on the shipped grafana/prometheus.yml', () => {
    const r = spawnSync(promtoolBinary!, ['check', 'config', join(REPO_ROOT, 'grafana/prometheus.yml')], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });
});
