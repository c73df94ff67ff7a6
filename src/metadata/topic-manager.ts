/**
 * Topics and their partitions: the broker's view of which topics exist, their
 * ids, partition logs, leader epochs and effective configuration.
 *
 * The source of truth is the MetadataStore (a file in the log dir on a single
 * node). On start the stored topics and dynamic broker configs are read first,
 * then the LogManager loads the partition dirs, each with its topic's own
 * config (recovery depends on it: index intervals, a compacted log's offset
 * gaps), and the stored topics are reconciled with the partition dirs the
 * LogManager found (stray-logs.ts): a stored partition without a dir gets a
 * fresh empty log (a create interrupted by a crash); a dir of a topic being
 * deleted is renamed `-delete` (the deletion is finished); any other dir the
 * metadata does not explain (a topic it does not have, another topic id, a
 * partition beyond the count) is a stray: renamed `-stray`, kept, and named in
 * a warning. Nothing is deleted at start because two files disagree. When
 * nothing is stored yet (first start, or a log dir written before the metadata
 * file existed) the topics on disk are adopted with the ids in their
 * partition.metadata files.
 *
 * Creating writes the metadata first (all topics of a request in one write),
 * then the logs. Deleting records the deletion first (the topics become
 * deleting records, one write for the request), which is when it is durable
 * and answered; then, beside the operations that follow (a creation of the same
 * name waits for it), the partition dirs are renamed `-delete` in one batch
 * (one fsync of the log dir, one checkpoint write), the deleting records are
 * dropped, and the LogManager removes the dirs in the background, one at a
 * time. A crash at any point leaves the two cases apart: a live dir is
 * explained by a topic, a deleted one by a deleting record, and the next start
 * finishes the deletion while the broker already listens. Adding partitions
 * works like creating.
 * Changing a topic's config overrides or the dynamic broker configs stores them
 * first, then applies them to the live logs (retention, segment size, ...) and
 * to the topic's effective config (message size, cleanup policy, ...).
 *
 * Creates, deletes and changes run one at a time. A request's operation that
 * has not started by its deadline (the request's timeoutMs) is dropped and
 * answered REQUEST_TIMED_OUT, as Kafka's controller does with a timed-out
 * event. Limits: one operation makes at most MAX_RECORDS_PER_OPERATION
 * metadata records, counted as Kafka's controller counts them (a topic, each
 * config override and each partition one record), else POLICY_VIOLATION
 * "Unable to perform excessively large batch operation."; the broker holds at
 * most gregor.max.broker.partitions partitions and a topic at most
 * gregor.max.partitions.per.topic.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, KafkaError, ZERO_UUID } from '../../protocol/index.js';
import type { LogManager, PartitionLog, StorageFs } from '../../storage/index.js';
import type { BrokerConfig, ConfigView, DynamicConfigLevel } from '../config/broker-config.js';
import { dynamicBrokerConfigProblem, redactedConfigs, redactedValue } from '../config/dynamic-broker-configs.js';
import { resolveTopicConfig, validateTopicConfigs, type TopicConfigView } from '../config/topic-configs.js';
import type { Logger } from '../logger.js';
import { FileMetadataStore, type ClientQuotaRecord, type DeletingTopicRecord, type MetadataStore, type TopicRecord } from './metadata-store.js';
import { classifyLogs } from './stray-logs.js';
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
  /** The file system seam the metadata file is written through (the logs' own; tests: a FaultyFs). */
  readonly fs?: StorageFs;
  /**
   * The partition logs: loaded at start once the stored topic configs are known (loadLogs), found on disk,
   * created and deleted with topics and partitions.
   */
  readonly logs: Pick<LogManager, 'logDir' | 'clusterId' | 'loadLogs' | 'existingLogs' | 'createLog' | 'deleteLogs' | 'markStray'>;
}

/** Options of an operation a request asks for. */
export interface OperationOptions {
  /** Date.now() by which the operation must have started, else REQUEST_TIMED_OUT (none: it waits its turn). */
  readonly deadline?: number;
}

