/**
 * A share group's records in `__consumer_offsets` (share-group-log.ts):
 * written through the group coordinator's serde and replayed, they give back
 * the group's epochs, members, targets, assignments and state partitions;
 * tombstones remove members and groups.
 */
import { describe, expect, it } from 'vitest';
import { groupRecordSerde, type GroupCoordinatorRecord } from '../../src/group/group-records.js';
import { newShareGroupMember } from '../../src/group/share/share-group-member.js';
import { addStatePartitions, ShareGroup } from '../../src/group/share-group.js';
import {
  replayShareGroups,
  shareCurrentAssignmentRecord,
  shareGroupEpochRecord,
  shareGroupTombstones,
  shareMemberMetadataRecord,
  shareMemberTombstones,
  shareStatePartitionMetadataRecord,
  shareTargetMemberRecord,
  shareTargetMetadataRecord,
} from '../../src/group/share-group-log.js';
import { isShareGroupRecord, type ShareGroupRecord } from '../../src/group/share-group-records.js';

const TOPIC = 'AAAAAAAAAAAAAAAAAAAAAQ';

/** The records as they come back from their bytes. */
function throughBytes(records: readonly ShareGroupRecord[]): ShareGroupRecord[] {
  return records.map((r) => {
    const back = groupRecordSerde.deserialize(groupRecordSerde.serialize(r as GroupCoordinatorRecord));
    if (back === undefined || !isShareGroupRecord(back)) throw new Error(`not read back: ${r.type}`);
    return back;
  });
}

describe('share group records', () => {
  it('replay rebuilds the group, and tombstones remove a member and then the group', () => {
    const group = new ShareGroup('g');
    group.groupEpoch = 3;
    group.assignmentEpoch = 3;
    const m = newShareGroupMember('m1', { memberEpoch: 3, previousMemberEpoch: 2, clientId: 'c', clientHost: '/h', subscribedTopicNames: new Set(['t']), assignedPartitions: new Map([[TOPIC, new Set([0, 1])]]) });
    addStatePartitions(group.initialized, TOPIC, 't', [0, 1], 1000);
    addStatePartitions(group.initializing, TOPIC, 't', [2], 2000);
    const records = throughBytes([
      shareMemberMetadataRecord('g', m),
      shareGroupEpochRecord(group),
      shareStatePartitionMetadataRecord(group),
      shareTargetMemberRecord('g', 'm1', m.assignedPartitions),
      shareTargetMetadataRecord(group),
      shareCurrentAssignmentRecord('g', m),
      shareMemberMetadataRecord('g', newShareGroupMember('m2', { subscribedTopicNames: new Set(['t']) })),
    ]);
    const [loaded] = replayShareGroups(records);
    expect(loaded).toBeDefined();
    expect(loaded!.groupEpoch).toBe(3);
    expect(loaded!.assignmentEpoch).toBe(3);
    expect(loaded!.members.get('m1')).toEqual(m);
    expect(loaded!.target.get('m1')).toEqual(new Map([[TOPIC, new Set([0, 1])]]));
    expect(loaded!.isInitialized(TOPIC, 1)).toBe(true);
    expect(loaded!.isInitializing(TOPIC, 2)).toBe(true);
    expect(loaded!.members.has('m2')).toBe(true);

    const afterLeave = replayShareGroups([...records, ...throughBytes(shareMemberTombstones('g', 'm1'))]);
    expect(afterLeave[0]!.members.has('m1')).toBe(false);
    expect(afterLeave[0]!.target.has('m1')).toBe(false);

    const deleted = replayShareGroups([...records, ...throughBytes([...shareMemberTombstones('g', 'm1'), ...shareMemberTombstones('g', 'm2'), ...shareGroupTombstones('g')])]);
    expect(deleted).toEqual([]);
  });
});
