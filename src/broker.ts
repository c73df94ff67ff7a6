/**
 * The broker: configuration, logger, the log manager, topics, groups,
 * producer state, fetches, metrics and one server per listener (with the
 * TLS of the SSL and SASL_SSL ones, security/tls-listeners.ts), started and
 * stopped together. It builds each subsystem from what that subsystem uses
 * (a deps object of its own), and gives the servers, and through them every
 * request, the narrow services of services.ts: nothing outside src/index.ts
 * and src/cli.ts holds the Broker.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ErrorCode } from '../protocol/index.js';
import { loadChecksums } from '../protocol/records/index.js';
import { LogManager, type StorageFs } from '../storage/index.js';
import { brokerListenersOf, type BrokerConfig, type BrokerListeners, type Endpoint } from './config/broker-config.js';
import { cleanerOptionsOf, logDefaultsOf } from './config/log-defaults.js';
import { LogMarkerWriter } from './coordinator/transaction/log-marker-writer.js';
import { transactionConfigOf } from './coordinator/transaction/transaction-config.js';
import { TransactionCoordinator } from './coordinator/transaction/transaction-coordinator.js';
import { FetchManager } from './fetch/fetch-manager.js';
import { GroupCoordinator } from './group/coordinator.js';
import { groupConfigOf } from './group/group-config.js';
import { shareGroupSettings } from './group/group-configs.js';
import { ShareCoordinator } from './share/share-coordinator.js';
import { ShareFetches } from './share/share-fetches.js';
import type { Logger } from './logger.js';
import { MemoryBudget } from './memory-budget.js';
import { ClientMetricsManager } from './metrics/client-metrics-manager.js';
import type { BrokerMetrics, ListenerStats, MetricsSources } from './metrics/broker-metrics.js';
import type { MetricsServer } from './metrics/metrics-server.js';
import type { RecordedStats } from './metrics/recorded-stats.js';
import type { MetricsRecorder } from './metrics/recorder.js';
import { FileMetadataStore, type MetadataStore } from './metadata/metadata-store.js';
import { TopicManager } from './metadata/topic-manager.js';
import { recordTimestampLookup } from './offsets/find-record-by-timestamp.js';
import { ProducerIdManager } from './produce/producer-ids.js';
import { ProducerStateManager } from './produce/producer-state-manager.js';
import type { Connection } from './connection.js';
import { ConnectionQuotas } from './connection-quotas.js';
import { ScramCredentialStore } from './security/sasl/scram-credential-store.js';
import type { UserScramCredential } from './security/sasl/scram-parser.js';
import { saslListenerSettings } from './security/sasl/sasl-listener-settings.js';
import { SaslListeners } from './security/sasl/sasl-listeners.js';
import type { SaslListenerSettings } from './security/sasl/sasl-server-authenticator.js';
import { TlsListeners } from './security/tls-listeners.js';
import { authorizerConfigured, StandardAuthorizer } from './security/acl/standard-authorizer.js';
import { ClientQuotas } from './security/quota/client-quotas.js';
import { Server } from './server.js';
import type { BrokerServices, WaitingRequests } from './services.js';

export interface BrokerOptions {
  readonly config: BrokerConfig;
  readonly logger: Logger;
  /** Remove the data directory on close (embedding with a temp dir). */
  readonly removeDataDirOnClose?: boolean;
  /** Where topic metadata is kept (default: a file in the log dir). */
  readonly metadataStore?: MetadataStore;
  /** The file system under the logs, producer state and producer ids (tests: storage's FaultyFs). */
  readonly storageFs?: StorageFs;
  /** `--add-scram`: SCRAM credentials stored at start, before the listeners open, for users without one. */
  readonly addScram?: readonly UserScramCredential[];
}