/**
 * The most metadata records one operation may make (Kafka's QuorumController.MAX_RECORDS_PER_USER_OP): a
 * topic, each of its config overrides and each partition count one.
 */
export const MAX_RECORDS_PER_OPERATION = 10_000;
/** Kafka's answer to an operation over MAX_RECORDS_PER_OPERATION (EventHandlerExceptionInfo, BoundedListTooLongException). */
export const EXCESSIVELY_LARGE = 'Unable to perform excessively large batch operation.';
/** Partition logs created at once (their fsyncs overlap). */
const CREATE_CONCURRENCY = 8;

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

function requestTimedOut(): KafkaError {
  return new KafkaError(ErrorCode.REQUEST_TIMED_OUT, 'The operation could not start before the request\'s timeout.');
}

export class TopicManager {
  private readonly byName = new Map<string, TopicInfo>();
  private readonly byId = new Map<string, TopicInfo>();
  /** collisionKey(name) → name */
  private readonly byCollisionKey = new Map<string, string>();
  /**
   * Deletions whose partition dirs are not all renamed yet, by topic id: the deleting record and the renaming
   * in progress (which settles, never rejects). A record that stays after its renaming settled failed.
   */
  private readonly deleting = new Map<string, { readonly record: DeletingTopicRecord; readonly done: Promise<void> }>();
  /** Renamings in progress (close waits for them). */
  private readonly finishing = new Set<Promise<void>>();
  private queue: Promise<unknown> = Promise.resolve();
  /** The configs of groups (group-configs.ts), stored with the topics. */
  private readonly groupConfigsById = new Map<string, Readonly<Record<string, string>>>();
  /** The client quotas stored with the topics, as loaded (src/security/quota/ applies them at start). */
  private storedClientQuotas: readonly ClientQuotaRecord[] = [];
  private namesVersion = 0;

  private constructor(
    private readonly deps: TopicManagerDeps,
    private readonly store: MetadataStore,
  ) {}

