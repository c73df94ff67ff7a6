/**
 * What the consumer protocol (KIP-848) counts for the metrics: the observer the consumer groups of every
 * shard call at a few points of a heartbeat (consumer-group-heartbeat.ts), and the counts it keeps
 * (src/metrics/broker-metrics.ts reads them when scraped; nothing here depends on metrics being enabled:
 * a few additions per heartbeat). What can be read from the groups themselves (groups by state, members,
 * epochs) is not counted here: the metrics read it when scraped (GroupCoordinator.consumerGroupOverview).
 * Kafka keeps the like in GroupCoordinatorMetrics (consumer-group-count by state, consumer-group-rebalance
 * rate and count); these are Gregor's own cut of them.
 *
 * - A heartbeat is counted once it is answered, by what it asked for (its member epoch: join 0, leave -1,
 *   static_leave -2, heartbeat otherwise) and the error code of its answer (its Kafka name, NONE when it
 *   succeeded): both label sets are bounded.
 * - A rebalance is one computation of a group's target assignment (the group epoch ran ahead of the
 *   assignment epoch), timed around the assignor: the histogram holds the seconds it took.
 * - A member fenced is one the coordinator removed because its session or its rebalance timeout expired
 *   (a member that leaves is a heartbeat of kind leave).
 * - Partitions assigned and revoked: on each reconciliation, the partitions a member got that it did not
 *   have, and those it was newly told to give up (pending revocation).
 */
import { errorInfo } from '../../../protocol/index.js';
import { PlainHistogram } from '../../metrics/plain-histogram.js';
import type { ConsumerGroupMember, TopicPartitions } from './consumer-group-member.js';
import { JOIN_GROUP_MEMBER_EPOCH, LEAVE_GROUP_MEMBER_EPOCH, LEAVE_GROUP_STATIC_MEMBER_EPOCH } from './epochs.js';

/** Why the coordinator removed a member on its own. */
export type FenceReason = 'session_timeout' | 'rebalance_timeout';

export const FENCE_REASONS: readonly FenceReason[] = ['session_timeout', 'rebalance_timeout'];

/** What a heartbeat asked for, by its member epoch (any epoch, valid or not, has one). */
export type HeartbeatLabel = 'join' | 'leave' | 'static_leave' | 'heartbeat';

/** The points of the consumer protocol the metrics observe. */
export interface ConsumerGroupObserver {
  /** A heartbeat was answered with `errorCode`. */
  heartbeatAnswered(memberEpoch: number, errorCode: number): void;
  /** A group's target assignment was computed, in `seconds`. */
  targetAssignmentComputed(seconds: number): void;
  /** A member moved from `before` (undefined: it joined) to `next` by a heartbeat's reconciliation. */
  memberReconciled(before: ConsumerGroupMember | undefined, next: ConsumerGroupMember): void;
  /** The coordinator removed a member whose session or rebalance timeout expired. */
  memberFenced(reason: FenceReason): void;
}

/** An observer that observes nothing (consumer groups made without one). */
export const NO_CONSUMER_GROUP_OBSERVER: ConsumerGroupObserver = {
  heartbeatAnswered: () => undefined,
  targetAssignmentComputed: () => undefined,
  memberReconciled: () => undefined,
  memberFenced: () => undefined,
};

/** Target assignment computations: from 10 µs (a few members) to 10 s (an assignor stalling the shard). */
const ASSIGNMENT_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 10];

export function heartbeatLabel(memberEpoch: number): HeartbeatLabel {
  if (memberEpoch === JOIN_GROUP_MEMBER_EPOCH) return 'join';
  if (memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) return 'leave';
  if (memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) return 'static_leave';
  return 'heartbeat';
}

export interface HeartbeatCount {
  readonly labels: { readonly kind: HeartbeatLabel; readonly result: string };
  value: number;
}

export class ConsumerGroupStats implements ConsumerGroupObserver {
  /** Seconds of each target assignment computation; its count is the number of rebalances. */
  readonly targetAssignmentTime = new PlainHistogram(
    'gregor_consumer_protocol_target_assignment_seconds',
    'Time each computation of a consumer group\'s target assignment took (consumer protocol, KIP-848): the server assignor run when the group epoch moved ahead of the assignment epoch; its count is the number of rebalances.',
    ASSIGNMENT_BUCKETS,
  );
  readonly fenced: Record<FenceReason, number> = { session_timeout: 0, rebalance_timeout: 0 };
  partitionsAssigned = 0;
  partitionsRevoked = 0;
  private readonly assignmentSeries = this.targetAssignmentTime.seriesOf();
  /** By kind and error code. */
  private readonly heartbeatSeries = new Map<string, HeartbeatCount>();

  /** Target assignment computations since start. */
  get rebalances(): number {
    return this.assignmentSeries.count;
  }

  heartbeats(): Iterable<HeartbeatCount> {
    return this.heartbeatSeries.values();
  }

  heartbeatAnswered(memberEpoch: number, errorCode: number): void {
    const kind = heartbeatLabel(memberEpoch);
    const key = `${kind}:${errorCode}`;
    let c = this.heartbeatSeries.get(key);
    if (c === undefined) {
      c = { labels: { kind, result: errorInfo(errorCode).name }, value: 0 };
      this.heartbeatSeries.set(key, c);
    }
    c.value++;
  }

  targetAssignmentComputed(seconds: number): void {
    this.targetAssignmentTime.observe(this.assignmentSeries, seconds);
  }

  memberReconciled(before: ConsumerGroupMember | undefined, next: ConsumerGroupMember): void {
    if (before !== undefined && before.assignedPartitions === next.assignedPartitions && before.partitionsPendingRevocation === next.partitionsPendingRevocation) return;
    this.partitionsAssigned += countNotIn(next.assignedPartitions, before?.assignedPartitions);
    this.partitionsRevoked += countNotIn(next.partitionsPendingRevocation, before?.partitionsPendingRevocation);
  }

  memberFenced(reason: FenceReason): void {
    this.fenced[reason]++;
  }
}

/** Partitions of `tp` that are not in `of`. */
function countNotIn(tp: TopicPartitions, of: TopicPartitions | undefined): number {
  let n = 0;
  for (const [topicId, partitions] of tp) {
    const known = of?.get(topicId);
    if (known === undefined) n += partitions.size;
    else for (const p of partitions) if (!known.has(p)) n++;
  }
  return n;
}