export class Broker {
  readonly config: BrokerConfig;
  readonly logger: Logger;
  readonly nodeId: number;
  readonly startedAt = Date.now();
  /** The listeners of `listeners` (config/listeners.ts). */
  readonly listeners: BrokerListeners['listeners'];
  /**
   * Where clients of each listener are told to connect, by listener name (the bound port when the configured
   * one is 0); a listener that is not advertised has none.
   */
  readonly advertisedListeners: Map<string, Endpoint>;
  logs!: LogManager;
  topics!: TopicManager;
  groups!: GroupCoordinator;
  /** The transaction coordinator. */
  transactions!: TransactionCoordinator;
  /** Producer ids for InitProducerId. */
  producerIds!: ProducerIdManager;
  /** Idempotent producers' state per partition; Produce appends through it. */
  producerStates!: ProducerStateManager;
  /** Fetch sessions, long polls and the fetch memory budget. */
  fetches!: FetchManager;
  /** The share coordinator over `__share_group_state` (KIP-932). */
  shareCoordinator!: ShareCoordinator;
  /** Share sessions and share-partitions: ShareFetch and ShareAcknowledge. */
  shareFetches!: ShareFetches;
  /** The ACLs and their decisions; undefined without authorizer.class.name. */
  authorizer: StandardAuthorizer | undefined;
  /** Client quotas (AlterClientQuotas), stored with the topics and enforced on every request. */
  quotas!: ClientQuotas;
  /** What requests see of the broker (services.ts). */
  services!: BrokerServices;
  /** The TLS of the SSL and SASL_SSL listeners (security/tls-listeners.ts). */
  tls!: TlsListeners;
  /** One per listener, in the order of `listeners`. */
  private servers: Server[] = [];
  private connectionQuotas: ConnectionQuotas | undefined;
  /** The SCRAM credentials of the cluster's users (KIP-554), in the log dir. */
  scramCredentials!: ScramCredentialStore;
  /** The SASL listeners' settings and exchanges (security/sasl). */
  sasl!: SaslListeners;
  private closing: Promise<void> | undefined;
  /** Hot-path metrics; undefined when gregor.metrics.enabled is false. */
  metrics: MetricsRecorder | undefined;
  /** Requests parked on something (read by the metrics). */
  readonly waiting: WaitingRequests = { acksAll: 0, fetches: 0 };
  private stats: RecordedStats | undefined;
  private exporter: Promise<BrokerMetrics> | undefined;
  private metricsServer: MetricsServer | undefined;
  private lifecycle: 'starting' | 'ready' | 'closing' = 'starting';
  /** queued.max.request.bytes: request bytes read from sockets and not yet handled, broker-wide. */
  readonly requestMemory: MemoryBudget;
  /** gregor.fetch.response.max.memory.bytes: fetch response bytes read and not yet written to sockets. */
  readonly fetchMemory: MemoryBudget;
  /** gregor.decompression.max.memory.bytes: what compressed records may inflate to while produce validates them or fetch down-converts them. */
  readonly decompressionMemory: MemoryBudget;

  private constructor(private readonly opts: BrokerOptions) {
    this.config = opts.config;
    this.logger = opts.logger;
    this.nodeId = opts.config.int('node.id');
    const { listeners, advertised } = brokerListenersOf(opts.config);
    this.listeners = listeners;
    this.advertisedListeners = new Map(advertised);
    this.requestMemory = new MemoryBudget(opts.config.long('queued.max.request.bytes'), 'fit');
    this.fetchMemory = new MemoryBudget(opts.config.long('gregor.fetch.response.max.memory.bytes'));
    this.decompressionMemory = new MemoryBudget(opts.config.long('gregor.decompression.max.memory.bytes'));
  }

  get clusterId(): string {
    return this.logs.clusterId;
  }
  get dataDir(): string {
    return this.logs.logDir;
  }
  /** Where clients are told to connect to the first advertised listener (what embedding prints). */
  get advertised(): Endpoint {
    for (const l of this.listeners) {
      const ep = this.advertisedListeners.get(l.name);
      if (ep !== undefined) return ep;
    }
    throw new Error('no advertised listener');
  }
  /** The open connections of every listener. */
  get connections(): ReadonlySet<Connection> {
    if (this.servers.length === 1) return this.servers[0]!.connections;
    return new Set(this.servers.flatMap((s) => [...s.connections]));
  }
  get connectionCounts(): { open: number; accepted: number; rejected: number; waiting: number } {
    const quotas = this.connectionQuotas;
    return { open: this.connections.size, accepted: quotas?.accepted ?? 0, rejected: quotas?.rejected ?? 0, waiting: quotas?.waiting ?? 0 };
  }
  /** Each listener's open connections and TLS handshakes (metrics). */
  listenerStats(): ListenerStats[] {
    return this.servers.map((server) => {
      const { name, securityProtocol } = server.listener;
      const ssl = server.ssl;
      return { name, securityProtocol, connections: server.connections.size, ...(ssl === undefined ? {} : { tls: { handshakes: ssl.handshakes, failures: ssl.handshakeFailures } }) };
    });
  }
  /** The port each listener is bound to, by listener name (empty until listening). */
  readonly boundPorts = new Map<string, number>();
  /** Logs recovered and listening, not shutting down (/ready). */
  get isReady(): boolean {
    return this.lifecycle === 'ready';
  }
  /** The port of the metrics HTTP server, undefined when metrics are disabled. */
  get metricsPort(): number | undefined {
    return this.metricsServer?.port;
  }

