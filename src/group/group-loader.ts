/**
 * Rebuilds the groups and committed offsets of one partition of
 * `__consumer_offsets` from its records, as Kafka's group coordinator loads
 * a partition it becomes the coordinator of. The coordinator runtime reads
 * the partition and hands each record to the shard's replay, which hands it
 * here while the shard loads: the latest value per key wins and a tombstone
 * deletes (the runtime replays only the latest record of each key, in offset
 * order; offset-commit keys of versions 0 and 1 are different bytes for the
 * same key, so the later of the two wins here). When the partition is
 * replayed, `groups()` builds the groups: those with metadata come back
 * Stable when they had members (their members must heartbeat within their
 * session timeout, or they are removed), else Empty; offsets whose group has
 * no metadata form an Empty group of their own; a group left Empty with
 * neither offsets nor a generation is dropped. Offset commits of a
 * transaction still open at the end of the partition (their marker is yet to
 * come; committed ones come as ordinary records) are kept as the group's
 * pending transactional offsets, for the marker to apply or drop.
 *
 * The records of consumer groups (KIP-848, consumer-group-records.ts) are
 * not the classic groups': they are kept apart, in log order with their
 * offsets (`consumerGroupRecords()`), for the consumer groups' state to
 * replay, and take no part in building the classic groups (a consumer
 * group's committed offsets still come back as an Empty group of their own,
 * as before the consumer groups' records were read). The records of share
 * groups (KIP-932, share-group-records.ts) are kept apart the same way
 * (`shareGroupRecords()`).
 */
import { isConsumerGroupRecord, type ConsumerGroupRecord } from './consumer-group-records.js';
import { Group } from './group.js';
import type { CommittedOffset } from './group-offsets.js';
import type { GroupCoordinatorRecord } from './group-records.js';
import type { GroupMetadataValue } from './offsets-records.js';
import { isShareGroupRecord, type ShareGroupRecord } from './share-group-records.js';

/** A consumer-group record as loaded, with its offset in the partition. */
export interface LoadedConsumerGroupRecord {
  readonly record: ConsumerGroupRecord;
  readonly offset: number;
}

export class GroupLoader {
  /** group -> topic -> partition -> the committed offset and its record's log offset */
  private readonly offsets = new Map<string, Map<string, Map<number, { value: CommittedOffset; logOffset: number }>>>();
  private readonly metadata = new Map<string, GroupMetadataValue>();
  /** group -> offsets of open transactions, in offset order */
  private readonly openTxnOffsets = new Map<string, Array<{ producerId: number; topic: string; partition: number; value: CommittedOffset; logOffset: number }>>();
  /** The consumer groups' records, in log order (tombstones included). */
  private readonly consumerGroup: LoadedConsumerGroupRecord[] = [];
  /** The share groups' records, in log order (tombstones included). */
  private readonly shareGroup: ShareGroupRecord[] = [];

  replay(record: GroupCoordinatorRecord, logOffset: number, openTransaction?: number): void {
    if (openTransaction !== undefined) {
      if (record.type !== 'offset-commit' || record.value === null) return;
      let open = this.openTxnOffsets.get(record.group);
      if (!open) this.openTxnOffsets.set(record.group, (open = []));
      open.push({ producerId: openTransaction, topic: record.topic, partition: record.partition, value: record.value, logOffset });
      return;
    }
    if (isShareGroupRecord(record)) {
      this.shareGroup.push(record);
      return;
    }
    if (isConsumerGroupRecord(record)) {
      this.consumerGroup.push({ record, offset: logOffset });
      return;
    }
    if (record.type === 'offset-commit') {
      let byTopic = this.offsets.get(record.group);
      if (record.value === null) {
        byTopic?.get(record.topic)?.delete(record.partition);
        return;
      }
      if (!byTopic) this.offsets.set(record.group, (byTopic = new Map()));
      let byPartition = byTopic.get(record.topic);
      if (!byPartition) byTopic.set(record.topic, (byPartition = new Map()));
      byPartition.set(record.partition, { value: record.value, logOffset });
    } else if (record.value === null) {
      this.metadata.delete(record.group);
    } else {
      this.metadata.set(record.group, record.value);
    }
  }

  /** The records of consumer groups replayed, in log order: for the consumer groups' state to replay in turn. */
  consumerGroupRecords(): readonly LoadedConsumerGroupRecord[] {
    return this.consumerGroup;
  }

  /** The records of share groups replayed, in log order. */
  shareGroupRecords(): readonly ShareGroupRecord[] {
    return this.shareGroup;
  }

  /** The classic groups the replayed records describe, as of `now`. */
  groups(now: number): Group[] {
    const groups: Group[] = [];
    for (const [groupId, value] of this.metadata) groups.push(groupFromMetadata(groupId, value, now));
    const withOffsets = new Set([...this.offsets.keys(), ...this.openTxnOffsets.keys()]);
    for (const groupId of withOffsets) if (!this.metadata.has(groupId)) groups.push(new Group(groupId, 'Empty', now));
    for (const group of groups) {
      for (const [t, byPartition] of this.offsets.get(group.groupId) ?? []) {
        for (const [p, o] of byPartition) group.offsets.put(t, p, o.value, o.logOffset);
      }
      for (const o of this.openTxnOffsets.get(group.groupId) ?? []) group.offsets.putPendingTransactional(o.producerId, o.topic, o.partition, o.value, o.logOffset);
    }
    // a group that is Empty with neither offsets nor a generation has nothing to keep
    return groups.filter((g) => !(g.is('Empty') && !g.hasOffsets() && g.generationId === 0));
  }
}

function groupFromMetadata(groupId: string, v: GroupMetadataValue, now: number): Group {
  const group = new Group(groupId, v.members.length === 0 ? 'Empty' : 'Stable', now);
  for (const m of v.members) {
    group.add({ ...m, protocolType: v.protocolType, protocols: [{ name: v.protocol ?? '', metadata: m.subscription }] }, undefined);
  }
  group.generationId = v.generation;
  group.protocolType = v.protocolType === '' ? undefined : v.protocolType;
  group.protocolName = v.protocol ?? undefined;
  group.leaderId = v.leader ?? undefined;
  group.stateTimestamp = v.currentStateTimestamp === -1 ? undefined : v.currentStateTimestamp;
  group.subscribedTopics = group.computeSubscribedTopics();
  return group;
}
