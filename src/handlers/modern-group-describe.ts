/**
 * What ConsumerGroupDescribe (KIP-848) and ShareGroupDescribe (KIP-932) answer alike: per requested group,
 * DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED), the coordinator's error or the group with its
 * epochs, assignor and members, authorized operations when asked, and, with an authorizer, TOPIC_AUTHORIZATION_FAILED
 * for a group whose members' assignments name a topic the session may not DESCRIBE (Kafka's KafkaApis). The
 * handlers give what differs: how to describe, and each member's fields.
 */
import { ErrorCode, KafkaError } from '../../protocol/index.js';
import type { TopicPartitions } from '../group/consumer/consumer-group-member.js';
import { authorize, authorizedNames, authorizedOperations, AUTHORIZED_OPERATIONS_OMITTED, hasAuthorizer, type AuthContext } from '../security/auth-helper.js';

/** A member's assignment on the wire: topics by id and name (an id no topic has any more: name ""), partitions sorted. */
export interface WireAssignment {
  topicPartitions: Array<{ topicId: string; topicName: string; partitions: number[] }>;
}

/** What the coordinator tells of a described group, whatever its type. */
interface DescribedGroup {
  readonly groupState: string;
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  readonly assignorName: string;
}

/** The group answers both responses share, with their members. */
export interface DescribedGroupAnswer<M> {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: M[];
  authorizedOperations: number;
}

export function describeModernGroups<G extends DescribedGroup, M>(
  ctx: AuthContext,
  req: { readonly groupIds: readonly string[]; readonly includeAuthorizedOperations: boolean },
  describe: (groupIds: readonly string[]) => Array<{ groupId: string; result: G | KafkaError }>,
  membersOf: (group: G, assignment: (tp: TopicPartitions) => WireAssignment) => M[],
  /** The assignments of a member that name topics (ConsumerGroupDescribe: its target assignment too). */
  assignmentsOf: (member: M) => readonly WireAssignment[],
): Array<DescribedGroupAnswer<M>> {
  const nameOf = (topicId: string): string => ctx.services.topics.getById(topicId)?.name ?? '';
  const assignment = (tp: TopicPartitions): WireAssignment => ({
    topicPartitions: [...tp].map(([topicId, partitions]) => ({ topicId, topicName: nameOf(topicId), partitions: [...partitions].sort((a, b) => a - b) })),
  });
  const describable = req.groupIds.filter((g) => authorize(ctx, 'DESCRIBE', 'GROUP', g));
  const described = new Map(describe(describable).map((d) => [d.groupId, d.result]));
  const groups = req.groupIds.map((groupId): DescribedGroupAnswer<M> => {
    const result = described.get(groupId);
    if (result === undefined) return refusedGroup(groupId, ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    if (result instanceof KafkaError) {
      return { errorCode: result.code, errorMessage: result.message || null, groupId, groupState: '', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
    }
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: result.groupState,
      groupEpoch: result.groupEpoch,
      assignmentEpoch: result.assignmentEpoch,
      assignorName: result.assignorName,
      members: membersOf(result, assignment),
      authorizedOperations: req.includeAuthorizedOperations ? authorizedOperations(ctx, 'GROUP', groupId) : AUTHORIZED_OPERATIONS_OMITTED,
    };
  });
  if (!hasAuthorizer(ctx)) return groups;
  // the topics of every member's assignments must be describable
  const topicsOf = (g: DescribedGroupAnswer<M>): string[] =>
    g.members.flatMap((m) => assignmentsOf(m).flatMap((a) => a.topicPartitions.map((tp) => tp.topicName))).filter((t) => t !== '');
  const topicsDescribable = authorizedNames(ctx, 'DESCRIBE', 'TOPIC', groups.flatMap(topicsOf));
  return groups.map((g) => (topicsOf(g).every((t) => topicsDescribable.has(t)) ? g : refusedGroup(g.groupId, ErrorCode.TOPIC_AUTHORIZATION_FAILED, UNDESCRIBABLE_TOPICS)));
}

const UNDESCRIBABLE_TOPICS = 'The group has described topic(s) that the client is not authorized to describe.';

/** A group the session may not see, as Kafka answers it (the schema's defaults). */
function refusedGroup<M>(groupId: string, errorCode: number, errorMessage: string | null): DescribedGroupAnswer<M> {
  return { errorCode, errorMessage, groupId, groupState: '', groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
}
