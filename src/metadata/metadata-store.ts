/**
 * Where the cluster's topic metadata lives: topic names, ids, partition counts,
 * replication factors and config overrides, and the dynamic broker configs
 * (AlterConfigs on a broker id or on the cluster default). The broker talks to a MetadataStore
 * only, so a cluster can later keep this in a coordination service; the single
 * node keeps it in one file in the log dir.
 *
 * File format (<log.dir>/gregor-metadata.json, JSON, version 1):
 *   { "version": 1, "nodeId": 1, "clusterId": "…", "topics": [
 *       { "name": "orders", "topicId": "<22-char base64url>", "partitions": 3,
 *         "replicationFactor": 1, "configs": { "retention.ms": "3600000" } } ],
 *     "brokerConfigs": { "": { "log.retention.ms": "86400000" }, "1": { "message.max.bytes": "2000000" } } }
 * (brokerConfigs: "" = the cluster-wide defaults, "<node id>" = one broker's own; optional, added after
 * the first release of version 1, which readers that ignore unknown fields skip.)
 * Every change rewrites the whole file atomically: write <file>.tmp, fsync it,
 * rename it over the file, fsync the directory. A reader never sees a half
 * written file; a crash leaves either the old or the new state. Later versions
 * may add fields; readers ignore unknown ones and refuse unknown versions.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface TopicRecord {
  readonly name: string;
  /** 22-character base64url UUID, as the protocol carries it. */
  readonly topicId: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Topic config overrides (only what was set on the topic). */
  readonly configs: Readonly<Record<string, string>>;
}

export interface MetadataIdentity {
  readonly nodeId: number;
  readonly clusterId: string;
}

/** Dynamic broker configs by entity: "" = the cluster-wide defaults, "<node id>" = that broker's own. */
export type BrokerConfigRecords = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface LoadedMetadata {
  readonly topics: TopicRecord[];
  /** False on the very first start (nothing stored yet). */
  readonly existed: boolean;
  readonly brokerConfigs: BrokerConfigRecords;
}

export interface MetadataStore {
  /** Reads the stored topics; throws MetadataStoreError when they belong to another node or cluster, or cannot be read. */
  load(identity: MetadataIdentity): Promise<LoadedMetadata>;
  /** Adds or replaces a topic, durably, before resolving. */
  putTopic(topic: TopicRecord): Promise<void>;
  /** Removes a topic, durably, before resolving. */
  deleteTopic(name: string): Promise<void>;
  /** Replaces the dynamic configs of one entity ("" or a node id; empty removes them), durably, before resolving. */
  putBrokerConfigs(entity: string, configs: Readonly<Record<string, string>>): Promise<void>;
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
  brokerConfigs?: Record<string, Record<string, string>>;
}

/** The single-node MetadataStore: one JSON file in the log dir, replaced atomically. */
export class FileMetadataStore implements MetadataStore {
  private readonly path: string;
  private identity: MetadataIdentity | undefined;
  private readonly topics = new Map<string, TopicRecord>();
  private readonly brokerConfigs = new Map<string, Readonly<Record<string, string>>>();
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly dir: string) {
    this.path = join(dir, METADATA_FILE);
  }

  async load(identity: MetadataIdentity): Promise<LoadedMetadata> {
    this.identity = identity;
    this.topics.clear();
    this.brokerConfigs.clear();
    await rm(`${this.path}.tmp`, { force: true });
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { topics: [], existed: false, brokerConfigs: {} };
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
    for (const t of contents.topics) this.topics.set(t.name, t);
    for (const [entity, configs] of Object.entries(contents.brokerConfigs ?? {})) this.brokerConfigs.set(entity, configs);
    return { topics: [...this.topics.values()], existed: true, brokerConfigs: Object.fromEntries(this.brokerConfigs) };
  }

  putTopic(topic: TopicRecord): Promise<void> {
    this.topics.set(topic.name, topic);
    return this.persist();
  }

  deleteTopic(name: string): Promise<void> {
    this.topics.delete(name);
    return this.persist();
  }

  putBrokerConfigs(entity: string, configs: Readonly<Record<string, string>>): Promise<void> {
    if (Object.keys(configs).length === 0) this.brokerConfigs.delete(entity);
    else this.brokerConfigs.set(entity, { ...configs });
    return this.persist();
  }

  async close(): Promise<void> {
    await this.writes;
  }

  /** Queues a write of the current state; writes happen one at a time, each of the state at its start. */
  private persist(): Promise<void> {
    const identity = this.identity;
    if (!identity) return Promise.reject(new MetadataStoreError('metadata store used before load()'));
    const run = async (): Promise<void> => {
      const contents: FileContents = { version: FORMAT_VERSION, nodeId: identity.nodeId, clusterId: identity.clusterId, topics: [...this.topics.values()] };
      if (this.brokerConfigs.size > 0) contents.brokerConfigs = Object.fromEntries(this.brokerConfigs);
      await writeFileAtomically(this.path, JSON.stringify(contents, null, 1) + '\n');
    };
    const next = this.writes.then(run, run);
    this.writes = next.catch(() => undefined);
    return next;
  }
}

/** Write to <path>.tmp, fsync, rename over <path>, fsync the directory. */
export async function writeFileAtomically(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dir = await open(join(path, '..'), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

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
  const brokerConfigs: Record<string, Record<string, string>> = {};
  const rawBrokerConfigs = o['brokerConfigs'] ?? {};
  if (typeof rawBrokerConfigs !== 'object' || rawBrokerConfigs === null || Array.isArray(rawBrokerConfigs)) throw bad('brokerConfigs is not an object');
  for (const [entity, configs] of Object.entries(rawBrokerConfigs as Record<string, unknown>)) {
    if (typeof configs !== 'object' || configs === null || Array.isArray(configs)) throw bad(`broker configs of '${entity}' are not an object`);
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(configs as Record<string, unknown>)) {
      if (typeof v !== 'string') throw bad(`broker config ${k} of '${entity}' is not a string`);
      values[k] = v;
    }
    brokerConfigs[entity] = values;
  }
  return { version: FORMAT_VERSION, nodeId: o['nodeId'], clusterId: o['clusterId'], topics, brokerConfigs };
}
