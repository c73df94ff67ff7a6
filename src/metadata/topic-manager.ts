/**
 * Topics and their partitions: the broker's view of which topics exist, their
 * ids, partition logs, leader epochs and effective configuration.
 *
 * The source of truth is the MetadataStore (a file in the log dir on a single
 * node). On start the stored topics are reconciled with the partition dirs the
 * LogManager found: a stored partition without a dir gets a fresh empty log (a
 * create interrupted by a crash); a dir whose topic is not stored, or whose
 * topic id differs from the stored one, is a leftover of a deletion
 * interrupted by a crash and is deleted. When nothing is stored yet (first
 * start, or a log dir written before the metadata file existed) the topics on
 * disk are adopted with the ids in their partition.metadata files.
 *
 * Creating writes the metadata first, then the logs; deleting removes the
 * metadata first, then the logs, so a crash in between is repaired as above.
 * Adding partitions works like creating. Changing a topic's config overrides
 * or the dynamic broker configs stores them first, then applies them to the
 * live logs (retention, segment size, ...) and to the topic's effective
 * config (message size, cleanup policy, ...). Creates, deletes and changes
 * run one at a time.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, KafkaError, ZERO_UUID } from '../../protocol/index.js';
import type { LogManager, PartitionLog } from '../../storage/index.js';
import type { BrokerConfig, ConfigView, DynamicConfigLevel } from '../config/broker-config.js';
import { dynamicBrokerConfigProblem } from '../config/dynamic-broker-configs.js';
import { resolveTopicConfig, validateTopicConfigs, type TopicConfigView } from '../config/topic-configs.js';
import type { Logger } from '../logger.js';
import { FileMetadataStore, type MetadataStore, type TopicRecord } from './metadata-store.js';
import { collisionKey, INTERNAL_TOPICS, topicNameProblem } from './topic-names.js';

export type { TopicConfigView } from '../config/topic-configs.js';

export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly topicId: string;
  readonly log: PartitionLog;
  readonly leaderEpoch: number;
}

export interface TopicInfo {
  readonly name: string;
  readonly topicId: string;
  readonly internal: boolean;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  /** Empty for the result of a validate-only create. */
  readonly partitions: readonly PartitionState[];
  readonly config: TopicConfigView;
  /** The topic's config overrides (what was set on the topic). */
  readonly overrides: ReadonlyMap<string, string>;
}

export interface CreateTopicRequest {
  readonly name: string;
  /** -1 = num.partitions */
  readonly numPartitions: number;
  /** -1 = default.replication.factor */
  readonly replicationFactor: number;
  readonly configs: Readonly<Record<string, string | null>>;
  readonly validateOnly?: boolean;
}

/** What the topic manager uses of the broker. */
export interface TopicManagerDeps {
  /** Defaults and limits; the dynamic broker configs are set here (stored ones at load, alterBrokerConfigs). */
  readonly config: ConfigView & Pick<BrokerConfig, 'setDynamic'>;
  readonly logger: Logger;
  readonly nodeId: number;
  /** The partition logs: found on disk at start, created and deleted with topics and partitions. */
  readonly logs: Pick<LogManager, 'logDir' | 'clusterId' | 'existingLogs' | 'createLog' | 'deleteLog'>;
}

/** Leader epoch of every partition: a single node is the only leader there ever was. */
const LEADER_EPOCH = 0;
/** Brokers in the cluster. */
const BROKER_COUNT = 1;

/** A random topic id, never the zero id and never starting with '-' (as Kafka's Uuid.randomUuid). */
export function randomTopicId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (id !== ZERO_UUID && !id.startsWith('-') && id !== 'AAAAAAAAAAAAAAAAAAAAAQ') return id;
  }
}

/** The topic id a partition dir records (partition.metadata), when it has one. */
function topicIdOfLog(log: PartitionLog): string | undefined {
  return log.topicId !== '' && log.topicId !== ZERO_UUID ? log.topicId : undefined;
}

