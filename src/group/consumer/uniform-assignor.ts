/**
 * The `uniform` server-side assignor, the first of Kafka 4.x's default
 * `group.consumer.assignors` and so the one a consumer gets when it names
 * none. Follows Kafka's UniformAssignor: balanced (member sizes differ by at
 * most one partition when the subscriptions allow it) and sticky (a member
 * keeps what it has unless balance needs it elsewhere), with two paths
 * chosen by the spec's subscription type: uniform-homogeneous-assignment.ts
 * when every member subscribes to the same topics, and
 * uniform-heterogeneous-assignment.ts otherwise.
 *
 * Racks (the members' and the partitions' replicas') are accepted and not
 * used, as by Kafka 3.9/4.x's uniform assignor. The differences in the two
 * paths are in their opening comments.
 */
import type { GroupAssignment, GroupSpec, PartitionAssignor, SubscribedTopicDescriber } from './assignor.js';
import { assignUniformHeterogeneous } from './uniform-heterogeneous-assignment.js';
import { assignUniformHomogeneous } from './uniform-homogeneous-assignment.js';

export const UNIFORM_ASSIGNOR_NAME = 'uniform';

export function assignUniform(groupSpec: GroupSpec, topics: SubscribedTopicDescriber): GroupAssignment {
  if (groupSpec.members.size === 0) return { members: new Map() };
  return groupSpec.subscriptionType === 'HOMOGENEOUS'
    ? assignUniformHomogeneous(groupSpec, topics)
    : assignUniformHeterogeneous(groupSpec, topics);
}

export const uniformAssignor: PartitionAssignor = { name: UNIFORM_ASSIGNOR_NAME, assign: assignUniform };
