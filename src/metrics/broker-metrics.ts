/**
 * BrokerMetrics: the Prometheus exposition of one broker, in a registry of its own (several brokers can
 * run in one process). This is the only module that imports prom-client: the broker loads it with a
 * dynamic import once it is ready (or at the first scrape), and only when gregor.metrics.enabled is true.
 *
 * - What the hot paths report (RecordedStats: request counts, error codes and latencies, per-topic record
 *   bytes and counts, storage latencies) is read from there when scraped.
 * - The rest is read from the broker's state when scraped (collect callbacks): connections, requests in
 *   flight, waiting produce and fetch requests, partitions, the batch cache, file handles, consumer groups
 *   and their lag, consumer groups of the consumer protocol (KIP-848: their state and epochs, and the
 *   coordinator's counts of heartbeats, rebalances, fenced members and moved partitions), share groups
 *   (KIP-932: each share-partition's counts of records acquired, acknowledged, redelivered, archived and
 *   of lock timeouts, and its records in flight), transactions (the coordinator's counts), the authorizer
 *   (its decisions by result, its ACLs), client software, client quotas (throttle times by quota type, each
 *   quota'd client's measured rate and limit, connection rate throttles), and Node's process metrics
 *   (prom-client's default collectors).
 * Per-partition and per-group families hold at most gregor.metrics.max.partitions series each (the first
 * ones by name); gregor_metrics_series_omitted says how many were left out.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { LogManager, PartitionLog } from '../../storage/index.js';
import type { TransactionCoordinator } from '../coordinator/transaction/transaction-coordinator.js';
import { ABORT_REASONS } from '../coordinator/transaction/transaction-stats.js';
import type { ConsumerGroupOverview, GroupCoordinator } from '../group/coordinator.js';
import { ConsumerGroupStats, FENCE_REASONS } from '../group/consumer/consumer-group-stats.js';
import type { ConsumerGroupState } from '../group/consumer-group.js';
import { GROUP_STATES } from '../group/group.js';
import type { TopicManager } from '../metadata/topic-manager.js';
import type { AuthorizerStats } from '../security/acl/standard-authorizer.js';
import type { QuotaSensorStats } from '../security/quota/client-quota-manager.js';
import type { QuotaMetricsSource } from '../security/quota/client-quotas.js';
import type { Session } from '../session.js';
import type { SaslStats } from '../security/sasl/sasl-stats.js';
import type { SharePartitionStats } from '../share/share-partition-manager.js';
import { METRIC_PREFIX as PREFIX, type LabelledCount, type RecordedStats, type TopicTraffic } from './recorded-stats.js';

/** A connection as the metrics see it. */
export interface MetricsConnection {
  /** Requests received and not yet answered. */
  readonly inFlight: number;
  readonly session: Pick<Session, 'clientSoftwareName' | 'clientSoftwareVersion'>;
}

/**
 * What the metrics read of the broker when scraped. A scrape may come while the broker starts: what is not
 * open yet is undefined.
 */
export interface MetricsSources {
  readonly nodeId: number;
  /** Logs recovered and listening, not shutting down. */
  readonly isReady: boolean;
  readonly connections: ReadonlySet<MetricsConnection>;
  readonly connectionCounts: { readonly open: number; readonly accepted: number; readonly rejected: number; readonly waiting: number };
  /** Each listener's open connections, and for a TLS listener its handshakes (empty while starting). */
  readonly listeners: readonly ListenerStats[];
  readonly waiting: { readonly acksAll: number; readonly fetches: number };
  readonly topics: Pick<TopicManager, 'get' | 'all'> | undefined;
  readonly groups: Pick<GroupCoordinator, 'groupOverview' | 'consumerLag' | 'consumerGroupOverview' | 'consumerStats'> | undefined;
  readonly logs: Pick<LogManager, 'clusterId' | 'stats' | 'allLogs'> | undefined;
  readonly transactions: Pick<TransactionCoordinator, 'stats' | 'counts'> | undefined;
  /** The share-partitions of share groups (share/share-partition-manager.ts); undefined while starting. */
  readonly shares: { partitionStats(): Iterable<SharePartitionStats> } | undefined;
  /** Counts of SASL authentications (security/sasl/sasl-stats.ts); undefined while starting. */
  readonly sasl: Pick<SaslStats, 'authenticationCounts' | 'reauthenticationCounts'> | undefined;
  /** Last stable offsets without I/O (produce/producer-state-manager.ts); undefined while starting. */
  readonly stableOffsets: { lastStableOffsetIfLoaded(log: PartitionLog): number | undefined } | undefined;
  /** Client quotas (security/quota/client-quotas.ts); undefined while starting. */
  readonly quotas: QuotaMetricsSource | undefined;
  /** The authorizer (security/acl/standard-authorizer.ts); undefined without one, or while starting. */
  readonly authorizer: { readonly stats: AuthorizerStats; readonly aclCount: number } | undefined;
}

