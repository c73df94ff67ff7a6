/**
 * One classic consumer group: its state, generation, members, chosen protocol
 * and committed offsets (Kafka's ClassicGroup). The rules of *when* things
 * happen (timers, rebalances, persistence) live in the rebalance protocol
 * (classic-rebalance.ts, member-sessions.ts); this module keeps the group's
 * invariants: the allowed state transitions, the static-member and
 * pending-member bookkeeping, the count of members awaiting a join, and
 * protocol selection across members. Its members are group-member.ts, its
 * offsets group-offsets.ts.
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
import { EMPTY_BYTES, joinError, newMember, syncError, type GroupProtocol, type JoinMemberInfo, type JoinResult, type Member, type MemberSummary, type NewMember, type SyncResult } from './group-member.js';
import { GroupOffsets, type CommittedOffset, type ExpiryRule, type TopicPartition } from './group-offsets.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

const VALID_PREVIOUS: Record<GroupState, readonly GroupState[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: GROUP_STATES,
};

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
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet joined (each with an expiry timer in the shard). */
  readonly pendingMembers = new Set<string>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  numAwaitingJoin = 0;
  private readonly supportedProtocols = new Map<string, number>();

  /** The join phase's timer is the initial rebalance delay: the join may not complete early. */
  joinTimerIsInitialDelay = false;

  /** `offsets`: a group that takes another's place under its id (a conversion between protocols) keeps its offsets. */
  constructor(
    readonly groupId: string,
    state: GroupState,
    now: number,
    readonly offsets = new GroupOffsets(),
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
    const member = newMember(spec, awaitingJoin);
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

  /** Removes a member or pending member id (a parked JoinGroup/SyncGroup and the timers are the caller's). */
  remove(memberId: string): Member | undefined {
    const member = this.members.get(memberId);
    if (member) {
      this.members.delete(memberId);
      this.countProtocols(member, -1);
      if (member.awaitingJoin) this.numAwaitingJoin--;
      if (member.groupInstanceId !== null) this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.isLeader(memberId)) this.leaderId = this.members.keys().next().value;
    this.clearPendingMember(memberId);
    this.pendingSyncMembers.delete(memberId);
    return member;
  }

  addPendingMember(memberId: string): void {
    this.pendingMembers.add(memberId);
  }

  clearPendingMember(memberId: string): void {
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
    return member.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY_BYTES;
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
        metadata: stable ? this.metadataOf(m) : EMPTY_BYTES,
        assignment: stable ? m.assignment : EMPTY_BYTES,
      })),
    };
  }

  // ------------------------------------------------------------ offsets

  /** Offsets committed or being committed. */
  hasOffsets(): boolean {
    return !this.offsets.isEmpty;
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
  removeExpiredOffsets(now: number, retentionMs: number): TopicPartition[] {
    const rule = this.expiryRule();
    return rule ? this.offsets.removeExpired(now, retentionMs, rule) : [];
  }

  private expiryRule(): ExpiryRule | undefined {
    if (this.protocolType !== undefined && this.protocolType !== '' && this.is('Empty')) {
      const since = this.stateTimestamp;
      return { base: (o: CommittedOffset) => since ?? o.commitTimestamp, keep: new Set() };
    }
    if (this.protocolType === CONSUMER_PROTOCOL_TYPE && this.subscribedTopics !== undefined && this.is('Stable')) {
      return { base: (o) => o.commitTimestamp, keep: this.subscribedTopics };
    }
    if (this.protocolType === undefined || this.protocolType === '') return { base: (o) => o.commitTimestamp, keep: new Set() };
    return undefined;
  }

  private countProtocols(member: Member, delta: 1 | -1): void {
    for (const p of member.protocols) {
      const n = (this.supportedProtocols.get(p.name) ?? 0) + delta;
      if (n <= 0) this.supportedProtocols.delete(p.name);
      else this.supportedProtocols.set(p.name, n);
    }
  }
}
