/**
 * Where the cluster's topic metadata lives: topic names, ids, partition counts,
 * replication factors and config overrides, the topics being deleted, the
 * dynamic broker configs (AlterConfigs on a broker id or on the cluster
 * default), and the ACLs (CreateAcls, read by the authorizer). The broker talks to a MetadataStore only, so a cluster can later
 * keep this in a coordination service; the single node keeps it in one file in
 * the log dir. It is the broker's record of which partition directories are
 * live: the file must not be edited by hand (a directory it does not explain is
 * moved aside as stray at the next start, see topic-manager.ts).
 *
 * File format (<log.dir>/gregor-metadata.json, JSON, version 1):
 *   { "version": 1, "nodeId": 1, "clusterId": "…", "topics": [
 *       { "name": "orders", "topicId": "<22-char base64url>", "partitions": 3,
 *         "replicationFactor": 1, "configs": { "retention.ms": "3600000" } } ],
 *     "deletingTopics": [ { "name": "old", "topicId": "<22-char base64url>", "partitions": 2 } ],
 *     "brokerConfigs": { "": { "log.retention.ms": "86400000" }, "1": { "message.max.bytes": "2000000" } },
 *     "groupConfigs": { "orders-app": { "consumer.session.timeout.ms": "50000" } },
 *     "acls": [ { "resourceType": "TOPIC", "resourceName": "orders", "patternType": "LITERAL",
 *       "principal": "User:alice", "host": "*", "operation": "READ", "permissionType": "ALLOW" } ],
 *     "clientQuotas": [ { "entity": { "user": "alice", "client-id": null }, "values": { "producer_byte_rate": 1048576 } } ] }
 * (deletingTopics: topics whose deletion is durable but whose partition directories may not all be renamed
 * to `-delete` yet, kept until they are; brokerConfigs: "" = the cluster-wide defaults, "<node id>" = one
 * broker's own; groupConfigs: the configs of consumer and share groups, by group id (IncrementalAlterConfigs on a
 * GROUP resource); acls: the ACLs, each with Kafka's names for its resource type, pattern type, operation and
 * permission type; clientQuotas: the client quotas of AlterClientQuotas, each entity (entity type → name,
 * null for the default) with its values, src/security/quota/client-quotas.ts). All optional and added after the first release of version 1: readers that ignore unknown
 * fields skip them.)
 * Every change rewrites the whole file atomically, through the storage's file
 * system seam: write <file>.tmp, fsync it, rename it over the file, fsync the
 * directory; a write that fails (a full disk) removes its .tmp. A reader never
 * sees a half written file; a crash leaves either the old or the new state.
 * Changes of many topics at once (one CreateTopics or DeleteTopics request) are
 * one write. Later versions may add fields; readers ignore unknown ones and
 * refuse unknown versions.
 */
import { join } from 'node:path';
import { nodeFs, writeFileAtomic, type StorageFs } from '../../storage/index.js';

export interface TopicRecord {
  readonly name: string;
  /** 22-character base64url UUID, as the protocol carries it. */
  readonly topicId: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Topic config overrides (only what was set on the topic). */
  readonly configs: Readonly<Record<string, string>>;
}

/** A topic whose deletion is durable; its partition directories `<name>-<p>` (p < partitions) with its id are to go. */
export interface DeletingTopicRecord {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: number;
}

/** An ACL as stored: Kafka's names (TOPIC, LITERAL, READ, ALLOW, ...); the authorizer checks them at load. */
export interface AclRecord {
  readonly resourceType: string;
  readonly resourceName: string;
  readonly patternType: string;
  readonly principal: string;
  readonly host: string;
  readonly operation: string;
  readonly permissionType: string;
}

export interface MetadataIdentity {
  readonly nodeId: number;
  readonly clusterId: string;
}

/** Dynamic broker configs by entity: "" = the cluster-wide defaults, "<node id>" = that broker's own. */
export type BrokerConfigRecords = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** A client quota entity (entity type → name, null: the default) with its values (src/security/quota/). */
export interface ClientQuotaRecord {
  readonly entity: Readonly<Record<string, string | null>>;
  readonly values: Readonly<Record<string, number>>;
}

