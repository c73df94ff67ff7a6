/**
 * Share sessions (KIP-932; Kafka's ShareSessionCache and ShareSession): what
 * a share consumer fetches from this broker, kept across its ShareFetch and
 * ShareAcknowledge requests so that each request names only what changed.
 * A session is keyed by (group id, member id) and counts epochs:
 *
 * - ShareSessionEpoch 0 opens a session (replacing the member's previous one)
 *   with the request's partitions; the next request must carry epoch 1. When
 *   group.share.max.share.sessions sessions are open, a new one is refused
 *   with SHARE_SESSION_LIMIT_REACHED. Acknowledgements are not allowed in the
 *   request that opens a session (INVALID_REQUEST).
 * - Epoch n > 0: the member's session must exist (SHARE_SESSION_NOT_FOUND) at
 *   epoch n (INVALID_SHARE_SESSION_EPOCH); the request's partitions are added,
 *   its forgotten topics removed, and the epoch moves to n + 1 (after
 *   2^31 - 1 it wraps to 1).
 * - Epoch -1 closes the session (it must exist): the request may acknowledge
 *   but fetches nothing, and the member's acquired records are released.
 *
 * A ShareAcknowledge checks the same way without changing the partitions
 * (epoch 0 has no meaning there: INVALID_SHARE_SESSION_EPOCH) and moves the
 * epoch too. Sessions end when closed, when the connection that opened them closes (Kafka's disconnect listener:
 * the member's records are then released at once rather than when their
 * locks expire), or when the cache is closed; not when their member leaves
 * the group (as Kafka: a client's close leaves the group, then acknowledges
 * in the closing request).
 */
import { ErrorCode } from '../../protocol/index.js';


export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;

export interface SessionPartition {
  readonly topicId: string;
  readonly partition: number;
}

export interface ShareSession {
  readonly groupId: string;
  readonly memberId: string;
  /** The epoch the next request must carry. */
  epoch: number;
  /** In the order they were added. */
  readonly partitions: Map<string, SessionPartition>;
  /** The connection whose ShareFetch opened it: its close ends the session (connectionClosed). */
  readonly connectionId: number;
}

export type ShareSessionContext =
  | { readonly kind: 'error'; readonly errorCode: number; readonly errorMessage: string }
  | { readonly kind: 'session'; readonly session: ShareSession; readonly isNew: boolean; readonly isFinal: boolean };

function keyOf(groupId: string, memberId: string): string {
  return `${groupId}\u0000${memberId}`;
}

export function partitionKey(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

function nextEpoch(epoch: number): number {
  return epoch >= 0x7fffffff ? 1 : epoch + 1;
}

export class ShareSessionCache {
  private readonly sessions = new Map<string, ShareSession>();

  constructor(private readonly maxSessions: () => number) {}

  get size(): number {
    return this.sessions.size;
  }

  get(groupId: string, memberId: string): ShareSession | undefined {
    return this.sessions.get(keyOf(groupId, memberId));
  }

  /** The session a ShareFetch works in (see the opening comment). */
  fetchContext(req: {
    groupId: string;
    memberId: string;
    epoch: number;
    partitions: readonly SessionPartition[];
    forgotten: readonly SessionPartition[];
    hasAcknowledgements: boolean;
    connectionId: number;
  }): ShareSessionContext {
    const key = keyOf(req.groupId, req.memberId);
    if (req.epoch === INITIAL_EPOCH) {
      if (req.hasAcknowledgements) return error(ErrorCode.INVALID_REQUEST, 'Acknowledge data present on initial epoch');
      this.sessions.delete(key);
      if (this.sessions.size >= this.maxSessions()) return error(ErrorCode.SHARE_SESSION_LIMIT_REACHED, 'The share session cache is full');
      const session: ShareSession = { groupId: req.groupId, memberId: req.memberId, epoch: nextEpoch(INITIAL_EPOCH), partitions: new Map(), connectionId: req.connectionId };
      for (const p of req.partitions) session.partitions.set(partitionKey(p.topicId, p.partition), p);
      this.sessions.set(key, session);
      return { kind: 'session', session, isNew: true, isFinal: false };
    }
    const session = this.sessions.get(key);
    if (session === undefined) return error(ErrorCode.SHARE_SESSION_NOT_FOUND, 'Share session not found');
    if (req.epoch === FINAL_EPOCH) {
      this.sessions.delete(key);
      return { kind: 'session', session, isNew: false, isFinal: true };
    }
    if (req.epoch !== session.epoch) return error(ErrorCode.INVALID_SHARE_SESSION_EPOCH, `Expected epoch ${session.epoch}, got ${req.epoch}`);
    for (const p of req.partitions) session.partitions.set(partitionKey(p.topicId, p.partition), p);
    for (const p of req.forgotten) session.partitions.delete(partitionKey(p.topicId, p.partition));
    session.epoch = nextEpoch(session.epoch);
    return { kind: 'session', session, isNew: false, isFinal: false };
  }

  /** The session a ShareAcknowledge works in. */
  acknowledgeContext(groupId: string, memberId: string, epoch: number): ShareSessionContext {
    if (epoch === INITIAL_EPOCH) return error(ErrorCode.INVALID_SHARE_SESSION_EPOCH, 'A share session cannot start with ShareAcknowledge');
    const key = keyOf(groupId, memberId);
    const session = this.sessions.get(key);
    if (session === undefined) return error(ErrorCode.SHARE_SESSION_NOT_FOUND, 'Share session not found');
    if (epoch === FINAL_EPOCH) {
      this.sessions.delete(key);
      return { kind: 'session', session, isNew: false, isFinal: true };
    }
    if (epoch !== session.epoch) return error(ErrorCode.INVALID_SHARE_SESSION_EPOCH, `Expected epoch ${session.epoch}, got ${epoch}`);
    session.epoch = nextEpoch(session.epoch);
    return { kind: 'session', session, isNew: false, isFinal: false };
  }

  /** Removes the member's session (it left the group); true when there was one. */
  remove(groupId: string, memberId: string): boolean {
    return this.sessions.delete(keyOf(groupId, memberId));
  }

  /**
   * The connection closed: the sessions it opened end, as Kafka's ShareSessionCache ends them on a
   * disconnect. Returns them, for their members' records to be released. A session the member opened
   * again on another connection since is not the closed connection's and stays.
   */
  connectionClosed(connectionId: number): ShareSession[] {
    const ended: ShareSession[] = [];
    for (const [key, session] of this.sessions) {
      if (session.connectionId !== connectionId) continue;
      this.sessions.delete(key);
      ended.push(session);
    }
    return ended;
  }

  clear(): void {
    this.sessions.clear();
  }
}

function error(errorCode: number, errorMessage: string): ShareSessionContext {
  return { kind: 'error', errorCode, errorMessage };
}
