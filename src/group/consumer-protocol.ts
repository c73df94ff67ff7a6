/**
 * The "consumer" embedded protocol (Kafka's ConsumerProtocol): the
 * subscription a classic member sends in JoinGroup (ConsumerProtocolSubscription
 * v0-3) and the assignment its leader sends back in SyncGroup
 * (ConsumerProtocolAssignment v0-3), each after an int16 version.
 *
 * The coordinator reads subscriptions to learn which topics a classic group
 * is subscribed to (offset expiry keeps the offsets of subscribed topics,
 * OffsetDelete refuses them: GROUP_SUBSCRIBED_TO_TOPIC), and, for the
 * migration between the classic and the consumer protocol (group-migration.ts,
 * classic-members.ts), reads both and writes assignments itself: a classic
 * member of a consumer group gets its assignment from the coordinator, in
 * this format, at the version of its own subscription.
 *
 * Later versions only append fields. Reading is lenient as Kafka's
 * coordinator: a version above 3 is read as 3, and fields a version should
 * have but the bytes end before are left at their defaults (some clients
 * write a version they do not fill).
 */
import { ProtocolError } from '../../protocol/index.js';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** The highest version of the subscription and assignment this module knows. */
export const CONSUMER_PROTOCOL_VERSION = 3;

/** Topic name → partitions, in the order read. */
export interface TopicPartitionList {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export interface ConsumerSubscription {
  readonly version: number;
  readonly topics: readonly string[];
  readonly userData: Buffer | null;
  /** v1+: the partitions the member owns (eager members: none). */
  readonly ownedPartitions: readonly TopicPartitionList[];
  /** v2+, -1 before. */
  readonly generationId: number;
  /** v3+, null before. */
  readonly rackId: string | null;
}

export interface ConsumerAssignment {
  readonly version: number;
  readonly partitions: readonly TopicPartitionList[];
  readonly userData: Buffer | null;
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  get atEnd(): boolean {
    return this.pos >= this.buf.length;
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new ProtocolError('consumer protocol bytes end early');
  }
  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  nullableString(): string | null {
    const len = this.int16();
    if (len < 0) return null;
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
  string(): string {
    const s = this.nullableString();
    if (s === null) throw new ProtocolError('null string in consumer protocol bytes');
    return s;
  }
  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len < 0) return null;
    this.need(len);
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return b;
  }
  array<T>(item: () => T): T[] {
    const n = this.int32();
    if (n < 0) return [];
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item());
    return out;
  }
  topicPartitions(): TopicPartitionList[] {
    return this.array(() => ({ topic: this.string(), partitions: this.array(() => this.int32()) }));
  }
}

function versionOf(r: Reader, what: string): number {
  const version = r.int16();
  if (version < 0) throw new ProtocolError(`invalid consumer ${what} version ${version}`);
  return version;
}

/** The version a subscription or assignment was written at; throws ProtocolError for fewer than two bytes. */
export function consumerProtocolVersion(bytes: Buffer): number {
  return versionOf(new Reader(bytes), 'protocol');
}

/** A consumer subscription; throws ProtocolError for bytes that are not one. */
export function decodeSubscription(bytes: Buffer): ConsumerSubscription {
  const r = new Reader(bytes);
  const version = versionOf(r, 'subscription');
  const topics = r.array(() => r.string());
  const userData = r.atEnd ? null : r.nullableBytes();
  const ownedPartitions = version >= 1 && !r.atEnd ? r.topicPartitions() : [];
  const generationId = version >= 2 && !r.atEnd ? r.int32() : -1;
  const rackId = version >= 3 && !r.atEnd ? r.nullableString() : null;
  return { version, topics, userData, ownedPartitions, generationId, rackId };
}

/** The topics of a consumer subscription; throws ProtocolError for bytes that are not one. */
export function subscribedTopics(metadata: Buffer): string[] {
  return [...decodeSubscription(metadata).topics];
}

/** A consumer assignment; empty bytes are an empty assignment (a member the leader gave nothing). */
export function decodeAssignment(bytes: Buffer): ConsumerAssignment {
  if (bytes.length === 0) return { version: 0, partitions: [], userData: null };
  const r = new Reader(bytes);
  const version = versionOf(r, 'assignment');
  const partitions = r.topicPartitions();
  const userData = r.atEnd ? null : r.nullableBytes();
  return { version, partitions, userData };
}

/** An assignment at `version` (capped at 3; every version has the same fields), without user data. */
export function encodeAssignment(partitions: readonly TopicPartitionList[], version: number): Buffer {
  const v = Math.min(Math.max(version, 0), CONSUMER_PROTOCOL_VERSION);
  let size = 2 + 4 + 4;
  const names = partitions.map((t) => Buffer.from(t.topic, 'utf8'));
  partitions.forEach((t, i) => (size += 2 + names[i]!.length + 4 + 4 * t.partitions.length));
  const out = Buffer.alloc(size);
  let pos = out.writeInt16BE(v, 0);
  pos = out.writeInt32BE(partitions.length, pos);
  partitions.forEach((t, i) => {
    pos = out.writeInt16BE(names[i]!.length, pos);
    pos += names[i]!.copy(out, pos);
    pos = out.writeInt32BE(t.partitions.length, pos);
    for (const p of t.partitions) pos = out.writeInt32BE(p, pos);
  });
  out.writeInt32BE(-1, pos);
  return out;
}