export interface LoadedMetadata {
  readonly topics: TopicRecord[];
  /** Topics deleted while some of their partition directories may still be live (a deletion cut short). */
  readonly deletingTopics: DeletingTopicRecord[];
  /** False on the very first start (nothing stored yet). */
  readonly existed: boolean;
  readonly brokerConfigs: BrokerConfigRecords;
  /** Configs of groups (KIP-848 group configs), by group id. */
  readonly groupConfigs: BrokerConfigRecords;
  /** Client quotas (AlterClientQuotas). */
  readonly clientQuotas: readonly ClientQuotaRecord[];
}

export interface MetadataStore {
  /** Reads the stored topics; throws MetadataStoreError when they belong to another node or cluster, or cannot be read. */
  load(identity: MetadataIdentity): Promise<LoadedMetadata>;
  /** Adds or replaces a topic, durably, before resolving. */
  putTopic(topic: TopicRecord): Promise<void>;
  /** Adds or replaces several topics in one durable write. */
  putTopics(topics: readonly TopicRecord[]): Promise<void>;
  /** Removes a topic outright, durably (undoing a creation whose logs could not be made). */
  deleteTopic(name: string): Promise<void>;
  /** Turns topics into deleting records (one durable write): from then on they are deleted, whatever a crash leaves on disk. */
  markDeleting(names: readonly string[]): Promise<void>;
  /** Drops the deleting records of these topic ids (their directories are renamed `-delete`), durably. */
  deleted(topicIds: readonly string[]): Promise<void>;
  /** Replaces the dynamic configs of one entity ("" or a node id; empty removes them), durably, before resolving. */
  putBrokerConfigs(entity: string, configs: Readonly<Record<string, string>>): Promise<void>;
  /** Replaces the configs of one group (empty removes them), durably, before resolving. */
  putGroupConfigs(groupId: string, configs: Readonly<Record<string, string>>): Promise<void>;
  /** The ACLs stored now (read by load, then as put). */
  acls(): readonly AclRecord[];
  /** Replaces the ACLs, durably, before resolving. */
  putAcls(acls: readonly AclRecord[]): Promise<void>;
  /** Replaces the values of each entity (empty values remove it), in one durable write, before resolving. */
  putClientQuotas(records: readonly ClientQuotaRecord[]): Promise<void>;
  close(): Promise<void>;
}

export class MetadataStoreError extends Error {
  override readonly name = 'MetadataStoreError';
}

export const METADATA_FILE = 'gregor-metadata.json';
const FORMAT_VERSION = 1;

interface FileContents {
  version: number;
  nodeId: number;
  clusterId: string;
  topics: TopicRecord[];
  deletingTopics?: DeletingTopicRecord[];
  brokerConfigs?: Record<string, Record<string, string>>;
  groupConfigs?: Record<string, Record<string, string>>;
  acls?: AclRecord[];
  clientQuotas?: ClientQuotaRecord[];
}

/** What the file holds: the state a write replaces as a whole. */
interface StoredState {
  readonly topics: Map<string, TopicRecord>;
  /** topic id → deleting record */
  readonly deleting: Map<string, DeletingTopicRecord>;
  readonly brokerConfigs: Map<string, Readonly<Record<string, string>>>;
  readonly groupConfigs: Map<string, Readonly<Record<string, string>>>;
  /** Replaced as a whole by a change. */
  acls: readonly AclRecord[];
  /** quotaEntityKey → record */
  readonly clientQuotas: Map<string, ClientQuotaRecord>;
}

function emptyState(): StoredState {
  return { topics: new Map(), deleting: new Map(), brokerConfigs: new Map(), groupConfigs: new Map(), acls: [], clientQuotas: new Map() };
}

