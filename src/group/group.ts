/**
 * One classic consumer group: its state, generation, members, chosen protocol
 * and committed offsets (Kafka's GroupMetadata). The rules of *when* things
 * happen (timers, rebalances, persistence) live in the coordinator; this
 * module keeps the group's invariants: the allowed state transitions, the
 * static-member and pending-member bookkeeping, the count of members awaiting
 * a join, and protocol selection across members.
 *
 * States and transitions (notes/consumer-group-classic.md):
 *   Empty <- PreparingRebalance
 *   PreparingRebalance <- Stable, CompletingRebalance, Empty
 *   CompletingRebalance <- PreparingRebalance
 *   Stable <- CompletingRebalance
 *   Dead <- any
 */
import { randomUUID } from 'node:crypto';
import { CONSUMER_PROTOCOL_TYPE, subscribedTopics } from './consumer-protocol.js';
import type { GroupMemberValue } from './offsets-records.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

const VALID_PREVIOUS: Record<GroupState, readonly GroupState[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: GROUP_STATES,
};

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

export function joinError(memberId: string, errorCode: number): JoinResult {
  return { errorCode, memberId, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, members: [] };
}

export function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

const EMPTY = Buffer.alloc(0);

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
  /** Session (or new-member join) expiry. */
  heartbeatTimer: NodeJS.Timeout | undefined;
}

export interface NewMember extends MemberIdentity {
  readonly protocolType: string;
  readonly protocols: readonly GroupProtocol[];
  readonly assignment?: Buffer;
}

export interface CommittedOffset {
  readonly offset: number;
  /** -1 when unknown. */
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
  /** Set only by OffsetCommit v1-4 with an explicit retention (old expiry semantics). */
  readonly expireTimestamp: number | undefined;
}

export interface MemberSummary {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly metadata: Buffer;
  readonly assignment: Buffer;
}

export interface GroupSummary {
  /** '' when the coordinator could not describe the group (Kafka's NoState). */
  readonly state: GroupState | '';
  readonly protocolType: string;
  readonly protocol: string;
  readonly members: readonly MemberSummary[];
}

export class IllegalGroupStateError extends Error {
  override readonly name = 'IllegalGroupStateError';
}

export class Group {
  state: GroupState;
  /** When the group last changed state (ms); undefined for groups loaded from records without it. */
  stateTimestamp: number | undefined;
  generationId = 0;
  protocolType: string | undefined;
  protocolName: string | undefined;
  leaderId: string | undefined;
  /** Set when a member joins during the initial (delayed) rebalance: the delay is extended. */
  newMemberAdded = false;
  /** Topics the members subscribe to (protocol "consumer"); undefined when not known. */
  subscribedTopics: ReadonlySet<string> | undefined;

  readonly members = new Map<string, Member>();
  /** group.instance.id -> member id */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet joined, with their expiry timers. */
  readonly pendingMembers = new Map<string, NodeJS.Timeout | undefined>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  numAwaitingJoin = 0;
  private readonly supportedProtocols = new Map<string, number>();

  /** topic -> partition -> committed offset */
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();
  /** "topic\0partition" -> number of commits being written */
  readonly pendingOffsetCommits = new Map<string, number>();