/** One listener as the metrics see it. */
export interface ListenerStats {
  readonly name: string;
  readonly securityProtocol: string;
  readonly connections: number;
  /** TLS listeners: handshakes that succeeded and failed since start. */
  readonly tls?: { readonly handshakes: number; readonly failures: number };
}

export interface MetricsLimits {
  /** Series per per-partition or per-group family (gregor.metrics.max.partitions). */
  readonly maxSeries: number;
  /** Distinct client software name/version pairs (gregor.metrics.max.client.software). */
  readonly maxClientSoftware: number;
}

/** Kafka's consumer group states (consumer-group.ts), Dead aside: a dead group is gone from the coordinator. */
const CONSUMER_GROUP_STATES: readonly ConsumerGroupState[] = ['Empty', 'Assigning', 'Reconciling', 'Stable'];

/** prom-client default gauges whose `_total` suffix promtool rejects (non-counters); their per-type twins stay. */
const NON_CONFORMING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

interface Snapshot {
  readonly generation: number;
  readonly logs: readonly PartitionLog[];
  readonly omittedLogs: number;
}

export class BrokerMetrics {
  readonly registry = new Registry();
  private readonly omitted: Gauge<'metric'>;
  private generation = 0;
  private snapshot: Snapshot | undefined;

  constructor(
    private readonly sources: MetricsSources,
    stats: RecordedStats,
    private readonly limits: MetricsLimits,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    for (const name of NON_CONFORMING_DEFAULTS) this.registry.removeSingleMetric(PREFIX + name);
    const self = this;
    /** A counter whose values are counts kept by RecordedStats. */
    const countsCounter = <L extends string>(name: string, help: string, labelNames: readonly L[], counts: () => Iterable<LabelledCount<L>>): void => {
      new Counter({
        name: `${PREFIX}${name}`,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const c of counts()) this.inc(c.labels as Partial<Record<L, string>>, c.value);
        },
      });
    };

    // ---------------------------------------------------------------- broker and requests
    new Gauge({
      name: `${PREFIX}broker_info`,
      help: 'Always 1; the labels name this broker: node id and cluster id.',
      labelNames: ['node_id', 'cluster_id'],
      registers,
      collect() {
        this.reset();
        const logs = self.logs();
        this.set({ node_id: String(sources.nodeId), cluster_id: logs?.clusterId ?? '' }, 1);
      },
    });
    stateGauge('broker_ready', '1 once the logs are recovered and the broker listens, 0 while starting or shutting down.', () => (sources.isReady ? 1 : 0));
    countsCounter('requests_total', 'Requests handled, by API and version (Produce with acks=0 included).', ['api', 'version'], () => stats.requestCounts());
    countsCounter(
      'sasl_authentications_total',
      'SASL authentications of SASL listeners, by listener, mechanism (unknown: one the broker does not know) and result (success, failure: wrong credentials, an unsupported mechanism, a malformed exchange).',
      ['listener', 'mechanism', 'result'],
      () => self.sources.sasl?.authenticationCounts() ?? [],
    );
    countsCounter(
      'sasl_reauthentications_total',
      'SASL re-authentications (KIP-368) of authenticated connections, by listener, mechanism and result.',
      ['listener', 'mechanism', 'result'],
      () => self.sources.sasl?.reauthenticationCounts() ?? [],
    );
    countsCounter(
      'request_errors_total',
      'Error codes other than NONE in responses, by API, version and Kafka error name: every errorCode field counts, per-partition ones included.',
      ['api', 'version', 'error'],
      () => stats.errorCounts(),
    );
    for (const h of stats.histograms) h.register(this.registry);
    new Gauge({
      name: `${PREFIX}requests_in_flight`,
      help: 'Requests received and not yet answered, on all connections.',
      registers,
      collect() {
        let n = 0;
        for (const c of sources.connections) n += c.inFlight;
        this.set(n);
      },
    });

    // ---------------------------------------------------------------- connections and clients
    stateGauge('connections_open', 'Client connections open now.', () => sources.connections.size);
    stateCounter('connections_accepted_total', 'Client connections accepted since start.', () => sources.connectionCounts.accepted);
    stateCounter('connections_closed_total', 'Accepted client connections that have closed since start.', () => {
      const counts = sources.connectionCounts;
      return counts.accepted - counts.open;
    });
    stateCounter(
      'connections_rejected_total',
      'Client connections closed at once: over max.connections.per.ip, or arriving at max.connections with the backlog of waiting ones full.',
      () => sources.connectionCounts.rejected,
    );
    stateGauge('connections_waiting', 'Client connections accepted and held unread at max.connections until one closes (as in the listen backlog of Kafka).', () => sources.connectionCounts.waiting);
    new Gauge({
      name: `${PREFIX}listener_connections`,
      help: 'Client connections open now, per listener (a TLS listener\'s once their handshake is done).',
      labelNames: ['listener', 'security_protocol'],
      registers,
      collect() {
        this.reset();
        for (const l of sources.listeners) this.set({ listener: l.name, security_protocol: l.securityProtocol }, l.connections);
      },
    });
    const tlsCounter = (name: string, help: string, read: (tls: NonNullable<ListenerStats['tls']>) => number): void => {
      new Counter({
        name: `${PREFIX}${name}`,
        help,
        labelNames: ['listener'],
        registers,
        collect() {
          this.reset();
          for (const l of sources.listeners) if (l.tls !== undefined) this.inc({ listener: l.name }, read(l.tls));
        },
      });
    };
    tlsCounter('tls_handshakes_total', 'TLS handshakes completed on SSL and SASL_SSL listeners, per listener.', (t) => t.handshakes);
    tlsCounter(
      'tls_handshake_failures_total',
      'TLS handshakes that failed, per listener: not TLS, an old protocol version, no shared cipher, a missing or untrusted client certificate, a certificate no principal mapping rule maps, a timeout, a client gone mid-handshake.',
      (t) => t.failures,
    );
    new Gauge({
      name: `${PREFIX}client_connections`,
      help:
        'Open connections by the client software name and version they reported (ApiVersions v3+; "unknown" before or without it). ' +
        'Pairs beyond gregor.metrics.max.client.software are counted as "other".',
      labelNames: ['client_software_name', 'client_software_version'],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, { name: string; version: string; n: number }>();
        let other = 0;
        for (const c of sources.connections) {
          const name = c.session.clientSoftwareName ?? 'unknown';
          const version = c.session.clientSoftwareVersion ?? 'unknown';
          const key = `${name}\u0000${version}`;
          const entry = counts.get(key);
          if (entry) entry.n++;
          else if (counts.size < limits.maxClientSoftware) counts.set(key, { name, version, n: 1 });
          else other++;
        }
        for (const e of counts.values()) this.set({ client_software_name: e.name, client_software_version: e.version }, e.n);
        if (other > 0) this.set({ client_software_name: 'other', client_software_version: 'other' }, other);
      },
    });

    // ---------------------------------------------------------------- topics
    const trafficCounter = (name: string, help: string, map: Map<string, TopicTraffic>, field: keyof TopicTraffic): void => {
      new Counter({
        name: `${PREFIX}${name}`,
        help,
        labelNames: ['topic'],
        registers,
        collect() {
          this.reset();
          const topics = self.sources.topics;
          for (const [topic, t] of map) {
            // a deleted topic's counters go with it (a topic created again under its name starts at 0)
            if (topics && !topics.get(topic)) map.delete(topic);
            else this.inc({ topic }, t[field]);
          }
        },
      });
    };
    trafficCounter('topic_bytes_in_total', 'Record bytes received by Produce and appended, per topic.', stats.trafficIn, 'bytes');
    trafficCounter('topic_records_in_total', 'Records appended by Produce, per topic.', stats.trafficIn, 'records');
    trafficCounter('topic_bytes_out_total', 'Record bytes sent in Fetch responses, per topic.', stats.trafficOut, 'bytes');
    trafficCounter('topic_records_out_total', 'Records sent in Fetch responses, per topic (whole batches; a legacy compressed wrapper counts as one).', stats.trafficOut, 'records');
    stateGauge('produce_acks_all_waiting', 'Produce requests with acks=all waiting for their appends to complete (and be fdatasync\'ed with gregor.flush.acks.all).', () => sources.waiting.acksAll);
    stateGauge('fetch_long_polls_waiting', 'Fetch requests parked until enough bytes arrive or their max wait passes.', () => sources.waiting.fetches);
    stateGauge('topics', 'Topics, internal ones included.', () => self.sources.topics?.all().length ?? 0);

    // ---------------------------------------------------------------- partitions
    stateGauge('partitions', 'Partition logs on this broker.', () => storageStats()?.partitions ?? 0);
    stateGauge('partitions_offline', 'Partition logs taken offline by an I/O failure.', () => storageStats()?.offlinePartitions ?? 0);
    const partitionGauge = (name: string, help: string, value: (log: PartitionLog) => number): void => {
      new Gauge({
        name: `${PREFIX}${name}`,
        help,
        labelNames: ['topic', 'partition'],
        registers,
        collect() {
          this.reset();
          for (const log of self.partitionSnapshot().logs) this.set({ topic: log.topic, partition: String(log.partition) }, value(log));
        },
      });
    };
    partitionGauge('partition_log_start_offset', 'First offset of the partition log.', (l) => l.logStartOffset);
    partitionGauge('partition_log_end_offset', 'Offset of the next record appended to the partition log.', (l) => l.logEndOffset);
    partitionGauge('partition_high_watermark', 'High watermark of the partition (the log end offset on one broker).', (l) => l.highWatermark);
    partitionGauge(
      'partition_last_stable_offset',
      'Last stable offset of the partition: the first offset of its earliest ongoing transaction, else the high watermark (also while its producer state is not loaded).',
      (l) => self.sources.stableOffsets?.lastStableOffsetIfLoaded(l) ?? l.highWatermark,
    );
    partitionGauge('partition_size_bytes', 'Bytes in the segments of the partition log.', (l) => l.sizeInBytes);
    partitionGauge('partition_segments', 'Segments of the partition log.', (l) => l.segmentCount);

    // ---------------------------------------------------------------- storage
    stateCounter('storage_cache_hits_total', 'Batches served from the recent-batch cache.', () => storageStats()?.cacheHits ?? 0);
    stateCounter('storage_cache_misses_total', 'Reads of segment files (the batches were not in the recent-batch cache).', () => storageStats()?.cacheMisses ?? 0);
    new Gauge({
      name: `${PREFIX}storage_cache_hit_ratio`,
      help: 'Cache hits / (hits + misses) of the recent-batch cache since start (0 before any read).',
      registers,
      collect() {
        const s = self.logs()?.stats();
        const total = s ? s.cacheHits + s.cacheMisses : 0;
        this.set(s && total > 0 ? s.cacheHits / total : 0);
      },
    });
    stateGauge('storage_cache_bytes', 'Bytes of batches held by the recent-batch cache (gregor.cache.bytes at most).', () => storageStats()?.cacheBytes ?? 0);
    stateGauge('storage_open_files', 'Segment file descriptors held open by the file-handle cache (gregor.max.open.files at most).', () => storageStats()?.openFiles ?? 0);
    stateCounter('storage_file_opens_total', 'Segment files opened by the file-handle cache since start.', () => storageStats()?.fileOpens ?? 0);
    stateCounter('storage_cleaner_reclaimed_bytes_total', 'Bytes the log cleaner reclaimed by compacting logs since start.', () => storageStats()?.cleanerBytesReclaimed ?? 0);
    stateCounter('storage_cleaner_runs_total', 'Cleanings (compactions of a log) done by the log cleaner since start.', () => storageStats()?.cleanerRuns ?? 0);
    stateCounter('storage_cleaner_records_removed_total', 'Records the log cleaner removed since start.', () => storageStats()?.cleanerRecordsRemoved ?? 0);
    stateGauge('storage_cleaner_max_dirty_ratio', 'Largest dirty ratio (uncleaned bytes / log bytes) of a compacted log seen by the log cleaner\'s last check.', () => storageStats()?.cleanerMaxDirtyRatio ?? 0);
    stateGauge('storage_cleaner_uncleanable_partitions', 'Compacted partition logs the log cleaner gave up on after an error.', () => storageStats()?.cleanerUncleanablePartitions ?? 0);

    // ---------------------------------------------------------------- consumer groups
    new Gauge({
      name: `${PREFIX}consumer_groups`,
      help: 'Consumer groups by state.',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<string, number>(GROUP_STATES.map((s) => [s, 0]));
        for (const g of self.sources.groups?.groupOverview() ?? []) counts.set(g.state, (counts.get(g.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    const groupGauge = (name: string, help: string, labelNames: readonly string[], fill: (g: Gauge<string>) => void): void => {
      new Gauge({
        name: `${PREFIX}${name}`,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          fill(this);
        },
      });
    };
    groupGauge('consumer_group_state', 'Always 1, for the current state of each group (label state).', ['group', 'state'], (g) => {
      for (const o of self.limited(self.sources.groups?.groupOverview() ?? [], 'consumer_group_state', (o) => o.groupId)) g.set({ group: o.groupId, state: o.state }, 1);
    });
    groupGauge('consumer_group_members', 'Members of each consumer group.', ['group'], (g) => {
      for (const o of self.limited(self.sources.groups?.groupOverview() ?? [], 'consumer_group_members', (o) => o.groupId)) g.set({ group: o.groupId }, o.members);
    });
    groupGauge(
      'consumer_group_lag',
      'Records between the committed offset of a group and the high watermark, per group, topic and partition (computed by the broker).',
      ['group', 'topic', 'partition'],
      (g) => {
        for (const l of self.limited(self.sources.groups?.consumerLag() ?? [], 'consumer_group_lag', (l) => `${l.group}\u0000${l.topic}\u0000${String(l.partition).padStart(10, '0')}`)) {
          g.set({ group: l.group, topic: l.topic, partition: String(l.partition) }, l.lag);
        }
      },
    );
    // ---------------------------------------------------------------- consumer groups of the consumer protocol (KIP-848)
    new Gauge({
      name: `${PREFIX}consumer_protocol_groups`,
      help: 'Consumer groups of the consumer protocol (KIP-848, ConsumerGroupHeartbeat) by state: Empty, Assigning, Reconciling, Stable.',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<string, number>(CONSUMER_GROUP_STATES.map((s) => [s, 0]));
        for (const g of self.sources.groups?.consumerGroupOverview() ?? []) counts.set(g.state, (counts.get(g.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    const consumerGroups = (metric: string): readonly ConsumerGroupOverview[] =>
      self.limited(self.sources.groups?.consumerGroupOverview() ?? [], metric, (o) => o.groupId);
    groupGauge('consumer_protocol_group_state', 'Always 1, for the current state of each consumer group of the consumer protocol (label state).', ['group', 'state'], (g) => {
      for (const o of consumerGroups('consumer_protocol_group_state')) g.set({ group: o.groupId, state: o.state }, 1);
    });
    groupGauge('consumer_protocol_group_members', 'Members of each consumer group of the consumer protocol.', ['group'], (g) => {
      for (const o of consumerGroups('consumer_protocol_group_members')) g.set({ group: o.groupId }, o.members);
    });
    groupGauge('consumer_protocol_group_epoch', 'Group epoch of each consumer group of the consumer protocol (bumped by a member joining or leaving, a subscription or subscribed topic changing).', ['group'], (g) => {
      for (const o of consumerGroups('consumer_protocol_group_epoch')) g.set({ group: o.groupId }, o.groupEpoch);
    });
    groupGauge(
      'consumer_protocol_group_assignment_epoch',
      'Epoch of the target assignment of each consumer group of the consumer protocol: the group epoch it was computed at (behind the group epoch while the group is Assigning).',
      ['group'],
      (g) => {
        for (const o of consumerGroups('consumer_protocol_group_assignment_epoch')) g.set({ group: o.groupId }, o.assignmentEpoch);
      },
    );
    countsCounter(
      'consumer_protocol_heartbeats_total',
      'ConsumerGroupHeartbeat requests answered, by kind (join: member epoch 0, leave: -1, static_leave: -2, heartbeat: any other) and result (the Kafka error name of the answer, NONE when it succeeded).',
      ['kind', 'result'],
      () => self.sources.groups?.consumerStats.heartbeats() ?? [],
    );
    stateCounter(
      'consumer_protocol_rebalances_total',
      'Target assignments computed for consumer groups of the consumer protocol (each time a group epoch moved ahead of its assignment epoch).',
      () => self.sources.groups?.consumerStats.rebalances ?? 0,
    );
    new Counter({
      name: `${PREFIX}consumer_protocol_members_fenced_total`,
      help: 'Members of consumer groups of the consumer protocol removed by the coordinator, by reason: session_timeout (no heartbeat within group.consumer.session.timeout.ms), rebalance_timeout (partitions not revoked within the member\'s rebalance timeout).',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        const fenced = self.sources.groups?.consumerStats.fenced;
        for (const reason of FENCE_REASONS) this.inc({ reason }, fenced?.[reason] ?? 0);
      },
    });
    stateCounter(
      'consumer_protocol_partitions_assigned_total',
      'Partitions given to members of consumer groups of the consumer protocol (each partition a member got that it did not have).',
      () => self.sources.groups?.consumerStats.partitionsAssigned ?? 0,
    );
    stateCounter(
      'consumer_protocol_partitions_revoked_total',
      'Partitions members of consumer groups of the consumer protocol were told to revoke (each partition newly pending revocation).',
      () => self.sources.groups?.consumerStats.partitionsRevoked ?? 0,
    );
    // the coordinator's histogram once it is open (a scrape may come before): one of an empty ConsumerGroupStats until then
    const noAssignments = new ConsumerGroupStats().targetAssignmentTime;
    this.registry.registerMetric({
      name: noAssignments.name,
      help: noAssignments.help,
      type: noAssignments.type,
      aggregator: noAssignments.aggregator,
      get: () => (self.sources.groups?.consumerStats.targetAssignmentTime ?? noAssignments).get(),
      reset: () => undefined,
    } as unknown as Metric);

    // ---------------------------------------------------------------- share groups (KIP-932), per group and share-partition
    const sharePartitions = (metric: string): ReadonlyArray<SharePartitionStats & { readonly topic: string }> => {
      const names = new Map((self.sources.topics?.all() ?? []).map((t) => [t.topicId, t.name]));
      const stats = [...(self.sources.shares?.partitionStats() ?? [])].flatMap((p) => {
        const topic = names.get(p.topicId);
        return topic === undefined ? [] : [{ ...p, topic }];
      });
      return self.limited(stats, metric, (p) => `${p.groupId}\u0000${p.topic}\u0000${String(p.partition).padStart(10, '0')}`);
    };
    const SHARE_LABELS = ['group', 'topic', 'partition'] as const;
    const shareLabels = (p: SharePartitionStats & { readonly topic: string }) => ({ group: p.groupId, topic: p.topic, partition: String(p.partition) });
    const shareCounter = (name: string, help: string, read: (c: SharePartitionStats['counts']) => number): void => {
      new Counter({
        name: `${PREFIX}${name}`,
        help,
        labelNames: SHARE_LABELS,
        registers,
        collect() {
          this.reset();
          for (const p of sharePartitions(name)) this.inc(shareLabels(p), read(p.counts));
        },
      });
    };
    shareCounter('share_group_records_acquired_total', 'Records acquired by members of a share group, per share-partition (each delivery counts).', (c) => c.acquired);
    shareCounter('share_group_records_redelivered_total', 'Records acquired again (delivery count above 1: released, or their acquisition lock expired), per share-partition.', (c) => c.redelivered);
    new Counter({
      name: `${PREFIX}share_group_records_acknowledged_total`,
      help: 'Records acknowledged by members of a share group (ShareFetch or ShareAcknowledge, counted once persisted), per share-partition and type: accept, release, reject.',
      labelNames: [...SHARE_LABELS, 'type'],
      registers,
      collect() {
        this.reset();
        for (const p of sharePartitions('share_group_records_acknowledged_total')) {
          this.inc({ ...shareLabels(p), type: 'accept' }, p.counts.accepted);
          this.inc({ ...shareLabels(p), type: 'release' }, p.counts.released);
          this.inc({ ...shareLabels(p), type: 'reject' }, p.counts.rejected);
        }
      },
    });
    shareCounter('share_group_records_archived_total', 'Records archived for good (rejected, at group.share.delivery.count.limit, or below the start offset), per share-partition.', (c) => c.archived);
    shareCounter('share_group_lock_timeouts_total', 'Acquired records whose acquisition lock expired before they were acknowledged, per share-partition.', (c) => c.lockTimeouts);
    groupGauge('share_group_records_in_flight', 'Records of a share-partition between its start and end offsets (acquired, available again, or acknowledged above the start offset).', [...SHARE_LABELS], (g) => {
      for (const p of sharePartitions('share_group_records_in_flight')) g.set(shareLabels(p), p.inFlight);
    });

    // ---------------------------------------------------------------- transactions
    new Gauge({
      name: `${PREFIX}transactions_ongoing`,
      help: 'Transactions not complete yet, by state: Ongoing, PrepareCommit and PrepareAbort (their markers being written).',
      labelNames: ['state'],
      registers,
      collect() {
        const open = self.sources.transactions?.counts().open ?? { Ongoing: 0, PrepareCommit: 0, PrepareAbort: 0 };
        for (const [state, n] of Object.entries(open)) this.set({ state }, n);
      },
    });
    stateGauge('transactional_ids', 'Transactional ids the transaction coordinator holds (loaded partitions of __transaction_state), in every state.', () => self.sources.transactions?.counts().transactionalIds ?? 0);
    stateCounter('transactions_committed_total', 'Transactions committed since start (counted when their CompleteCommit is written, all markers written).', () => self.sources.transactions?.stats.committed ?? 0);
    new Counter({
      name: `${PREFIX}transactions_aborted_total`,
      help:
        'Transactions aborted since start (counted when their CompleteAbort is written), by reason: client (EndTxn), timeout (transaction.timeout.ms), ' +
        'fenced (its transactional id initialized again), resumed (found in PrepareAbort at load and completed after a restart).',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        const aborted = self.sources.transactions?.stats.aborted;
        for (const reason of ABORT_REASONS) this.inc({ reason }, aborted?.[reason] ?? 0);
      },
    });
    new Counter({
      name: `${PREFIX}transaction_markers_written_total`,
      help: 'COMMIT and ABORT markers written by the transaction coordinator, one per partition of a transaction, by result.',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        const written = self.sources.transactions?.stats.markersWritten;
        this.inc({ result: 'commit' }, written?.commit ?? 0);
        this.inc({ result: 'abort' }, written?.abort ?? 0);
      },
    });
    stateGauge(
      'transaction_coordinator_load_seconds',
      'Seconds the transaction coordinator took to load __transaction_state at start (the time so far while it loads; 0 when there was nothing to load).',
      () => self.sources.transactions?.stats.loadSeconds() ?? 0,
    );

    // ---------------------------------------------------------------- authorizer
    new Counter({
      name: `${PREFIX}authorizer_decisions_total`,
      help:
        'Authorization decisions of the authorizer (authorizer.class.name) since start, by result (allowed, denied): one per resource and operation ' +
        'a request was checked for, authorized-operations bits and filtering included. 0 without an authorizer.',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        const stats = self.sources.authorizer?.stats;
        this.inc({ result: 'allowed' }, stats?.allowed ?? 0);
        this.inc({ result: 'denied' }, stats?.denied ?? 0);
      },
    });
    stateGauge('acls', 'ACLs the authorizer holds (CreateAcls, stored with the topic metadata); 0 without an authorizer.', () => self.sources.authorizer?.aclCount ?? 0);
    // ---------------------------------------------------------------- client quotas
    new Counter({
      name: `${PREFIX}quota_throttle_time_seconds_total`,
      help:
        'Throttle time given to clients over a quota, by quota type: produce (producer_byte_rate), fetch (consumer_byte_rate), ' +
        'request (request_percentage); each throttled response counts the time its connection is muted for (Kafka\'s throttle-time).',
      labelNames: ['type'],
      registers,
      collect() {
        this.reset();
        for (const m of self.sources.quotas?.managers ?? []) this.inc({ type: m.type }, m.throttleTimeMsTotal / 1000);
      },
    });
    new Counter({
      name: `${PREFIX}quota_throttled_requests_total`,
      help: 'Requests answered with a throttle time (their connection then muted for it), by the quota type that throttled them.',
      labelNames: ['type'],
      registers,
      collect() {
        this.reset();
        for (const m of self.sources.quotas?.managers ?? []) this.inc({ type: m.type }, m.throttledTotal);
      },
    });
    /** The measured rate and the limit of each quota'd client (Kafka's sensors: the user and client-id tags of the matching quota level). */
    const sensorGauge = (name: string, help: string, types: readonly string[], labels: readonly string[], value: (s: QuotaSensorStats) => number | undefined): void => {
      groupGauge(name, help, labels, (g) => {
        const now = Date.now();
        const sensors = (self.sources.quotas?.managers ?? [])
          .filter((m) => types.includes(m.type))
          .flatMap((m) => m.sensorStats(now).map((s) => ({ type: m.type, s })));
        for (const { type, s } of self.limited(sensors, name, (e) => `${e.type}\u0000${e.s.user}\u0000${e.s.clientId}`)) {
          const v = value(s);
          if (v === undefined) continue;
          g.set(labels.includes('type') ? { type, user: s.user, client_id: s.clientId } : { user: s.user, client_id: s.clientId }, v);
        }
      });
    };
    sensorGauge(
      'quota_byte_rate',
      'Bytes per second of each client measured against a byte-rate quota, over quota.window.num samples of quota.window.size.seconds, by type (produce, fetch) and the user and client_id of its quota level ("" where the level does not use it).',
      ['produce', 'fetch'],
      ['type', 'user', 'client_id'],
      (s) => s.rate,
    );
    sensorGauge(
      'quota_request_time_percent',
      'Request time of each client measured against request_percentage, in percent of one thread, by the user and client_id of its quota level.',
      ['request'],
      ['user', 'client_id'],
      (s) => s.rate,
    );
    sensorGauge(
      'quota_limit',
      'The quota that applies to each measured client: bytes per second (produce, fetch) or percent (request); absent when no quota applies.',
      ['produce', 'fetch', 'request'],
      ['type', 'user', 'client_id'],
      (s) => s.bound,
    );
    stateCounter('quota_connections_throttled_total', 'New connections closed unanswered for going over their address\'s connection_creation_rate.', () => self.sources.quotas?.connections.ipThrottledTotal ?? 0);
    stateCounter('quota_connection_accept_delay_seconds_total', 'Time new connections waited to be accepted for max.connection.creation.rate.', () => (self.sources.quotas?.connections.brokerThrottleMsTotal ?? 0) / 1000);

    this.omitted = new Gauge({
      name: `${PREFIX}metrics_series_omitted`,
      help: 'Series left out of a per-partition or per-group metric by gregor.metrics.max.partitions, by metric.',
      labelNames: ['metric'],
      registers,
      collect() {
        this.set({ metric: 'partition' }, self.partitionSnapshot().omittedLogs);
      },
    });

    /** A gauge without labels whose value is read from state. */
    function stateGauge(name: string, help: string, read: () => number): void {
      new Gauge({
        name: `${PREFIX}${name}`,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    }

    /** LogManager.stats(), once the logs are open. */
    function storageStats(): ReturnType<LogManager['stats']> | undefined {
      return self.logs()?.stats();
    }

    /** A counter whose value is read from state (a count the broker keeps anyway). */
    function stateCounter(name: string, help: string, read: () => number): void {
      new Counter({
        name: `${PREFIX}${name}`,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition of every metric (one scrape). */
  scrape(): Promise<string> {
    this.generation++;
    return this.registry.metrics();
  }

  /** Stops the collectors of this registry. */
  close(): void {
    this.registry.clear();
  }

  // ---------------------------------------------------------------- helpers

  /** The log manager, once the broker has opened it. */
  private logs(): MetricsSources['logs'] {
    return this.sources.logs;
  }

  /** The partitions of the per-partition metrics for this scrape: the first maxSeries by topic and partition. */
  private partitionSnapshot(): Snapshot {
    if (this.snapshot?.generation === this.generation) return this.snapshot;
    const all = [...(this.logs()?.allLogs() ?? [])];
    all.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    const logs = all.slice(0, this.limits.maxSeries);
    this.snapshot = { generation: this.generation, logs, omittedLogs: all.length - logs.length };
    return this.snapshot;
  }

  /** The first maxSeries items by `key`; the number left out is reported under `metric`. */
  private limited<T>(items: readonly T[], metric: string, key: (item: T) => string): readonly T[] {
    let kept = items;
    if (items.length > this.limits.maxSeries) {
      const keyed = items.map((item) => ({ item, key: key(item) }));
      keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      kept = keyed.slice(0, this.limits.maxSeries).map((k) => k.item);
    }
    this.omitted.set({ metric }, items.length - kept.length);
    return kept;
  }
}