export class TopicManager {
  private readonly byName = new Map<string, TopicInfo>();
  private readonly byId = new Map<string, TopicInfo>();
  /** collisionKey(name) → name */
  private readonly byCollisionKey = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly deps: TopicManagerDeps,
    private readonly store: MetadataStore,
  ) {}

  /** Loads the stored topics and reconciles them with the logs on disk. */
  static async open(deps: TopicManagerDeps, store: MetadataStore = new FileMetadataStore(deps.logs.logDir)): Promise<TopicManager> {
    const tm = new TopicManager(deps, store);
    await tm.load();
    return tm;
  }

  get(name: string): TopicInfo | undefined {
    return this.byName.get(name);
  }

  getById(topicId: string): TopicInfo | undefined {
    return this.byId.get(topicId);
  }

  all(): TopicInfo[] {
    return [...this.byName.values()];
  }

  partition(topic: string, partition: number): PartitionState | undefined {
    return this.byName.get(topic)?.partitions[partition];
  }

  /**
   * Creates a topic (or only validates the request). Throws KafkaError with INVALID_TOPIC_EXCEPTION,
   * TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR or INVALID_CONFIG.
   */
  create(req: CreateTopicRequest): Promise<TopicInfo> {
    return this.serialized(() => this.createNow(req));
  }

  /**
   * The topic, auto-created with the broker defaults when it is missing, allowed and auto.create.topics.enable.
   * Internal topics (__consumer_offsets, __transaction_state) are never auto-created here: their owners create
   * them with their own partition counts and configs.
   */
  async getOrAutoCreate(name: string, allowAutoCreate: boolean): Promise<TopicInfo | undefined> {
    const existing = this.byName.get(name);
    if (existing || !allowAutoCreate || !this.deps.config.bool('auto.create.topics.enable') || INTERNAL_TOPICS.has(name)) return existing;
    const problem = topicNameProblem(name);
    if (problem) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
    return this.serialized(async () => {
      const now = this.byName.get(name);
      if (now) return now;
      return this.createNow({ name, numPartitions: -1, replicationFactor: -1, configs: {} });
    });
  }

  /**
   * Replaces a topic's config overrides (AlterConfigs): overrides not named are removed, so the topic follows
   * the broker's value again. `configs` may also be a function of the current overrides (IncrementalAlterConfigs
   * applies its operations there, one change at a time; it may throw a KafkaError). Validates as Kafka does,
   * the values first (INVALID_CONFIG), then the topic's existence (UNKNOWN_TOPIC_OR_PARTITION). Without
   * validateOnly the new overrides are stored, then applied to the partition logs and the topic's effective
   * config. Resolves to the topic (unchanged when validating only).
   */
  alterConfigs(
    name: string,
    configs: Readonly<Record<string, string | null>> | ((current: ReadonlyMap<string, string>) => Record<string, string | null>),
    validateOnly: boolean,
  ): Promise<TopicInfo> {
    return this.serialized(async () => {
      const next = typeof configs === 'function' ? configs(this.byName.get(name)?.overrides ?? new Map()) : configs;
      const validated = validateTopicConfigs({ ...next });
      if ('error' in validated) throw new KafkaError(ErrorCode.INVALID_CONFIG, validated.error);
      const topic = this.byName.get(name);
      if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
      if (validateOnly) return topic;
      const record = { ...this.recordOf(topic), configs: Object.fromEntries(validated.ok) };
      try {
        await this.store.putTopic(record);
      } catch (err) {
        throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Storing the configs of topic '${name}' failed: ${(err as Error).message}`);
      }
      const info = this.reconfigured(record, topic.partitions);
      this.deps.logger.info({ topic: name, configs: record.configs }, 'altered topic configs');
      return info;
    });
  }

  /**
   * Replaces one level of dynamic broker configs with what `change` makes of the current ones (it checks them,
   * dynamic-broker-configs.ts, and throws a KafkaError to refuse): stores them, sets them on the broker config,
   * and re-resolves every topic's effective config and logs. Changes one at a time; validateOnly stops after
   * `change`.
   */
  alterBrokerConfigs(level: DynamicConfigLevel, change: (current: Readonly<Record<string, string>>) => Record<string, string>, validateOnly: boolean): Promise<void> {
    return this.serialized(async () => {
      const configs = change(this.deps.config.dynamicConfigs(level));
      if (validateOnly) return;
      const entity = level === 'default' ? '' : String(this.deps.nodeId);
      try {
        await this.store.putBrokerConfigs(entity, configs);
      } catch (err) {
        throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Storing the broker configs failed: ${(err as Error).message}`);
      }
      this.deps.config.setDynamic(level, configs);
      for (const topic of this.byName.values()) this.reconfigured(this.recordOf(topic), topic.partitions);
      this.deps.logger.info({ entity, configs }, 'altered dynamic broker configs');
    });
  }

  /**
   * CreatePartitions: raises a topic's partition count (with manual assignments, one replica list per new
   * partition, when given). Kafka's checks and wording: UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS for
   * the same or a lower count, INVALID_REPLICA_ASSIGNMENT for assignments that do not fit. Stores the new
   * count first, then creates the logs (a crash in between is repaired at the next start).
   */
  createPartitions(name: string, count: number, assignments: ReadonlyArray<readonly number[]> | null, validateOnly: boolean): Promise<TopicInfo> {
    return this.serialized(async () => {
      const topic = this.byName.get(name);
      if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const current = topic.numPartitions;
      if (count === current) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`);
      if (count < current) {
        throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `The topic ${name} currently has ${current} partition(s); ${count} would not be an increase.`);
      }
      const maxPartitions = this.deps.config.int('gregor.max.partitions.per.topic');
      if (count > maxPartitions) {
        throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Number of partitions ${count} exceeds the limit of ${maxPartitions} (gregor.max.partitions.per.topic).`);
      }
      if (topic.internal) {
        // Kafka allows it, but it remaps every group to another partition of the offsets topic.
        throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Gregor does not add partitions to the internal topic ${name}.`);
      }
      if (assignments !== null) this.checkAssignments(current, count, topic.replicationFactor, assignments);
      if (validateOnly) return topic;
      const record = { ...this.recordOf(topic), partitions: count };
      try {
        await this.store.putTopic(record);
      } catch (err) {
        throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Storing the partition count of topic '${name}' failed: ${(err as Error).message}`);
      }
      const partitions = [...topic.partitions];
      try {
        for (let p = current; p < count; p++) {
          const log = await this.deps.logs.createLog(name, p, topic.topicId, topic.config.log);
          partitions.push({ topic: name, partition: p, topicId: topic.topicId, log, leaderEpoch: LEADER_EPOCH });
        }
      } catch (err) {
        this.deps.logger.error({ err, topic: name }, 'creating the new partition logs failed; rolling the partition count back');
        try {
          await this.store.putTopic(this.recordOf(topic));
          for (const p of partitions.slice(current)) await this.deps.logs.deleteLog(name, p.partition);
        } catch (undoErr) {
          this.deps.logger.error({ err: undoErr, topic: name }, 'rolling back the new partitions failed');
        }
        throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Creating the new partition logs of topic '${name}' failed: ${(err as Error).message}`);
      }
      const info = this.infoOf(record, partitions, topic.config);
      this.remember(info);
      this.deps.logger.info({ topic: name, partitions: count, added: count - current }, 'added partitions');
      return info;
    });
  }

  /** Deletes a topic and its data. Throws KafkaError UNKNOWN_TOPIC_OR_PARTITION when it does not exist. */
  delete(name: string): Promise<void> {
    return this.serialized(async () => {
      const topic = this.byName.get(name);
      if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
      try {
        await this.store.deleteTopic(name);
      } catch (err) {
        throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Deleting topic '${name}' failed: ${(err as Error).message}`);
      }
      this.forget(topic);
      for (const p of topic.partitions) {
        try {
          await this.deps.logs.deleteLog(name, p.partition);
        } catch (err) {
          // The topic is gone; a dir left behind is removed as a stray at the next start.
          this.deps.logger.error({ err, topic: name, partition: p.partition }, 'deleting a partition log failed');
        }
      }
      this.deps.logger.info({ topic: name, topicId: topic.topicId }, 'deleted topic');
    });
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.store.close();
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async createNow(req: CreateTopicRequest): Promise<TopicInfo> {
    const config = this.deps.config;
    const { name } = req;
    const problem = topicNameProblem(name);
    if (problem) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
    if (this.byName.has(name)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    const colliding = this.byCollisionKey.get(collisionKey(name));
    if (colliding !== undefined) {
      throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${name}' collides with existing topic: ${colliding}`);
    }
    const validated = validateTopicConfigs({ ...req.configs });
    if ('error' in validated) throw new KafkaError(ErrorCode.INVALID_CONFIG, validated.error);
    const overrides = validated.ok;
    const replicationFactor = req.replicationFactor === -1 ? config.int('default.replication.factor') : req.replicationFactor;
    if (!Number.isInteger(replicationFactor) || replicationFactor <= 0) {
      throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor was set to an invalid non-positive value.');
    }
    const numPartitions = req.numPartitions === -1 ? config.int('num.partitions') : req.numPartitions;
    if (!Number.isInteger(numPartitions) || numPartitions <= 0) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.');
    }
    const maxPartitions = config.int('gregor.max.partitions.per.topic');
    if (numPartitions > maxPartitions) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Number of partitions ${numPartitions} exceeds the limit of ${maxPartitions} (gregor.max.partitions.per.topic).`);
    }
    if (replicationFactor > BROKER_COUNT) {
      throw new KafkaError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ${replicationFactor} cannot be reached because only ${BROKER_COUNT} broker(s) are registered.`,
      );
    }
    const record: TopicRecord = { name, topicId: randomTopicId(), partitions: numPartitions, replicationFactor, configs: Object.fromEntries(overrides) };
    if (req.validateOnly) return this.infoOf(record, []);
    await this.store.putTopic(record);
    const topicConfig = resolveTopicConfig(config, overrides);
    const partitions: PartitionState[] = [];
    try {
      for (let p = 0; p < numPartitions; p++) {
        const log = await this.deps.logs.createLog(name, p, record.topicId, topicConfig.log);
        partitions.push({ topic: name, partition: p, topicId: record.topicId, log, leaderEpoch: LEADER_EPOCH });
      }
    } catch (err) {
      // Undo what was created; if even that fails, the next start repairs it from the stored record.
      this.deps.logger.error({ err, topic: name }, 'creating the partition logs failed; rolling the topic back');
      try {
        await this.store.deleteTopic(name);
        for (const p of partitions) await this.deps.logs.deleteLog(name, p.partition);
      } catch (undoErr) {
        this.deps.logger.error({ err: undoErr, topic: name }, 'rolling back a failed topic creation failed');
      }
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Creating the logs of topic '${name}' failed: ${(err as Error).message}`);
    }
    const info = this.infoOf(record, partitions, topicConfig);
    this.remember(info);
    this.deps.logger.info({ topic: name, topicId: record.topicId, partitions: numPartitions, configs: record.configs }, 'created topic');
    return info;
  }

  /** Kafka's checks of CreatePartitions assignments on a single broker, in Kafka's order and words. */
  private checkAssignments(current: number, count: number, replicationFactor: number, assignments: ReadonlyArray<readonly number[]>): void {
    const additional = count - current;
    if (assignments.length !== additional) {
      throw new KafkaError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Attempted to add ${additional} additional partition(s), but only ${assignments.length} assignment(s) were specified.`,
      );
    }
    for (const replicas of assignments) {
      if (replicas.length === 0) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an empty replica list.');
      const sorted = [...replicas].sort((a, b) => a - b);
      let previous: number | undefined;
      for (const id of sorted) {
        if (id !== this.deps.nodeId) {
          throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${id}, but no such broker is registered.`);
        }
        if (id === previous) {
          throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes the broker ${id} more than once.`);
        }
        previous = id;
      }
      if (sorted.length !== replicationFactor) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `The manual partition assignment includes a partition with ${sorted.length} replica(s), but this is not consistent with previous partitions, which have ${replicationFactor} replica(s).`,
        );
      }
    }
  }

  private recordOf(topic: TopicInfo): TopicRecord {
    return {
      name: topic.name,
      topicId: topic.topicId,
      partitions: topic.numPartitions,
      replicationFactor: topic.replicationFactor,
      configs: Object.fromEntries(topic.overrides),
    };
  }

  /** Re-resolves a topic's effective config (after its overrides or the broker's configs changed) and applies it to its logs. */
  private reconfigured(record: TopicRecord, partitions: readonly PartitionState[]): TopicInfo {
    const topicConfig = resolveTopicConfig(this.deps.config, new Map(Object.entries(record.configs)));
    for (const p of partitions) p.log.updateConfig(topicConfig.log);
    const info = this.infoOf(record, [...partitions], topicConfig);
    this.remember(info);
    return info;
  }

  private infoOf(record: TopicRecord, partitions: PartitionState[], topicConfig?: TopicConfigView): TopicInfo {
    const overrides = new Map(Object.entries(record.configs));
    return {
      name: record.name,
      topicId: record.topicId,
      internal: INTERNAL_TOPICS.has(record.name),
      numPartitions: record.partitions,
      replicationFactor: record.replicationFactor,
      partitions,
      config: topicConfig ?? resolveTopicConfig(this.deps.config, overrides),
      overrides,
    };
  }

  private remember(info: TopicInfo): void {
    this.byName.set(info.name, info);
    this.byId.set(info.topicId, info);
    this.byCollisionKey.set(collisionKey(info.name), info.name);
  }

  private forget(info: TopicInfo): void {
    this.byName.delete(info.name);
    this.byId.delete(info.topicId);
    if (this.byCollisionKey.get(collisionKey(info.name)) === info.name) this.byCollisionKey.delete(collisionKey(info.name));
  }

  private async load(): Promise<void> {
    const logs = this.deps.logs;
    const log = this.deps.logger;
    const { topics: records, existed, brokerConfigs } = await this.store.load({ nodeId: this.deps.nodeId, clusterId: logs.clusterId });
    const dynamicSet = this.applyStoredBrokerConfigs(brokerConfigs);
    const onDisk = new Map<string, PartitionLog[]>();
    for (const l of logs.existingLogs()) {
      const list = onDisk.get(l.topic);
      if (list) list.push(l);
      else onDisk.set(l.topic, [l]);
    }
    if (!existed) {
      // Nothing stored yet: adopt what is on disk.
      for (const [name, list] of onDisk) {
        const count = Math.max(...list.map((l) => l.partition)) + 1;
        const topicId = list.map(topicIdOfLog).find((id) => id !== undefined) ?? randomTopicId();
        const record: TopicRecord = { name, topicId, partitions: count, replicationFactor: 1, configs: {} };
        records.push(record);
        await this.store.putTopic(record);
        log.warn({ topic: name, topicId, partitions: count }, 'adopted topic found on disk without stored metadata');
      }
    }
    for (const record of records) {
      const overrides = new Map(Object.entries(record.configs));
      const topicConfig = resolveTopicConfig(this.deps.config, overrides);
      const stray = new Map((onDisk.get(record.name) ?? []).map((l) => [l.partition, l] as const));
      onDisk.delete(record.name);
      const partitions: PartitionState[] = [];
      for (let p = 0; p < record.partitions; p++) {
        let plog = stray.get(p);
        stray.delete(p);
        const diskId = plog ? topicIdOfLog(plog) : undefined;
        if (plog && diskId !== undefined && diskId !== record.topicId) {
          log.warn({ topic: record.name, partition: p, topicId: record.topicId, diskTopicId: diskId }, 'partition dir belongs to an older topic of the same name; deleting it');
          await logs.deleteLog(record.name, p);
          plog = undefined;
        }
        if (!plog) {
          log.warn({ topic: record.name, partition: p }, 'partition of a stored topic has no log on disk; creating an empty one');
          plog = await logs.createLog(record.name, p, record.topicId, topicConfig.log);
        } else if (overrides.size > 0 || dynamicSet) {
          plog.updateConfig(topicConfig.log);
        }
        partitions.push({ topic: record.name, partition: p, topicId: record.topicId, log: plog, leaderEpoch: LEADER_EPOCH });
      }
      for (const p of stray.keys()) {
        log.warn({ topic: record.name, partition: p }, 'partition dir beyond the stored partition count; deleting it');
        await logs.deleteLog(record.name, p);
      }
      this.remember(this.infoOf(record, partitions, topicConfig));
    }
    for (const [name, list] of onDisk) {
      log.warn({ topic: name, partitions: list.length }, 'partition dirs of a topic that no longer exists (deletion interrupted); deleting them');
      for (const l of list) await logs.deleteLog(name, l.partition);
    }
  }

  /**
   * Sets the stored dynamic broker configs (this node's and the cluster defaults) on the broker config; a value
   * this version no longer accepts is skipped with a warning rather than stopping the start. Returns whether
   * any was set.
   */
  private applyStoredBrokerConfigs(stored: Readonly<Record<string, Readonly<Record<string, string>>>>): boolean {
    let any = false;
    for (const [level, entity] of [['default', ''], ['broker', String(this.deps.nodeId)]] as const) {
      const usable: Record<string, string> = {};
      for (const [name, value] of Object.entries(stored[entity] ?? {})) {
        const problem = dynamicBrokerConfigProblem(name, value);
        if (problem) this.deps.logger.warn({ entity, config: name, value, problem }, 'ignoring a stored dynamic broker config');
        else usable[name] = value;
      }
      this.deps.config.setDynamic(level, usable);
      any ||= Object.keys(usable).length > 0;
    }
    return any;
  }
}