  /** The join phase timer (initial delay or rebalance timeout) and whether it may complete early. */
  joinTimer: NodeJS.Timeout | undefined;
  joinTimerIsInitialDelay = false;
  /** The sync phase timer. */
  syncTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly groupId: string,
    state: GroupState,
    now: number,
  ) {
    this.state = state;
    this.stateTimestamp = now;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  transitionTo(target: GroupState, now: number): void {
    if (!VALID_PREVIOUS[target].includes(this.state)) {
      throw new IllegalGroupStateError(`group ${this.groupId} cannot go from ${this.state} to ${target}`);
    }
    this.state = target;
    this.stateTimestamp = now;
  }

  /** PreparingRebalance may be entered from here. */
  canRebalance(): boolean {
    return VALID_PREVIOUS.PreparingRebalance.includes(this.state);
  }

  get size(): number {
    return this.members.size;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingMembers.has(memberId);
  }

  currentStaticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  /** The rebalance timeout of the group: the largest of its members'. */
  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) if (m.rebalanceTimeoutMs > max) max = m.rebalanceTimeoutMs;
    return max;
  }

  /** A new member id as Kafka makes them: `<group.instance.id or client id>-<uuid>`. */
  static generateMemberId(clientId: string, groupInstanceId: string | null): string {
    return `${groupInstanceId ?? clientId}-${randomUUID()}`;
  }

  /**
   * Whether a member with these protocols may join: an empty group takes any
   * non-empty protocol type and list; otherwise the type must match and one
   * protocol must be supported by every current member.
   */
  supportsProtocols(protocolType: string, protocolNames: readonly string[]): boolean {
    if (this.is('Empty')) return protocolType !== '' && protocolNames.length > 0;
    return this.protocolType === protocolType && protocolNames.some((p) => this.supportedProtocols.get(p) === this.members.size);
  }

  add(spec: NewMember, awaitingJoin: ((r: JoinResult) => void) | undefined): Member {
    const member: Member = {
      memberId: spec.memberId,
      groupInstanceId: spec.groupInstanceId,
      clientId: spec.clientId,
      clientHost: spec.clientHost,
      rebalanceTimeoutMs: spec.rebalanceTimeoutMs,
      sessionTimeoutMs: spec.sessionTimeoutMs,
      protocolType: spec.protocolType,
      protocols: spec.protocols,
      assignment: spec.assignment ?? EMPTY,
      awaitingJoin,
      awaitingSync: undefined,
      isNew: false,
      heartbeatTimer: undefined,
    };
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) {
        throw new IllegalGroupStateError(`static member ${member.groupInstanceId} is already in group ${this.groupId}`);
      }
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.leaderId ??= member.memberId;
    this.members.set(member.memberId, member);
    this.countProtocols(member, 1);
    if (awaitingJoin) this.numAwaitingJoin++;
    this.clearPendingMember(member.memberId);
    return member;
  }

  /** Removes a member or pending member id (a parked JoinGroup/SyncGroup is the caller's to answer). */
  remove(memberId: string): Member | undefined {
    const member = this.members.get(memberId);
    if (member) {
      this.members.delete(memberId);
      this.countProtocols(member, -1);
      if (member.awaitingJoin) this.numAwaitingJoin--;
      if (member.groupInstanceId !== null) this.staticMembers.delete(member.groupInstanceId);
      if (member.heartbeatTimer) clearTimeout(member.heartbeatTimer);
      member.heartbeatTimer = undefined;
    }
    if (this.isLeader(memberId)) this.leaderId = this.members.keys().next().value;
    this.clearPendingMember(memberId);
    this.pendingSyncMembers.delete(memberId);
    return member;
  }

  addPendingMember(memberId: string, timer: NodeJS.Timeout | undefined): void {
    this.pendingMembers.set(memberId, timer);
  }

  clearPendingMember(memberId: string): void {
    const timer = this.pendingMembers.get(memberId);
    if (timer) clearTimeout(timer);
    this.pendingMembers.delete(memberId);
  }

  /**
   * Replaces the protocols (and, when given, the timeouts) of a member and
   * sets or clears its parked JoinGroup. Returns the JoinGroup callback it
   * replaced, if any, so the caller can answer it.
   */
  updateMember(
    member: Member,
    protocols: readonly GroupProtocol[],
    awaitingJoin: ((r: JoinResult) => void) | undefined,
    timeouts?: { rebalanceTimeoutMs: number; sessionTimeoutMs: number },
  ): ((r: JoinResult) => void) | undefined {
    this.countProtocols(member, -1);
    member.protocols = protocols;
    this.countProtocols(member, 1);
    if (timeouts) {
      member.rebalanceTimeoutMs = timeouts.rebalanceTimeoutMs;
      member.sessionTimeoutMs = timeouts.sessionTimeoutMs;
    }
    const replaced = awaitingJoin && member.awaitingJoin !== awaitingJoin ? member.awaitingJoin : undefined;
    if (awaitingJoin && !member.awaitingJoin) this.numAwaitingJoin++;
    else if (!awaitingJoin && member.awaitingJoin) this.numAwaitingJoin--;
    member.awaitingJoin = awaitingJoin;
    return replaced;
  }

  /**
   * Gives a static member a new member id; a JoinGroup or SyncGroup still
   * parked under the old id is answered FENCED_INSTANCE_ID.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string, fencedCode: number): Member {
    const member = this.members.get(oldMemberId);
    if (!member) throw new IllegalGroupStateError(`static member ${groupInstanceId} has no member ${oldMemberId}`);
    this.members.delete(oldMemberId);
    this.maybeInvokeJoin(member, joinError(oldMemberId, fencedCode));
    this.maybeInvokeSync(member, syncError(fencedCode));
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return member;
  }

  /** Answers a parked JoinGroup, if any; true when there was one. */
  maybeInvokeJoin(member: Member, result: JoinResult): boolean {
    const cb = member.awaitingJoin;
    if (!cb) return false;
    member.awaitingJoin = undefined;
    this.numAwaitingJoin--;
    cb(result);
    return true;
  }

  /** Answers a parked SyncGroup, if any; true when there was one. */
  maybeInvokeSync(member: Member, result: SyncResult): boolean {
    const cb = member.awaitingSync;
    if (!cb) return false;
    member.awaitingSync = undefined;
    cb(result);
    return true;
  }

  /** Every known member has a JoinGroup parked and no MEMBER_ID_REQUIRED member is outstanding. */
  hasAllMembersJoined(): boolean {
    return this.members.size === this.numAwaitingJoin && this.pendingMembers.size === 0;
  }

  notYetRejoinedMembers(): Member[] {
    return [...this.members.values()].filter((m) => !m.awaitingJoin);
  }

  /**
   * When the leader has not rejoined, any member that has becomes leader.
   * False when no member rejoined (or there is no leader).
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === undefined) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.awaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.awaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  /**
   * The protocol every member supports that most members list first among
   * those (ties: the first such protocol in member order).
   */
  selectProtocol(): string {
    if (this.members.size === 0) throw new IllegalGroupStateError(`cannot select a protocol for empty group ${this.groupId}`);
    const candidates = new Set<string>();
    for (const [name, count] of this.supportedProtocols) if (count === this.members.size) candidates.add(name);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const vote = m.protocols.find((p) => candidates.has(p.name));
      if (vote) votes.set(vote.name, (votes.get(vote.name) ?? 0) + 1);
    }
    let best: string | undefined;
    let bestVotes = 0;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    if (best === undefined) throw new IllegalGroupStateError(`no protocol common to all members of group ${this.groupId}`);
    return best;
  }

  /** Ends the join phase: next generation, protocol chosen, CompletingRebalance (or Empty without members). */
  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance', now);
    } else {
      this.protocolName = undefined;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('Empty', now);
    }
    this.pendingSyncMembers.clear();
  }

  /** The member's metadata for the group's protocol. */
  metadataOf(member: Member, protocol = this.protocolName): Buffer {
    return member.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY;
  }

  /** Member list for the leader's JoinGroup response. */
  currentMemberMetadata(): JoinMemberInfo[] {
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: this.metadataOf(m) }));
  }

  computeSubscribedTopics(): ReadonlySet<string> | undefined {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return undefined;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === undefined) return undefined;
    const topics = new Set<string>();
    try {
      for (const m of this.members.values()) for (const t of subscribedTopics(this.metadataOf(m))) topics.add(t);
    } catch {
      return undefined;
    }
    return topics;
  }

  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics?.has(topic) ?? false;
  }

  summary(): GroupSummary {
    const stable = this.is('Stable');
    const protocol = stable ? (this.protocolName ?? '') : '';
    return {
      state: this.state,
      protocolType: this.protocolType ?? '',
      protocol,
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? this.metadataOf(m) : EMPTY,
        assignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  // ------------------------------------------------------------ offsets

  offset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  hasOffsets(): boolean {
    return this.offsets.size > 0 || this.pendingOffsetCommits.size > 0;
  }

  putOffset(topic: string, partition: number, value: CommittedOffset): void {
    let byPartition = this.offsets.get(topic);
    if (!byPartition) {
      byPartition = new Map();
      this.offsets.set(topic, byPartition);
    }
    byPartition.set(partition, value);
  }

  /** Removes a committed offset; a commit of it still being written will not be applied. */
  removeOffset(topic: string, partition: number): CommittedOffset | undefined {
    this.pendingOffsetCommits.delete(pendingKey(topic, partition));
    const byPartition = this.offsets.get(topic);
    const value = byPartition?.get(partition);
    if (byPartition && value) {
      byPartition.delete(partition);
      if (byPartition.size === 0) this.offsets.delete(topic);
    }
    return value;
  }

  allOffsets(): Array<{ topic: string; partition: number; value: CommittedOffset }> {
    const out: Array<{ topic: string; partition: number; value: CommittedOffset }> = [];
    for (const [topic, byPartition] of this.offsets) for (const [partition, value] of byPartition) out.push({ topic, partition, value });
    return out;
  }

  hasPendingCommit(topic: string, partition: number): boolean {
    return this.pendingOffsetCommits.has(pendingKey(topic, partition));
  }

  /** Notes a commit being written. */
  beginPendingCommit(topic: string, partition: number): void {
    const key = pendingKey(topic, partition);
    this.pendingOffsetCommits.set(key, (this.pendingOffsetCommits.get(key) ?? 0) + 1);
  }

  /** Notes a commit written (or failed); false when its offset was removed meanwhile (it must not be applied). */
  endPendingCommit(topic: string, partition: number): boolean {
    const key = pendingKey(topic, partition);
    const n = this.pendingOffsetCommits.get(key);
    if (n === undefined) return false;
    if (n <= 1) this.pendingOffsetCommits.delete(key);
    else this.pendingOffsetCommits.set(key, n - 1);
    return true;
  }

  /**
   * Removes and returns the offsets whose retention has passed (Kafka's
   * removeExpiredOffsets): in an Empty group every offset once the group has
   * been empty for the retention time (or, without a state timestamp, since
   * its commit); in a Stable consumer group whose subscriptions are known,
   * offsets of topics no member subscribes to, by commit time; in a group
   * used only for commits (no protocol type), each offset by commit time.
   * Offsets with an explicit expire time (OffsetCommit v1-4) expire then.
   * Offsets with a commit being written are kept.
   */
  removeExpiredOffsets(now: number, retentionMs: number): Array<{ topic: string; partition: number }> {
    let base: ((o: CommittedOffset) => number) | undefined;
    let keep: ReadonlySet<string> = new Set();
    if (this.protocolType !== undefined && this.protocolType !== '' && this.is('Empty')) {
      const since = this.stateTimestamp;
      base = (o) => since ?? o.commitTimestamp;
    } else if (this.protocolType === CONSUMER_PROTOCOL_TYPE && this.subscribedTopics !== undefined && this.is('Stable')) {
      base = (o) => o.commitTimestamp;
      keep = this.subscribedTopics;
    } else if (this.protocolType === undefined || this.protocolType === '') {
      base = (o) => o.commitTimestamp;
    }
    if (!base) return [];
    const expired: Array<{ topic: string; partition: number }> = [];
    for (const { topic, partition, value } of this.allOffsets()) {
      if (keep.has(topic) || this.hasPendingCommit(topic, partition)) continue;
      const due = value.expireTimestamp !== undefined ? now >= value.expireTimestamp : now - base(value) >= retentionMs;
      if (due) expired.push({ topic, partition });
    }
    for (const e of expired) this.removeOffset(e.topic, e.partition);
    return expired;
  }

  private countProtocols(member: Member, delta: 1 | -1): void {
    for (const p of member.protocols) {
      const n = (this.supportedProtocols.get(p.name) ?? 0) + delta;
      if (n <= 0) this.supportedProtocols.delete(p.name);
      else this.supportedProtocols.set(p.name, n);
    }
  }
}

/** Same protocols, in the same order, with the same metadata bytes (Kafka's MemberMetadata.matches). */
export function sameProtocols(a: readonly GroupProtocol[], b: readonly GroupProtocol[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.name !== b[i]!.name || !a[i]!.metadata.equals(b[i]!.metadata)) return false;
  }
  return true;
}

function pendingKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