  /** Loads the stored topics and reconciles them with the logs on disk. */
  static async open(deps: TopicManagerDeps, store: MetadataStore = new FileMetadataStore(deps.logs.logDir, deps.fs)): Promise<TopicManager> {
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

  /**
   * Moves on whenever a topic name comes or goes (created, deleted, created again with another id): what was
   * resolved against the topic names before (a consumer group's regular expressions) is stale.
   */
  get topicNamesVersion(): number {
    return this.namesVersion;
  }

  partition(topic: string, partition: number): PartitionState | undefined {
    return this.byName.get(topic)?.partitions[partition];
  }

  /** Partitions of every topic: what gregor.max.broker.partitions bounds. */
  get partitionCount(): number {
    let n = 0;
    for (const t of this.byName.values()) n += t.numPartitions;
    return n;
  }

  /**
   * Creates a topic (or only validates the request). Throws KafkaError with INVALID_TOPIC_EXCEPTION,
   * TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, INVALID_CONFIG, POLICY_VIOLATION
   * or KAFKA_STORAGE_ERROR.
   */
  async create(req: CreateTopicRequest, opts: OperationOptions = {}): Promise<TopicInfo> {
    const [outcome] = await this.createTopics([req], opts);
    if (outcome instanceof KafkaError) throw outcome;
    return outcome!;
  }

  /**
   * Creates the topics of one CreateTopics request, each independently (one failing topic does not stop the
   * others), in one operation: every topic is checked, then the new topics are stored in one metadata write,
   * then their logs are created. Resolves to the topic or its KafkaError, per request. Throws KafkaError
   * POLICY_VIOLATION when the operation would make more than MAX_RECORDS_PER_OPERATION records (nothing is
   * created, as Kafka), REQUEST_TIMED_OUT when it could not start before the deadline.
   */
  createTopics(reqs: readonly CreateTopicRequest[], opts: OperationOptions = {}): Promise<Array<TopicInfo | KafkaError>> {
    return this.serialized(() => this.createNow(reqs), opts.deadline);
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
      const [outcome] = await this.createNow([{ name, numPartitions: -1, replicationFactor: -1, configs: {} }]);
      if (outcome instanceof KafkaError) throw outcome;
      return outcome!;
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
      this.deps.logger.info({ entity, configs: redactedConfigs(configs) }, 'altered dynamic broker configs');
    });
  }

  /** The configs set on a group (IncrementalAlterConfigs on a GROUP resource); empty when none. */
  groupConfigs(groupId: string): Readonly<Record<string, string>> {
    return this.groupConfigsById.get(groupId) ?? {};
  }

  /**
   * Replaces the configs of a group with what `change` makes of the current ones (it checks them and throws a
   * KafkaError to refuse) and stores them. Changes one at a time, like the topics'; validateOnly stops after
   * `change`.
   */
  alterGroupConfigs(groupId: string, change: (current: Readonly<Record<string, string>>) => Record<string, string>, validateOnly: boolean): Promise<void> {
    return this.serialized(async () => {
      const configs = change(this.groupConfigs(groupId));
      if (validateOnly) return;
      try {
        await this.store.putGroupConfigs(groupId, configs);
      } catch (err) {
        throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Storing the configs of group '${groupId}' failed: ${(err as Error).message}`);
      }
      if (Object.keys(configs).length === 0) this.groupConfigsById.delete(groupId);
      else this.groupConfigsById.set(groupId, { ...configs });
      this.deps.logger.info({ groupId, configs }, 'altered group configs');
    });
  }

  /** The client quotas stored at the last start (AlterClientQuotas keeps its own view after that). */
  clientQuotas(): readonly ClientQuotaRecord[] {
    return this.storedClientQuotas;
  }

  /**
   * Stores client quota changes (each record replaces its entity's values; empty values remove it) in one
   * durable write. Not queued behind topic operations: the metadata store orders its writes.
   */
  putClientQuotas(records: readonly ClientQuotaRecord[]): Promise<void> {
    return this.store.putClientQuotas(records);
  }

  /**
   * CreatePartitions: raises a topic's partition count (with manual assignments, one replica list per new
   * partition, when given). Kafka's checks and wording: UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS for
   * the same or a lower count, INVALID_REPLICA_ASSIGNMENT for assignments that do not fit. Stores the new
   * count first, then creates the logs (a crash in between is repaired at the next start).
   */
  createPartitions(name: string, count: number, assignments: ReadonlyArray<readonly number[]> | null, validateOnly: boolean, opts: OperationOptions = {}): Promise<TopicInfo> {
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
      const brokerProblem = this.brokerLimitProblem(this.partitionCount + count - current);
      if (brokerProblem) throw new KafkaError(ErrorCode.POLICY_VIOLATION, brokerProblem);
      if (validateOnly) return topic;
      const record = { ...this.recordOf(topic), partitions: count };
      try {
        await this.store.putTopic(record);
      } catch (err) {
        throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Storing the partition count of topic '${name}' failed: ${(err as Error).message}`);
      }
      const created = await this.createLogs(record, topic.config, current, count);
      if (created instanceof Error) {
        this.deps.logger.error({ err: created, topic: name }, 'creating the new partition logs failed; rolling the partition count back');
        try {
          await this.store.putTopic(this.recordOf(topic));
        } catch (undoErr) {
          this.deps.logger.error({ err: undoErr, topic: name }, 'rolling back the new partitions failed');
        }
        throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Creating the new partition logs of topic '${name}' failed: ${created.message}`);
      }
      const partitions = [...topic.partitions, ...created];
      const info = this.infoOf(record, partitions, topic.config);
      this.remember(info);
      this.deps.logger.info({ topic: name, partitions: count, added: count - current }, 'added partitions');
      return info;
    }, opts.deadline);
  }

  /** Deletes a topic and its data. Throws KafkaError UNKNOWN_TOPIC_OR_PARTITION when it does not exist. */
  async delete(name: string, opts: OperationOptions = {}): Promise<void> {
    const error = (await this.deleteTopics([name], opts)).get(name);
    if (error) throw error;
  }

  /**
   * Deletes the topics of one DeleteTopics request (each named once) in one operation. Resolves once the
   * deletion is durable — the topics are deleting records in the metadata (one write) and gone from every
   * answer — to undefined per deleted name, or its KafkaError (UNKNOWN_TOPIC_OR_PARTITION,
   * KAFKA_STORAGE_ERROR). The rest runs beside the next operations (finishDeletion): the partition dirs are
   * renamed `-delete` in one batch, the deleting records dropped, and the LogManager removes the dirs in the
   * background; should that fail, the next start finishes it. Throws KafkaError POLICY_VIOLATION for more than
   * MAX_RECORDS_PER_OPERATION existing topics (one record each, as Kafka), REQUEST_TIMED_OUT when it could not
   * start before the deadline.
   */
  deleteTopics(names: readonly string[], opts: OperationOptions = {}): Promise<Map<string, KafkaError | undefined>> {
    return this.serialized(async () => {
      const results = new Map<string, KafkaError | undefined>();
      const doomed: TopicInfo[] = [];
      for (const name of names) {
        const topic = this.byName.get(name);
        if (topic) doomed.push(topic);
        else results.set(name, new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`));
      }
      if (doomed.length === 0) return results;
      if (doomed.length > MAX_RECORDS_PER_OPERATION) throw new KafkaError(ErrorCode.POLICY_VIOLATION, EXCESSIVELY_LARGE);
      try {
        await this.store.markDeleting(doomed.map((t) => t.name));
      } catch (err) {
        for (const t of doomed) results.set(t.name, new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Deleting topic '${t.name}' failed: ${(err as Error).message}`));
        return results;
      }
      for (const t of doomed) {
        this.forget(t);
        results.set(t.name, undefined);
        this.deps.logger.info({ topic: t.name, topicId: t.topicId, partitions: t.numPartitions }, 'deleted topic');
      }
      this.finishDeletion(doomed.map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.numPartitions })));
      return results;
    }, opts.deadline);
  }

  /**
   * The second half of a deletion (also at start, for a deletion cut short), beside the operations that follow:
   * renames the topics' partition dirs `-delete` in one batch (only `logs` when given: the dirs found at start),
   * then drops their deleting records. A creation of one of the names waits for it. A failure is logged; the
   * records stay, so the next start finishes the deletion, and the names cannot be created again until then.
   */
  private finishDeletion(records: readonly DeletingTopicRecord[], logs?: ReadonlyArray<{ topic: string; partition: number }>): void {
    const partitions = logs ?? records.flatMap((r) => Array.from({ length: r.partitions }, (_, partition) => ({ topic: r.name, partition })));
    const run = async (): Promise<void> => {
      try {
        await this.deps.logs.deleteLogs(partitions);
      } catch (err) {
        this.deps.logger.error({ err, topics: records.map((r) => r.name) }, 'renaming the partition dirs of deleted topics failed; the next start finishes the deletion');
        return;
      }
      // the dirs are gone: the names may be created again, whether or not the records leave the file now
      for (const r of records) this.deleting.delete(r.topicId);
      try {
        await this.store.deleted(records.map((r) => r.topicId));
      } catch (err) {
        this.deps.logger.warn({ err, topics: records.map((r) => r.name) }, 'dropping the deleting records failed; the next start drops them');
      }
    };
    const done = run().finally(() => this.finishing.delete(done));
    this.finishing.add(done);
    for (const record of records) this.deleting.set(record.topicId, { record, done });
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await Promise.all(this.finishing);
    await this.store.close();
  }

  /**
   * Runs `fn` after every operation queued before it. With a deadline, an operation that has not started by
   * then is dropped and rejected with REQUEST_TIMED_OUT at the deadline; one that has started runs to its end.
   */
  private serialized<T>(fn: () => Promise<T>, deadline?: number): Promise<T> {
    let started = false;
    let expired = false;
    const start = (): Promise<T> => {
      if (expired) return Promise.reject(requestTimedOut());
      started = true;
      return fn();
    };
    const run = this.queue.then(start, start);
    this.queue = run.catch(() => undefined);
    if (deadline === undefined) return run;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (started) return;
        expired = true;
        reject(requestTimedOut());
      }, Math.max(0, deadline - Date.now()));
      run.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  /** Why `total` partitions would be too many for this broker (gregor.max.broker.partitions), or undefined. */
  private brokerLimitProblem(total: number): string | undefined {
    const max = this.deps.config.int('gregor.max.broker.partitions');
    if (total <= max) return undefined;
    return `The broker would have ${total} partitions, more than its limit of ${max} (gregor.max.broker.partitions).`;
  }

  /**
   * Creates the logs of partitions [from, to) of a stored topic, CREATE_CONCURRENCY at a time. Resolves to
   * their states in partition order, or to the first error after removing the logs it created.
   */
  private async createLogs(record: TopicRecord, topicConfig: TopicConfigView, from: number, to: number): Promise<PartitionState[] | Error> {
    const created: PartitionState[] = [];
    let failure: Error | undefined;
    let next = from;
    const worker = async (): Promise<void> => {
      while (failure === undefined && next < to) {
        const p = next++;
        try {
          const log = await this.deps.logs.createLog(record.name, p, record.topicId, topicConfig.log);
          created.push({ topic: record.name, partition: p, topicId: record.topicId, log, leaderEpoch: LEADER_EPOCH });
        } catch (err) {
          failure ??= err as Error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CREATE_CONCURRENCY, to - from) }, worker));
    if (failure === undefined) return created.sort((a, b) => a.partition - b.partition);
    try {
      await this.deps.logs.deleteLogs(created.map((c) => ({ topic: c.topic, partition: c.partition })));
    } catch (undoErr) {
      this.deps.logger.error({ err: undoErr, topic: record.name }, 'removing the logs of a failed creation failed');
    }
    return failure;
  }

  /**
   * Creates topics (see createTopics): Kafka's checks per topic against the existing topics and the ones
   * before it in the request, the per-operation record limit over the request, the broker's partition limit
   * per topic in request order, then one metadata write and the logs.
   */
  private async createNow(reqs: readonly CreateTopicRequest[]): Promise<Array<TopicInfo | KafkaError>> {
    // a name still being deleted is created once its old dirs are renamed
    const renaming = [...this.deleting.values()].filter((d) => reqs.some((r) => r.name === d.record.name)).map((d) => d.done);
    if (renaming.length > 0) await Promise.all(renaming);
    const outcomes: Array<TopicInfo | KafkaError> = [];
    const accepted: Array<{ index: number; record: TopicRecord; overrides: Map<string, string> }> = [];
    const names = new Set<string>();
    const collisionKeys = new Map<string, string>();
    let records = 0;
    let partitions = this.partitionCount;
    for (const req of reqs) {
      let checked: { record: TopicRecord; overrides: Map<string, string> };
      try {
        checked = this.checkCreate(req, names, collisionKeys);
      } catch (err) {
        if (!(err instanceof KafkaError)) throw err;
        outcomes.push(err);
        continue;
      }
      const brokerProblem = this.brokerLimitProblem(partitions + checked.record.partitions);
      if (brokerProblem) {
        outcomes.push(new KafkaError(ErrorCode.POLICY_VIOLATION, brokerProblem));
        continue;
      }
      records += 1 + checked.overrides.size + checked.record.partitions;
      partitions += checked.record.partitions;
      names.add(req.name);
      collisionKeys.set(collisionKey(req.name), req.name);
      accepted.push({ index: outcomes.length, ...checked });
      outcomes.push(this.infoOf(checked.record, []));
    }
    // Kafka refuses the whole operation, validate-only or not, once its records pass the limit
    if (records > MAX_RECORDS_PER_OPERATION) throw new KafkaError(ErrorCode.POLICY_VIOLATION, EXCESSIVELY_LARGE);
    if (accepted.length === 0 || reqs.some((r) => r.validateOnly)) return outcomes;
    try {
      await this.store.putTopics(accepted.map((a) => a.record));
    } catch (err) {
      for (const a of accepted) outcomes[a.index] = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Storing topic '${a.record.name}' failed: ${(err as Error).message}`);
      return outcomes;
    }
    for (const { index, record, overrides } of accepted) {
      const topicConfig = resolveTopicConfig(this.deps.config, overrides);
      const created = await this.createLogs(record, topicConfig, 0, record.partitions);
      if (created instanceof Error) {
        // Undo the stored topic; if even that fails, the next start gives it empty logs.
        this.deps.logger.error({ err: created, topic: record.name }, 'creating the partition logs failed; rolling the topic back');
        try {
          await this.store.deleteTopic(record.name);
        } catch (undoErr) {
          this.deps.logger.error({ err: undoErr, topic: record.name }, 'rolling back a failed topic creation failed');
        }
        outcomes[index] = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Creating the logs of topic '${record.name}' failed: ${created.message}`);
        continue;
      }
      const info = this.infoOf(record, created, topicConfig);
      this.remember(info);
      outcomes[index] = info;
      this.deps.logger.info({ topic: record.name, topicId: record.topicId, partitions: record.partitions, configs: record.configs }, 'created topic');
    }
    return outcomes;
  }

  /**
   * Kafka's checks of one topic to create, in Kafka's order; `names` and `collisionKeys` are the topics
   * accepted before it in the same request. Returns its record (with a new id) and overrides; throws
   * KafkaError.
   */
  private checkCreate(req: CreateTopicRequest, names: ReadonlySet<string>, collisionKeys: ReadonlyMap<string, string>): { record: TopicRecord; overrides: Map<string, string> } {
    const config = this.deps.config;
    const { name } = req;
    const problem = topicNameProblem(name);
    if (problem) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
    if (this.byName.has(name) || names.has(name)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    for (const d of this.deleting.values()) {
      if (d.record.name === name) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' is marked for deletion.`);
    }
    const colliding = this.byCollisionKey.get(collisionKey(name)) ?? collisionKeys.get(collisionKey(name));
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
    return { record, overrides };
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
    if (this.byName.get(info.name)?.topicId !== info.topicId) this.namesVersion++;
    this.byName.set(info.name, info);
    this.byId.set(info.topicId, info);
    this.byCollisionKey.set(collisionKey(info.name), info.name);
  }

  private forget(info: TopicInfo): void {
    this.namesVersion++;
    this.byName.delete(info.name);
    this.byId.delete(info.topicId);
    if (this.byCollisionKey.get(collisionKey(info.name)) === info.name) this.byCollisionKey.delete(collisionKey(info.name));
  }

  private async load(): Promise<void> {
    const logs = this.deps.logs;
    const log = this.deps.logger;
    const { topics: records, deletingTopics, existed, brokerConfigs, groupConfigs, clientQuotas } = await this.store.load({ nodeId: this.deps.nodeId, clusterId: logs.clusterId });
    for (const [groupId, configs] of Object.entries(groupConfigs)) this.groupConfigsById.set(groupId, configs);
    this.storedClientQuotas = clientQuotas;
    const dynamicSet = this.applyStoredBrokerConfigs(brokerConfigs);
    // each log is loaded (and recovered) with its topic's own config, stored overrides and dynamic defaults
    const overridesByTopic = new Map(records.map((r) => [r.name, new Map(Object.entries(r.configs))]));
    await logs.loadLogs((topic) => {
      const overrides = overridesByTopic.get(topic);
      return overrides ? resolveTopicConfig(this.deps.config, overrides).log : undefined;
    });
    const found = logs.existingLogs();
    if (!existed) {
      // Nothing stored yet: adopt what is on disk.
      const byTopic = new Map<string, PartitionLog[]>();
      for (const l of found) byTopic.set(l.topic, [...(byTopic.get(l.topic) ?? []), l]);
      for (const [name, list] of byTopic) {
        const count = Math.max(...list.map((l) => l.partition)) + 1;
        const topicId = list.map(topicIdOfLog).find((id) => id !== undefined) ?? randomTopicId();
        records.push({ name, topicId, partitions: count, replicationFactor: 1, configs: {} });
        log.warn({ topic: name, topicId, partitions: count }, 'adopted topic found on disk without stored metadata');
      }
      if (byTopic.size > 0) await this.store.putTopics(records);
    }
    const dirs = classifyLogs(
      found.map((l) => ({ topic: l.topic, partition: l.partition, topicId: topicIdOfLog(l), log: l })),
      records,
      deletingTopics,
    );
    await this.moveStraysAside(dirs.strays.map((s) => ({ log: s.log.log, reason: s.reason })));
    if (deletingTopics.length > 0) {
      // finished beside the start: the broker listens meanwhile
      log.warn({ topics: deletingTopics.map((d) => d.name), partitionDirs: dirs.doomed.length }, 'finishing the deletion of topics cut short by a crash');
      this.finishDeletion(deletingTopics, dirs.doomed.map((d) => ({ topic: d.topic, partition: d.partition })));
    }
    for (const record of records) {
      const overrides = new Map(Object.entries(record.configs));
      const topicConfig = resolveTopicConfig(this.deps.config, overrides);
      const onDisk = dirs.live.get(record.name);
      const partitions: PartitionState[] = [];
      for (let p = 0; p < record.partitions; p++) {
        let plog = onDisk?.get(p)?.log;
        if (!plog) {
          log.warn({ topic: record.name, partition: p }, 'partition of a stored topic has no log on disk; creating an empty one');
          plog = await logs.createLog(record.name, p, record.topicId, topicConfig.log);
        } else if (overrides.size > 0 || dynamicSet) {
          plog.updateConfig(topicConfig.log);
        }
        partitions.push({ topic: record.name, partition: p, topicId: record.topicId, log: plog, leaderEpoch: LEADER_EPOCH });
      }
      this.remember(this.infoOf(record, partitions, topicConfig));
    }
  }

  /**
   * Renames partition dirs the metadata does not explain to `-stray` and keeps them (Kafka's stray logs), with
   * one warning per topic that says why and what to do.
   */
  private async moveStraysAside(strays: ReadonlyArray<{ log: PartitionLog; reason: string }>): Promise<void> {
    if (strays.length === 0) return;
    // every stray is a log the LogManager holds: the paths come back in the same order
    const moved = await this.deps.logs.markStray(strays.map((s) => ({ topic: s.log.topic, partition: s.log.partition })));
    const byTopic = new Map<string, { reason: string; partitions: number[]; movedTo: string[] }>();
    strays.forEach((s, i) => {
      const group = `${s.log.topic}\n${s.reason}`;
      const entry = byTopic.get(group) ?? { reason: s.reason, partitions: [], movedTo: [] };
      entry.partitions.push(s.log.partition);
      entry.movedTo.push(moved[i] ?? '');
      byTopic.set(group, entry);
    });
    for (const [group, { reason, partitions, movedTo }] of byTopic) {
      const topic = group.slice(0, group.indexOf('\n'));
      this.deps.logger.warn(
        { topic, partitions, reason, movedTo: movedTo.slice(0, 20) },
        `partition directories of topic ${topic} that gregor-metadata.json does not explain (${reason}) were renamed <dir>.<uuid>-stray and kept, not deleted. ` +
          'If gregor-metadata.json is stale (restored from a backup, copied, or edited by hand): stop the broker, put the current file back and rename ' +
          'each -stray dir back to <topic>-<partition>. To read the data: start a broker of its own on an empty data dir holding the dir renamed <topic>-<partition> (it adopts it). ' +
          'Remove the dirs once they are not needed (README: Durability and limits).',
      );
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
        if (problem) this.deps.logger.warn({ entity, config: name, value: redactedValue(name, value), problem }, 'ignoring a stored dynamic broker config');
        else usable[name] = value;
      }
      this.deps.config.setDynamic(level, usable);
      any ||= Object.keys(usable).length > 0;
    }
    return any;
  }
}