  /** Starts a broker; on failure, whatever was already opened is closed again before the error is thrown. */
  static async start(opts: BrokerOptions): Promise<Broker> {
    const broker = new Broker(opts);
    try {
      await broker.startInternal();
    } catch (err) {
      await broker.abortStart();
      throw err;
    }
    return broker;
  }

  private async abortStart(): Promise<void> {
    this.lifecycle = 'closing';
    const steps: Array<() => Promise<void> | undefined> = [
      () => {
        this.shareFetches?.close();
        return undefined;
      },
      () => this.groups?.close(),
      () => this.shareCoordinator?.close(),
      () => this.transactions?.close(),
      () => this.closeServers(),
      () => this.producerStates?.close(),
      () => this.topics?.close(),
      () => this.logs?.close(),
      () => this.stopMetrics(),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        this.logger.warn({ err }, 'cleanup after a failed start failed');
      }
    }
    if (this.opts.removeDataDirOnClose && this.logs) await rm(this.logs.logDir, { recursive: true, force: true });
  }

  private async startInternal(): Promise<void> {
    const config = this.config;
    // the SASL listeners' settings are checked before anything is opened (a bad one is a ConfigError)
    const saslSettings = this.saslSettings();
    await this.startMetrics();
    // the log directory first (its lock and cluster id); the logs are loaded by the topic manager once it has
    // read the stored topics, so that each log is recovered with its topic's own config
    this.logs = await LogManager.openDir({
      logDir: resolve(config.string('log.dirs')),
      nodeId: this.nodeId,
      defaults: logDefaultsOf(config),
      logger: this.logger,
      retentionCheckIntervalMs: config.long('log.retention.check.interval.ms'),
      cacheBytes: config.long('gregor.cache.bytes'),
      maxOpenFiles: config.int('gregor.max.open.files'),
      findRecordByTimestamp: recordTimestampLookup(config.int('gregor.max.decompressed.bytes')),
      observer: this.stats,
      fs: this.opts.storageFs,
      cleaner: cleanerOptionsOf(config),
      // (the cleaner starts once the logs are loaded, after the producer state below exists)
      firstUnstableOffset: (log) => this.producerStates.lastStableOffset(log),
    });
    this.producerIds = ProducerIdManager.open(this.logs.logDir, this.opts.storageFs);
    this.producerStates = new ProducerStateManager({
      logger: this.logger,
      fs: this.opts.storageFs,
      expirationMs: config.int('producer.id.expiration.ms'),
      expirationCheckIntervalMs: config.int('producer.id.expiration.check.interval.ms'),
      isLive: (log) => this.logs.getLog(log.topic, log.partition) === log,
      // KIP-890 part 1: a transactional batch only to a partition of the producer's ongoing transaction
      verifyTransaction: (log, producerId, producerEpoch, transactionalId) =>
        this.transactions?.verifyTransaction({ topic: log.topic, partition: log.partition }, producerId, producerEpoch, transactionalId) ?? ErrorCode.INVALID_TXN_STATE,
    });
    const logs = this.logs;
    const metadataStore = this.opts.metadataStore ?? new FileMetadataStore(logs.logDir, this.opts.storageFs);
    this.topics = await TopicManager.open({ config, logger: this.logger, nodeId: this.nodeId, logs, fs: this.opts.storageFs }, metadataStore);
    // the ACLs are stored with the topics: loaded by now
    if (authorizerConfigured(config)) this.authorizer = StandardAuthorizer.open({ config, store: metadataStore, logger: this.logger });
    this.quotas = this.startQuotas();
    this.shareCoordinator = ShareCoordinator.start({
      config: {
        updatesPerSnapshot: config.int('share.coordinator.snapshot.update.records.per.snapshot'),
        pruneIntervalMs: config.long('share.coordinator.state.topic.prune.interval.ms'),
      },
      topicSettings: {
        partitions: () => config.int('share.coordinator.state.topic.num.partitions'),
        segmentBytes: () => config.int('share.coordinator.state.topic.segment.bytes'),
      },
      topics: this.topics,
      logger: this.logger,
    });
    this.groups = GroupCoordinator.start({ config: this.config, logger: this.logger, topics: this.topics, shareState: this.shareCoordinator });
    this.transactions = this.startTransactions();
    const shareBrokerDefaults = groupConfigOf(this.config);
    this.shareFetches = new ShareFetches({
      config,
      topics: this.topics,
      persister: this.shareCoordinator,
      // the group coordinator's share-group membership: a member that leaves releases its records
      membership: this.groups,
      // the group's own share.* configs (group/group-configs.ts), read at every fetch
      groupSettings: (groupId) => shareGroupSettings(this.topics.groupConfigs(groupId), shareBrokerDefaults),
      stableOffsets: this.producerStates,
      logs,
      logger: this.logger,
    });
    const broker = this;
    this.fetches = new FetchManager({
      topics: this.topics,
      config,
      logger: this.logger,
      memory: this.fetchMemory,
      decompression: this.decompressionMemory,
      logs,
      get metrics() {
        return broker.metrics;
      },
      waiting: this.waiting,
      stableOffsets: this.producerStates,
    });
    this.scramCredentials = ScramCredentialStore.open(this.logs.logDir, this.logs.clusterId, this.opts.storageFs);
    await this.addScramCredentials(this.opts.addScram ?? []);
    this.sasl = new SaslListeners(saslSettings, this.logger);
    // the TLS listeners' key and trust stores, with the dynamic configs stored (a rotated certificate)
    this.tls = new TlsListeners(this.listeners, config, this.logger);
    this.services = this.servicesOf();
    await this.startListeners();
    this.lifecycle = 'ready';
    // modules slow to load and not needed to start are loaded now, not before the broker is ready
    setImmediate(loadChecksums);
    // prom-client is slow to import: the exposition is loaded once the broker is ready (or at the first scrape)
    if (this.stats) void this.loadExporter().catch((err: unknown) => this.logger.error({ err }, 'loading the metrics exporter failed'));
  }

  /**
   * The settings of each SASL listener (security/sasl/sasl-listener-settings.ts); SCRAM logins read the
   * credential store, opened with the log dir. What starts but may not do what is meant is logged.
   */
  private saslSettings(): Map<string, SaslListenerSettings> {
    const out = new Map<string, SaslListenerSettings>();
    const warnings: string[] = [];
    for (const l of this.listeners) {
      if (l.securityProtocol !== 'SASL_PLAINTEXT' && l.securityProtocol !== 'SASL_SSL') continue;
      out.set(l.name, saslListenerSettings(this.config, l.name, (m, user) => this.scramCredentials.get(m, user), warnings));
    }
    for (const w of warnings) this.logger.warn(w);
    return out;
  }

  /**
   * `--add-scram` (KIP-900's format-time flag, applied at every start here): a user without a credential
   * for the mechanism gets the one given; one that has it keeps it. The user, never the password, is logged.
   */
  private async addScramCredentials(credentials: readonly UserScramCredential[]): Promise<void> {
    if (credentials.length === 0) return;
    const added = await this.scramCredentials.addIfAbsent(credentials);
    credentials.forEach(({ name, mechanism, credential }, i) => {
      const fields = { user: name, mechanism: mechanism.name, iterations: credential.iterations };
      if (added[i]) this.logger.info(fields, 'SCRAM credential created (--add-scram)');
      else this.logger.info({ user: name, mechanism: mechanism.name }, 'SCRAM credential kept: the user has one for this mechanism already (--add-scram never replaces one)');
    });
  }

  /**
   * One Server per listener, sharing the broker-wide connection quotas; an advertised port 0 becomes the
   * port its listener is bound to.
   */
  private async startListeners(): Promise<void> {
    const config = this.config;
    const limits = {
      maxRequestBytes: config.int('socket.request.max.bytes'),
      maxQueuedBytes: config.int('socket.request.max.bytes'),
      maxQueuedRequests: config.int('queued.max.requests'),
      idleMs: config.long('connections.max.idle.ms'),
      requestReadTimeoutMs: config.long('gregor.request.read.timeout.ms'),
      streamWindowBytes: config.int('gregor.fetch.stream.window.bytes'),
      requestMemory: this.requestMemory,
      listenBacklog: config.int('socket.listen.backlog.size'),
    };
    this.connectionQuotas = new ConnectionQuotas(
      { maxConnections: config.int('max.connections'), maxConnectionsPerIp: config.int('max.connections.per.ip'), listenBacklog: limits.listenBacklog },
      this.logger,
      this.quotas.connections,
    );
    for (const listener of this.listeners) {
      const server = new Server(this.services, { name: listener.name, securityProtocol: listener.securityProtocol }, limits, this.connectionQuotas, this.tls.factoryOf(listener.name));
      this.servers.push(server);
      const port = await server.listen(listener.host, listener.port);
      this.boundPorts.set(listener.name, port);
      const advertised = this.advertisedListeners.get(listener.name);
      if (advertised !== undefined && advertised.port === 0) this.advertisedListeners.set(listener.name, { host: advertised.host, port });
    }
    this.boundPort = this.boundPorts.get(this.listeners[0]!.name)!;
  }

  /** Stops every listener: waiting sockets closed, in-flight requests finished, connections closed. */
  private async closeServers(): Promise<void> {
    this.connectionQuotas?.close();
    await Promise.all(this.servers.map((s) => s.close()));
  }

  /** Client quotas, with those stored applied (before the first connection). */
  private startQuotas(): ClientQuotas {
    const config = this.config;
    const topics = this.topics;
    const quotas = new ClientQuotas({
      // quota.window.* are read-only in Kafka: read once
      window: { samples: config.int('quota.window.num'), windowMs: config.int('quota.window.size.seconds') * 1000 },
      maxConnectionCreationRate: () => config.int('max.connection.creation.rate'),
      store: (changes) => topics.putClientQuotas(changes),
      logger: this.logger,
    });
    quotas.load(topics.clientQuotas());
    return quotas;
  }

  /** The transaction coordinator, its markers appended through the producer state of each partition. */
  private startTransactions(): TransactionCoordinator {
    const config = this.config;
    const txnConfig = transactionConfigOf(config);
    const topics = this.topics;
    const groups = this.groups;
    return TransactionCoordinator.start({
      config: txnConfig,
      topicSettings: {
        partitions: () => config.int('transaction.state.log.num.partitions'),
        segmentBytes: () => config.int('transaction.state.log.segment.bytes'),
      },
      topics,
      logger: this.logger,
      producerIds: this.producerIds,
      markers: new LogMarkerWriter({
        partition: (topic, partition) => topics.partition(topic, partition),
        producerStates: this.producerStates,
        syncWrites: txnConfig.syncWrites,
        logger: this.logger,
        offsetsCompleted: (partition, producerId, commit) => groups.completeTransactionalOffsets(partition, producerId, commit),
      }),
      offsetsPartitionFor: (groupId) => ({ topic: groups.offsetsTopic.name, partition: groups.partitionFor(groupId) }),
    });
  }

  /**
   * Metrics enabled: the hot-path stats (no prom-client) count from the first request and storage call;
   * the metrics HTTP server binds now, so /healthz answers during log recovery.
   */
  private async startMetrics(): Promise<void> {
    const config = this.config;
    if (!config.bool('gregor.metrics.enabled')) return;
    const [{ MetricsServer }, { RecordedStats }] = await Promise.all([import('./metrics/metrics-server.js'), import('./metrics/recorded-stats.js')]);
    this.stats = new RecordedStats();
    this.metrics = this.stats;
    const host = config.string('gregor.metrics.host');
    const port = config.int('gregor.metrics.port');
    try {
      this.metricsServer = await MetricsServer.listen(host, port, {
        live: () => this.closing === undefined,
        notReadyReason: () => (this.lifecycle === 'ready' ? undefined : this.lifecycle === 'starting' ? 'starting (recovering logs)' : 'shutting down'),
        scrape: async () => {
          const exporter = await this.loadExporter();
          return { contentType: exporter.contentType, body: await exporter.scrape() };
        },
        onError: (err) => this.logger.warn({ err }, 'metrics HTTP server error'),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      throw new Error(`cannot serve metrics on ${host === '' ? '*' : host}:${port} (gregor.metrics.host/port; gregor.metrics.enabled=false turns them off): ${code || (err as Error).message}`, { cause: err });
    }
  }

  /** The prom-client exposition (broker-metrics.ts), loaded once. */
  private loadExporter(): Promise<BrokerMetrics> {
    const stats = this.stats;
    if (!stats) return Promise.reject(new Error('metrics are disabled'));
    this.exporter ??= import('./metrics/broker-metrics.js').then(
      ({ BrokerMetrics }) =>
        new BrokerMetrics(this.metricsSources(), stats, {
          maxSeries: this.config.int('gregor.metrics.max.partitions'),
          maxClientSoftware: this.config.int('gregor.metrics.max.client.software'),
        }),
    );
    return this.exporter;
  }

  /** What requests see of the broker: built once the subsystems are open, shared by every request. */
  private servicesOf(): BrokerServices {
    const broker = this;
    return {
      identity: {
        nodeId: this.nodeId,
        clusterId: this.logs.clusterId,
        advertisedListener: (name) => broker.advertisedListeners.get(name),
        dataDir: this.logs.logDir,
      },
      config: this.config,
      logger: this.logger,
      get metrics() {
        return broker.metrics;
      },
      topics: this.topics,
      groups: this.groups,
      producerStates: this.producerStates,
      producerIds: this.producerIds,
      fetches: this.fetches,
      shareFetches: this.shareFetches,
      logs: this.logs,
      budgets: { request: this.requestMemory, fetch: this.fetchMemory, decompression: this.decompressionMemory },
      waiting: this.waiting,
      transactions: this.transactions,
      clientMetrics: new ClientMetricsManager(() => this.config.int('telemetry.max.bytes')),
      sasl: { listeners: this.sasl, credentials: this.scramCredentials },
      listenerSecurity: this.tls,
      authorizer: this.authorizer,
      quotas: this.quotas,
    };
  }

  /** What the metrics read when scraped; a scrape can come while the broker starts, before the logs are open. */
  private metricsSources(): MetricsSources {
    const broker = this;
    return {
      nodeId: this.nodeId,
      get isReady() {
        return broker.isReady;
      },
      get connections() {
        return broker.connections;
      },
      get connectionCounts() {
        return broker.connectionCounts;
      },
      get listeners() {
        return broker.listenerStats();
      },
      waiting: this.waiting,
      get topics() {
        return broker.topics as TopicManager | undefined;
      },
      get groups() {
        return broker.groups as GroupCoordinator | undefined;
      },
      get logs() {
        return broker.logs as LogManager | undefined;
      },
      get stableOffsets() {
        return broker.producerStates as ProducerStateManager | undefined;
      },
      get transactions() {
        return broker.transactions as TransactionCoordinator | undefined;
      },
      get sasl() {
        return (broker.sasl as SaslListeners | undefined)?.stats;
      },
      get shares() {
        return (broker.shareFetches as ShareFetches | undefined)?.partitions;
      },
      get authorizer() {
        return broker.authorizer;
      },
      get quotas() {
        return (broker.quotas as ClientQuotas | undefined)?.metrics;
      },
    };
  }

  private async stopMetrics(): Promise<void> {
    await this.metricsServer?.close();
    const exporter = this.exporter;
    this.exporter = undefined;
    this.metrics = undefined;
    this.stats = undefined;
    (await exporter?.catch(() => undefined))?.close();
  }

  /** The port the first listener is bound to. */
  boundPort = 0;

  /** Graceful shutdown: stop accepting, finish in-flight requests, flush and checkpoint the logs. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.lifecycle = 'closing';
      // every step runs even when an earlier one failed (a failed disk): the logs are still flushed and closed
      const failures: unknown[] = [];
      const step = async (run: () => Promise<void> | undefined): Promise<void> => {
        try {
          await run();
        } catch (err) {
          failures.push(err);
        }
      };
      // answers parked JoinGroup/SyncGroup requests, so in-flight requests can finish
      this.shareFetches?.close();
      await step(() => this.groups?.close());
      await step(() => this.shareCoordinator?.close());
      await step(() => this.transactions?.close());
      this.fetches?.releaseParked();
      await step(() => this.closeServers());
      // snapshots producer state at the log end, before the logs close and the clean-shutdown marker is written
      await step(() => this.producerStates.close());
      await step(() => this.scramCredentials?.close());
      await step(() => this.topics.close());
      await step(() => this.logs.close());
      await step(() => this.stopMetrics());
      if (failures.length > 1) this.logger.error({ failures: failures.map((f) => (f as Error).message) }, 'shutdown steps failed');
      if (failures.length > 0) throw failures[0];
      if (this.opts.removeDataDirOnClose) await rm(this.logs.logDir, { recursive: true, force: true });
    })();
    return this.closing;
  }
}

/** A fresh temp directory for an embedded broker. */
export function makeTempDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gregor-'));
}
