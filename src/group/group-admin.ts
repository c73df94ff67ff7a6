/**
 * The group coordinator's administrative operations, across shards:
 * DescribeGroups, ListGroups, DeleteGroups, the removal of a deleted topic's
 * offsets, and the groups' overview for metrics. Each group is answered by
 * its shard; a group whose partition is not served gets the error the
 * facade's routing gives (COORDINATOR_LOAD_IN_PROGRESS while it loads,
 * COORDINATOR_NOT_AVAILABLE once closed).
 *
 * Consumer groups (KIP-848, consumer-group-heartbeat.ts) are listed with
 * type "consumer"; DescribeGroups answers them as unknown groups (Dead, or
 * GROUP_ID_NOT_FOUND from v6: they are not classic groups, as Kafka);
 * DeleteGroups deletes an empty one. The
 * empty classic group that holds a consumer group's offsets is theirs.
 * Share groups (KIP-932, share-group-heartbeat.ts) likewise: listed with
 * type "share" (protocol type "share"), described as unknown by
 * DescribeGroups, deleted when empty (their share-partitions' state first,
 * at the share coordinator, and what the share-fetch side held of it).
 *
 * Removals change the groups at once and then write their tombstones, one
 * batch per shard, all shards' writes in flight together.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Group, GroupSummary } from './group.js';
import type { GroupCoordinatorShard } from './group-coordinator-shard.js';
import type { ConsumerGroupOverview, GroupOverview, ListedGroup } from './group-requests.js';

/** How the facade routes a group to its shard. */
export interface GroupRouting {
  /** The error a request for the group gets instead of being served, if any. */
  unavailable(groupId: string, allowEmptyId: boolean): number | undefined;
  /** The group's shard (only when `unavailable` said none). */
  shardOf(groupId: string): GroupCoordinatorShard;
  /** Every shard that serves, by partition. */
  served(): GroupCoordinatorShard[];
}

const NO_SUMMARY: GroupSummary = { state: '', protocolType: '', protocol: '', members: [] };

export function describeGroup(routing: GroupRouting, groupId: string): { errorCode: number; summary: GroupSummary } {
  const error = routing.unavailable(groupId, true);
  if (error !== undefined) return { errorCode: error, summary: NO_SUMMARY };
  const shard = routing.shardOf(groupId);
  const group = shard.consumer.get(groupId) === undefined && shard.share.get(groupId) === undefined ? shard.store.get(groupId) : undefined;
  if (!group) return { errorCode: ErrorCode.NONE, summary: { state: 'Dead', protocolType: '', protocol: '', members: [] } };
  return { errorCode: ErrorCode.NONE, summary: group.summary() };
}

/**
 * Groups of the served shards, filtered by state and type ("classic", "consumer", "share"), case-insensitive
 * (states trimmed too, as Kafka's); empty filters match all, an unknown type matches none.
 */
export function listGroups(routing: GroupRouting, states: readonly string[], types: readonly string[]): ListedGroup[] {
  const wantedStates = new Set(states.map((s) => s.toLowerCase().trim()));
  const wantedTypes = new Set(types.map((t) => t.toLowerCase()));
  const wanted = (g: ListedGroup): boolean => (wantedStates.size === 0 || wantedStates.has(g.state.toLowerCase())) && (wantedTypes.size === 0 || wantedTypes.has(g.groupType ?? 'classic'));
  const groups: ListedGroup[] = [];
  for (const shard of routing.served()) {
    for (const g of shard.consumer.all()) {
      const listed: ListedGroup = { groupId: g.groupId, protocolType: 'consumer', state: g.state, groupType: 'consumer' };
      if (wanted(listed)) groups.push(listed);
    }
    for (const g of shard.share.all()) {
      const listed: ListedGroup = { groupId: g.groupId, protocolType: 'share', state: g.state, groupType: 'share' };
      if (wanted(listed)) groups.push(listed);
    }
    for (const g of shard.store.all()) {
      if (shard.consumer.get(g.groupId) !== undefined || shard.share.get(g.groupId) !== undefined) continue;
      const listed: ListedGroup = { groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state };
      if (wanted(listed)) groups.push(listed);
    }
  }
  return groups;
}

/** Deletes empty groups with their offsets; one error code per group id. */
export async function deleteGroups(routing: GroupRouting, groupIds: readonly string[]): Promise<Map<string, number>> {
  const results = new Map<string, number>();
  const eligible = new Map<GroupCoordinatorShard, Group[]>();
  const shareDeletes: Array<Promise<void>> = [];
  for (const groupId of groupIds) {
    const error = routing.unavailable(groupId, true);
    if (error !== undefined) {
      results.set(groupId, error);
      continue;
    }
    const shard = routing.shardOf(groupId);
    if (shard.share.get(groupId) !== undefined) {
      shareDeletes.push(shard.share.delete(groupId).then((code) => void results.set(groupId, code)));
      continue;
    }
    const group = shard.store.get(groupId);
    const consumerGroup = shard.consumer.get(groupId);
    if (consumerGroup !== undefined) {
      if (consumerGroup.members.size > 0) {
        results.set(groupId, ErrorCode.NON_EMPTY_GROUP);
        continue;
      }
      shard.consumer.remove(groupId);
      if (!group || group.is('Dead')) {
        results.set(groupId, ErrorCode.NONE);
        continue;
      }
    }
    if (!group || group.is('Dead')) results.set(groupId, ErrorCode.GROUP_ID_NOT_FOUND);
    else if (group.is('Empty')) {
      group.transitionTo('Dead', Date.now());
      eligible.set(shard, [...(eligible.get(shard) ?? []), group]);
    } else results.set(groupId, ErrorCode.NON_EMPTY_GROUP);
  }
  const writes = [...eligible].map(([shard, groups]) => shard.store.cleanup(groups, (g) => g.offsets.removeAll()).written);
  await Promise.all([...writes, ...shareDeletes]);
  for (const groups of eligible.values()) for (const g of groups) results.set(g.groupId, ErrorCode.NONE);
  return results;
}

/** Removes the offsets of a deleted topic from every group. */
export async function removeTopicOffsets(routing: GroupRouting, topic: string): Promise<void> {
  await Promise.all(routing.served().map((shard) => shard.store.cleanup(shard.store.all(), (g) => g.offsets.removeTopic(topic)).written));
}

/** State, protocol type, member count and generation of every group. */
export function groupOverview(routing: GroupRouting): GroupOverview[] {
  return routing.served().flatMap((shard) =>
    shard.store.all().map((g) => ({ groupId: g.groupId, state: g.state, protocolType: g.protocolType ?? '', members: g.size, generationId: g.generationId })),
  );
}

/** State, member count and epochs of every consumer group of the consumer protocol. */
export function consumerGroupOverview(routing: GroupRouting): ConsumerGroupOverview[] {
  return routing.served().flatMap((shard) =>
    shard.consumer.all().map((g) => ({ groupId: g.groupId, state: g.state, members: g.members.size, groupEpoch: g.groupEpoch, assignmentEpoch: g.assignmentEpoch })),
  );
}