/** The identity of a client quota entity: its types and names, whatever their order. */
function quotaEntityKey(entity: Readonly<Record<string, string | null>>): string {
  return JSON.stringify(Object.entries(entity).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** The single-node MetadataStore: one JSON file in the log dir, replaced atomically. */
export class FileMetadataStore implements MetadataStore {
  private readonly path: string;
  private identity: MetadataIdentity | undefined;
  /** The state the file holds (a change becomes part of it only once written). */
  private state: StoredState = emptyState();
  private writes: Promise<void> = Promise.resolve();

  /** `fs`: the file system seam the logs use (tests: storage's FaultyFs, for a full disk). */
  constructor(
    private readonly dir: string,
    private readonly fs: StorageFs = nodeFs,
  ) {
    this.path = join(dir, METADATA_FILE);
  }

  async load(identity: MetadataIdentity): Promise<LoadedMetadata> {
    this.identity = identity;
    this.state = emptyState();
    let text: string;
    try {
      this.removeTmp();
      if (this.fs.stat(this.path) === null) return { topics: [], deletingTopics: [], existed: false, brokerConfigs: {}, groupConfigs: {}, clientQuotas: [] };
      text = this.fs.readFile(this.path).toString('utf8');
    } catch (err) {
      throw new MetadataStoreError(`cannot read topic metadata ${this.path}: ${(err as Error).message}`);
    }
    const contents = parseContents(text, this.path);
    if (contents.nodeId !== identity.nodeId) {
      throw new MetadataStoreError(
        `topic metadata in ${this.dir} belongs to node.id ${contents.nodeId}, but this broker is configured with node.id ${identity.nodeId}; ` +
          `start with node.id=${contents.nodeId} or use another log.dirs`,
      );
    }
    if (contents.clusterId !== identity.clusterId) {
      throw new MetadataStoreError(
        `topic metadata in ${this.dir} belongs to cluster ${contents.clusterId}, but the log dir's meta.properties says ${identity.clusterId}`,
      );
    }
    this.state.acls = contents.acls ?? [];
    const { topics, deleting, brokerConfigs, groupConfigs, clientQuotas } = this.state;
    for (const t of contents.topics) topics.set(t.name, t);
    for (const d of contents.deletingTopics ?? []) deleting.set(d.topicId, d);
    for (const [entity, configs] of Object.entries(contents.brokerConfigs ?? {})) brokerConfigs.set(entity, configs);
    for (const [groupId, configs] of Object.entries(contents.groupConfigs ?? {})) groupConfigs.set(groupId, configs);
    for (const q of contents.clientQuotas ?? []) clientQuotas.set(quotaEntityKey(q.entity), q);
    return {
      topics: [...topics.values()],
      deletingTopics: [...deleting.values()],
      existed: true,
      brokerConfigs: Object.fromEntries(brokerConfigs),
      groupConfigs: Object.fromEntries(groupConfigs),
      clientQuotas: [...clientQuotas.values()],
    };
  }

  putTopic(topic: TopicRecord): Promise<void> {
    return this.putTopics([topic]);
  }

  putTopics(topics: readonly TopicRecord[]): Promise<void> {
    return this.persist((s) => {
      for (const t of topics) s.topics.set(t.name, t);
    });
  }

  deleteTopic(name: string): Promise<void> {
    return this.persist((s) => {
      s.topics.delete(name);
    });
  }

  markDeleting(names: readonly string[]): Promise<void> {
    return this.persist((s) => {
      for (const name of names) {
        const t = s.topics.get(name);
        if (!t) continue;
        s.topics.delete(name);
        s.deleting.set(t.topicId, { name: t.name, topicId: t.topicId, partitions: t.partitions });
      }
    });
  }

  deleted(topicIds: readonly string[]): Promise<void> {
    return this.persist((s) => {
      for (const id of topicIds) s.deleting.delete(id);
    });
  }

  putBrokerConfigs(entity: string, configs: Readonly<Record<string, string>>): Promise<void> {
    return this.persist((s) => {
      if (Object.keys(configs).length === 0) s.brokerConfigs.delete(entity);
      else s.brokerConfigs.set(entity, { ...configs });
    });
  }

  putGroupConfigs(groupId: string, configs: Readonly<Record<string, string>>): Promise<void> {
    return this.persist((s) => {
      if (Object.keys(configs).length === 0) s.groupConfigs.delete(groupId);
      else s.groupConfigs.set(groupId, { ...configs });
    });
  }

  acls(): readonly AclRecord[] {
    return this.state.acls;
  }

  putAcls(acls: readonly AclRecord[]): Promise<void> {
    return this.persist((s) => {
      s.acls = acls.map((a) => ({ ...a }));
    });
  }

  putClientQuotas(records: readonly ClientQuotaRecord[]): Promise<void> {
    return this.persist((s) => {
      for (const r of records) {
        const key = quotaEntityKey(r.entity);
        if (Object.keys(r.values).length === 0) s.clientQuotas.delete(key);
        else s.clientQuotas.set(key, { entity: { ...r.entity }, values: { ...r.values } });
      }
    });
  }

  async close(): Promise<void> {
    await this.writes;
  }

  /**
   * Queues a change: writes happen one at a time, each applying its change to the state the file holds and
   * writing the result; the state takes the change only once it is written, so a failed write (a full disk)
   * leaves no trace, not even in a later write.
   */
  private persist(change: (next: StoredState) => void): Promise<void> {
    const identity = this.identity;
    if (!identity) return Promise.reject(new MetadataStoreError('metadata store used before load()'));
    const run = async (): Promise<void> => {
      const next: StoredState = {
        topics: new Map(this.state.topics),
        deleting: new Map(this.state.deleting),
        brokerConfigs: new Map(this.state.brokerConfigs),
        groupConfigs: new Map(this.state.groupConfigs),
        acls: this.state.acls,
        clientQuotas: new Map(this.state.clientQuotas),
      };
      change(next);
      const contents: FileContents = { version: FORMAT_VERSION, nodeId: identity.nodeId, clusterId: identity.clusterId, topics: [...next.topics.values()] };
      if (next.deleting.size > 0) contents.deletingTopics = [...next.deleting.values()];
      if (next.brokerConfigs.size > 0) contents.brokerConfigs = Object.fromEntries(next.brokerConfigs);
      if (next.groupConfigs.size > 0) contents.groupConfigs = Object.fromEntries(next.groupConfigs);
      if (next.acls.length > 0) contents.acls = [...next.acls];
      if (next.clientQuotas.size > 0) contents.clientQuotas = [...next.clientQuotas.values()];
      try {
        await writeFileAtomic(this.fs, this.path, JSON.stringify(contents, null, 1) + '\n');
      } catch (err) {
        try {
          this.removeTmp();
        } catch {
          // the next load removes it
        }
        throw new MetadataStoreError(`writing topic metadata ${this.path} failed: ${(err as Error).message}`, { cause: err });
      }
      this.state = next;
    };
    const next = this.writes.then(run, run);
    this.writes = next.catch(() => undefined);
    return next;
  }

  private removeTmp(): void {
    const tmp = `${this.path}.tmp`;
    if (this.fs.stat(tmp) !== null) this.fs.unlink(tmp);
  }
}

const ACL_FIELDS = ['resourceType', 'resourceName', 'patternType', 'principal', 'host', 'operation', 'permissionType'] as const;

function parseContents(text: string, path: string): FileContents {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new MetadataStoreError(`topic metadata ${path} is not valid JSON (${(err as Error).message}); refusing to start rather than lose topics`);
  }
  const bad = (what: string): MetadataStoreError => new MetadataStoreError(`topic metadata ${path} is malformed: ${what}`);
  if (typeof raw !== 'object' || raw === null) throw bad('not an object');
  const o = raw as Record<string, unknown>;
  if (o['version'] !== FORMAT_VERSION) throw bad(`unsupported version ${String(o['version'])} (this Gregor reads version ${FORMAT_VERSION})`);
  if (typeof o['nodeId'] !== 'number' || typeof o['clusterId'] !== 'string' || !Array.isArray(o['topics'])) throw bad('missing nodeId, clusterId or topics');
  const topics: TopicRecord[] = [];
  for (const t of o['topics'] as unknown[]) {
    const r = t as Record<string, unknown>;
    if (
      typeof r !== 'object' || r === null ||
      typeof r['name'] !== 'string' || typeof r['topicId'] !== 'string' ||
      !Number.isInteger(r['partitions']) || !Number.isInteger(r['replicationFactor']) ||
      typeof r['configs'] !== 'object' || r['configs'] === null
    ) {
      throw bad(`bad topic entry ${JSON.stringify(t)}`);
    }
    const configs: Record<string, string> = {};
    for (const [k, v] of Object.entries(r['configs'] as Record<string, unknown>)) {
      if (typeof v !== 'string') throw bad(`config ${k} of topic ${r['name']} is not a string`);
      configs[k] = v;
    }
    topics.push({ name: r['name'], topicId: r['topicId'], partitions: r['partitions'] as number, replicationFactor: r['replicationFactor'] as number, configs });
  }
  const deletingTopics: DeletingTopicRecord[] = [];
  const rawDeleting = o['deletingTopics'] ?? [];
  if (!Array.isArray(rawDeleting)) throw bad('deletingTopics is not an array');
  for (const d of rawDeleting as unknown[]) {
    const r = d as Record<string, unknown>;
    if (typeof r !== 'object' || r === null || typeof r['name'] !== 'string' || typeof r['topicId'] !== 'string' || !Number.isInteger(r['partitions'])) {
      throw bad(`bad deleting topic entry ${JSON.stringify(d)}`);
    }
    deletingTopics.push({ name: r['name'], topicId: r['topicId'], partitions: r['partitions'] as number });
  }
  const configsByEntity = (field: string, what: string): Record<string, Record<string, string>> => {
    const out: Record<string, Record<string, string>> = {};
    const raw = o[field] ?? {};
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(`${field} is not an object`);
    for (const [entity, configs] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof configs !== 'object' || configs === null || Array.isArray(configs)) throw bad(`${what} configs of '${entity}' are not an object`);
      const values: Record<string, string> = {};
      for (const [k, v] of Object.entries(configs as Record<string, unknown>)) {
        if (typeof v !== 'string') throw bad(`${what} config ${k} of '${entity}' is not a string`);
        values[k] = v;
      }
      out[entity] = values;
    }
    return out;
  };
  const brokerConfigs = configsByEntity('brokerConfigs', 'broker');
  const groupConfigs = configsByEntity('groupConfigs', 'group');
  const acls: AclRecord[] = [];
  const rawAcls = o['acls'] ?? [];
  if (!Array.isArray(rawAcls)) throw bad('acls is not an array');
  for (const a of rawAcls as unknown[]) {
    const r = a as Record<string, unknown>;
    if (typeof r !== 'object' || r === null || ACL_FIELDS.some((f) => typeof r[f] !== 'string')) throw bad(`bad ACL entry ${JSON.stringify(a)}`);
    acls.push(Object.fromEntries(ACL_FIELDS.map((f) => [f, r[f] as string])) as unknown as AclRecord);
  }
  const clientQuotas: ClientQuotaRecord[] = [];
  const rawQuotas = o['clientQuotas'] ?? [];
  if (!Array.isArray(rawQuotas)) throw bad('clientQuotas is not an array');
  for (const q of rawQuotas as unknown[]) {
    const r = q as Record<string, unknown>;
    const entity = typeof r === 'object' && r !== null ? r['entity'] : undefined;
    const values = typeof r === 'object' && r !== null ? r['values'] : undefined;
    if (
      typeof entity !== 'object' || entity === null || Array.isArray(entity) ||
      !Object.values(entity).every((n) => n === null || typeof n === 'string') ||
      typeof values !== 'object' || values === null || Array.isArray(values) ||
      !Object.values(values).every((v) => typeof v === 'number')
    ) {
      throw bad(`bad client quota entry ${JSON.stringify(q)}`);
    }
    clientQuotas.push({ entity: entity as Record<string, string | null>, values: values as Record<string, number> });
  }
  return { version: FORMAT_VERSION, nodeId: o['nodeId'], clusterId: o['clusterId'], topics, deletingTopics, brokerConfigs, groupConfigs, acls, clientQuotas };
}
