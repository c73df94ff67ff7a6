/**
 * Rebuilds groups and committed offsets from one partition of
 * `__consumer_offsets`, as Kafka's GroupMetadataManager loads a partition it
 * becomes leader of: every record from the log start offset on, the latest
 * value per key winning and a null value (tombstone) deleting; only the
 * latest record of each key is decoded, in offset order (offset-commit keys
 * of versions 0 and 1 are different bytes for the same key). Groups with
 * metadata come back Stable when they had members (their members must
 * heartbeat within their session timeout, or they are removed), else Empty;
 * offsets whose group has no metadata form an Empty group of their own.
 * Records with unknown key versions (the new consumer-group protocol) are
 * skipped; undecodable records are logged and skipped.
 */
import type { Logger } from '../logger.js';
import { Group, type CommittedOffset } from './group.js';
import { parseGroupMetadataValue, parseOffsetCommitValue, parseRecordKey, type GroupMetadataValue } from './offsets-records.js';
import type { OffsetsTopic } from './offsets-topic.js';

export async function loadOffsetsPartition(topic: OffsetsTopic, partition: number, log: Logger): Promise<Group[]> {
  // the latest value per key (key bytes as a binary string); only those are decoded
  const latest = new Map<string, { key: Buffer; value: Buffer | null; offset: number }>();
  let records = 0;
  for await (const record of topic.replay(partition)) {
    records++;
    const id = record.key.toString('latin1');
    // copies: the read buffers may be reused by the log
    latest.set(id, { key: Buffer.from(record.key), value: record.value === null ? null : Buffer.from(record.value), offset: record.offset });
  }
  const offsets = new Map<string, Map<string, Map<number, CommittedOffset>>>();
  const metadata = new Map<string, GroupMetadataValue>();
  for (const record of [...latest.values()].sort((a, b) => a.offset - b.offset)) {
    try {
      const key = parseRecordKey(record.key);
      if (key.kind === 'offset') {
        let byTopic = offsets.get(key.group);
        if (record.value === null) {
          byTopic?.get(key.topic)?.delete(key.partition);
          continue;
        }
        if (!byTopic) offsets.set(key.group, (byTopic = new Map()));
        let byPartition = byTopic.get(key.topic);
        if (!byPartition) byTopic.set(key.topic, (byPartition = new Map()));
        byPartition.set(key.partition, parseOffsetCommitValue(record.value));
      } else if (key.kind === 'group') {
        if (record.value === null) metadata.delete(key.group);
        else metadata.set(key.group, parseGroupMetadataValue(record.value));
      }
    } catch (err) {
      log.warn({ err, partition, offset: record.offset }, 'skipping undecodable __consumer_offsets record');
    }
  }
  const now = Date.now();
  const groups: Group[] = [];
  for (const [groupId, value] of metadata) groups.push(groupFromMetadata(groupId, value, now));
  for (const groupId of offsets.keys()) if (!metadata.has(groupId)) groups.push(new Group(groupId, 'Empty', now));
  for (const group of groups) {
    for (const [t, byPartition] of offsets.get(group.groupId) ?? []) {
      for (const [p, value] of byPartition) group.putOffset(t, p, value);
    }
  }
  log.debug({ partition, records, keys: latest.size, groups: groups.length }, 'loaded __consumer_offsets partition');
  // a group that is Empty with neither offsets nor a generation has nothing to keep
  return groups.filter((g) => !(g.is('Empty') && !g.hasOffsets() && g.generationId === 0));
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
