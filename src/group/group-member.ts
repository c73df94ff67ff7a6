/**
 * A member of a classic group (Kafka's ClassicGroupMember) and the answers a
 * member's parked JoinGroup and SyncGroup get. A member is who it says it is
 * (ids, client, timeouts: what group metadata records store of it), the
 * protocols it supports with their metadata, its assignment, and its parked
 * requests. Its session timer lives in the shard's timers, keyed by its id.
 */
import type { GroupMemberValue } from './offsets-records.js';

export interface GroupProtocol {
  readonly name: string;
  readonly metadata: Buffer;
}

export interface JoinMemberInfo {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly metadata: Buffer;
}

/** What a JoinGroup is answered with (Kafka's JoinGroupResult). */
export interface JoinResult {
  readonly errorCode: number;
  readonly memberId: string;
  readonly generationId: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly leader: string;
  readonly skipAssignment: boolean;
  readonly members: readonly JoinMemberInfo[];
}

/** What a SyncGroup is answered with. */
export interface SyncResult {
  readonly errorCode: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignment: Buffer;
}

export const EMPTY_BYTES = Buffer.alloc(0);

export function joinError(memberId: string, errorCode: number): JoinResult {
  return { errorCode, memberId, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, members: [] };
}

export function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}

/** Who a member is and its timeouts: what group metadata records store besides its bytes. */
export type MemberIdentity = Omit<GroupMemberValue, 'subscription' | 'assignment'>;

export interface Member extends MemberIdentity {
  /** Replaced when a static member rejoins. */
  memberId: string;
  /** Updated when the member rejoins. */
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  readonly protocolType: string;
  protocols: readonly GroupProtocol[];
  assignment: Buffer;
  /** The parked JoinGroup, answered when the join phase completes. */
  awaitingJoin: ((r: JoinResult) => void) | undefined;
  /** The parked SyncGroup, answered when the leader's assignment is stored. */
  awaitingSync: ((r: SyncResult) => void) | undefined;
  /** Joined in the current rebalance and not yet answered: its session timer does not count as satisfied. */
  isNew: boolean;
}

export interface NewMember extends MemberIdentity {
  readonly protocolType: string;
  readonly protocols: readonly GroupProtocol[];
  readonly assignment?: Buffer;
}

export interface MemberSummary {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly metadata: Buffer;
  readonly assignment: Buffer;
}

export function newMember(spec: NewMember, awaitingJoin: ((r: JoinResult) => void) | undefined): Member {
  return {
    memberId: spec.memberId,
    groupInstanceId: spec.groupInstanceId,
    clientId: spec.clientId,
    clientHost: spec.clientHost,
    rebalanceTimeoutMs: spec.rebalanceTimeoutMs,
    sessionTimeoutMs: spec.sessionTimeoutMs,
    protocolType: spec.protocolType,
    protocols: spec.protocols,
    assignment: spec.assignment ?? EMPTY_BYTES,
    awaitingJoin,
    awaitingSync: undefined,
    isNew: false,
  };
}

/** Same protocols, in the same order, with the same metadata bytes (Kafka's MemberMetadata.matches). */
export function sameProtocols(a: readonly GroupProtocol[], b: readonly GroupProtocol[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.name !== b[i]!.name || !a[i]!.metadata.equals(b[i]!.metadata)) return false;
  }
  return true;
}
