/**
 * Regular-expression subscriptions (KIP-848's SubscribedTopicRegex), as Kafka
 * 4.x's GroupMetadataManager keeps them: a member subscribes to a regular
 * expression in RE2 syntax (re2-pattern.ts); the group resolves each
 * expression its members subscribe to against the broker's topic names, all
 * of them, internal ones too (Kafka lists every name of its metadata image),
 * a name matching when the whole name does (RE2/J `matches()`); the topics a
 * member's expression resolves to join its subscribed topic names for the
 * assignor and the reconciliation.
 *
 * When the resolutions are made (`updateRegularExpressions`, at a heartbeat,
 * before the member's change is applied to the group):
 * 1. A member that brings an expression the group has no resolution of has
 *    it compiled first: INVALID_REGULAR_EXPRESSION with Kafka's message when
 *    RE2 refuses it (Kafka's throwIfRegularExpressionIsInvalid).
 * 2. Resolutions of expressions no member subscribes to any more are dropped
 *    (Kafka writes their tombstones when the last member subscribed leaves or
 *    changes its expression; `dropUnsubscribed` does the same after a member
 *    is removed).
 * 3. Every expression of the group is resolved again when one has no
 *    resolution yet, or when a topic name came or went since the last
 *    resolution (Kafka's lastMetadataImageWithNewTopics; the broker's topic
 *    names version here, which also moves on when a topic is deleted). A group
 *    loaded from the log resolves at its first heartbeat.
 * 4. The caller bumps the group epoch when the member's expression changed or
 *    a resolution's topics did (Kafka: REGEX_UPDATED_AND_RESOLVED, or the
 *    resolution's result differing from what the group had).
 *
 * Differences from Kafka: Kafka resolves in a background executor and
 * applies the result in a later write, at most once per 10 s per group
 * (REGEX_BATCH_REFRESH_MIN_INTERVAL_MS), and also every
 * group.consumer.regex.refresh.interval.ms (for ACL changes). Here the
 * resolution runs inside the heartbeat (a linear scan of the names, each a
 * bounded-cost match), so a member sees a new matching topic at its next
 * heartbeat.
 *
 * With an authorizer, a resolution keeps only the topics the member whose
 * heartbeat made it may DESCRIBE (Kafka 4.1+, KIP-848's regex authorization:
 * `describable`, from the handler's session). Kafka also resolves again every
 * group.consumer.regex.refresh.interval.ms so that ACL changes apply; here an
 * ACL change applies at the next resolution (a topic name coming or going, or
 * an expression new to the group).
 */
import { ErrorCode, KafkaError } from '../../../protocol/index.js';
import type { ConsumerGroupMember } from './consumer-group-member.js';
import { compileRe2, PatternSyntaxError, type Re2Pattern } from '../../re2-pattern.js';

/** What an expression resolved to (Kafka's ResolvedRegularExpression; the ConsumerGroupRegularExpression record). */
export interface ResolvedRegularExpression {
  readonly topics: ReadonlySet<string>;
  /** The broker's topic names version it was resolved at. */
  readonly version: number;
  /** When it was resolved (ms). */
  readonly timestamp: number;
}

/** The broker's topic names, and a version that moves on when one comes or goes. */
export interface TopicNames {
  names(): Iterable<string>;
  readonly namesVersion: number;
}

/** What of a consumer group the resolutions use. */
export interface RegexGroup {
  readonly members: ReadonlyMap<string, ConsumerGroupMember>;
  /** Expression → its resolution. */
  readonly resolvedRegularExpressions: Map<string, ResolvedRegularExpression>;
  /** The topic names version of the last resolution in this process; -1 before the first (a loaded group). */
  regexNamesVersion: number;
}

export interface RegexUpdate {
  /** The member's expression changed. */
  readonly regexChanged: boolean;
  /** A resolution now names other topics than before (or one was dropped that named some). */
  readonly topicsChanged: boolean;
  /** Expressions whose resolution was dropped: their tombstones are written. */
  readonly removed: readonly string[];
  /** The resolutions made now: a record each. */
  readonly resolved: ReadonlyMap<string, ResolvedRegularExpression>;
}

/** No change of the group's regular expressions (a classic member's update). */
export const NO_REGEX_UPDATE: RegexUpdate = { regexChanged: false, topicsChanged: false, removed: [], resolved: new Map() };

/** Kafka's Utils.throwIfRegularExpressionIsInvalid: INVALID_REGULAR_EXPRESSION when RE2 refuses `regex`. */
export function compileSubscribedTopicRegex(regex: string): Re2Pattern {
  try {
    return compileRe2(regex);
  } catch (err) {
    if (!(err instanceof PatternSyntaxError)) throw err;
    throw new KafkaError(ErrorCode.INVALID_REGULAR_EXPRESSION, `SubscribedTopicRegex \`${regex}\` is not a valid regular expression: ${err.description}.`);
  }
}

/** The expressions the members subscribe to, with how many members subscribe to each. */
export function subscribedRegularExpressions(members: Iterable<ConsumerGroupMember>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of members) if (m.subscribedTopicRegex !== '') counts.set(m.subscribedTopicRegex, (counts.get(m.subscribedTopicRegex) ?? 0) + 1);
  return counts;
}

/** The topic names a member subscribes to: its names and what its expression resolved to. */
export function memberSubscribedTopicNames(member: ConsumerGroupMember, resolved: ReadonlyMap<string, ResolvedRegularExpression>): ReadonlySet<string> {
  if (member.subscribedTopicRegex === '') return member.subscribedTopicNames;
  const topics = resolved.get(member.subscribedTopicRegex)?.topics;
  if (topics === undefined || topics.size === 0) return member.subscribedTopicNames;
  return new Set([...member.subscribedTopicNames, ...topics]);
}

/**
 * Resolves the expressions against the topic names (Kafka's refreshRegularExpressions). An expression that
 * does not compile (a resolution loaded from a log Kafka wrote, in a syntax this parser refuses) resolves to
 * no topic, as Kafka ignores one it cannot parse.
 */
/** The names among `names` a member may DESCRIBE (an authorizer's decision); absent: all of them. */
export type DescribableTopics = (names: Iterable<string>) => ReadonlySet<string>;

export function resolveRegularExpressions(regexes: Iterable<string>, topics: TopicNames, now: number, describable?: DescribableTopics): Map<string, ResolvedRegularExpression> {
  const patterns: Array<{ regex: string; pattern: Re2Pattern | null; topics: Set<string> }> = [];
  for (const regex of regexes) {
    let pattern: Re2Pattern | null = null;
    try {
      pattern = compileRe2(regex);
    } catch (err) {
      if (!(err instanceof PatternSyntaxError)) throw err;
    }
    patterns.push({ regex, pattern, topics: new Set() });
  }
  for (const name of topics.names()) {
    for (const p of patterns) if (p.pattern?.matches(name) === true) p.topics.add(name);
  }
  if (describable !== undefined) {
    const allowed = describable(new Set(patterns.flatMap((p) => [...p.topics])));
    for (const p of patterns) for (const name of p.topics) if (!allowed.has(name)) p.topics.delete(name);
  }
  return new Map(patterns.map((p) => [p.regex, { topics: p.topics, version: topics.namesVersion, timestamp: now }]));
}

/**
 * A member's heartbeat changes it from `previous` to `updated` (steps 1-3 above): validates a new expression,
 * drops and makes resolutions in `group`. Call it before the member is put in the group; `others` are the
 * group's members once this heartbeat is applied, without `updated` (a static member it replaces left out).
 * Throws INVALID_REGULAR_EXPRESSION before changing anything.
 */
export function updateRegularExpressions(
  group: RegexGroup,
  previous: ConsumerGroupMember,
  updated: ConsumerGroupMember,
  others: Iterable<ConsumerGroupMember>,
  topics: TopicNames,
  now: number,
  describable?: DescribableTopics,
): RegexUpdate {
  const regex = updated.subscribedTopicRegex;
  const regexChanged = previous.subscribedTopicRegex !== regex;
  if (regexChanged && regex !== '' && !group.resolvedRegularExpressions.has(regex)) compileSubscribedTopicRegex(regex);

  const subscribed = subscribedRegularExpressions(others);
  if (regex !== '') subscribed.set(regex, (subscribed.get(regex) ?? 0) + 1);
  const removed = dropExcept(group, subscribed);
  let topicsChanged = removed.topicsChanged;

  const stale = group.regexNamesVersion !== topics.namesVersion || [...subscribed.keys()].some((r) => !group.resolvedRegularExpressions.has(r));
  let resolved: ReadonlyMap<string, ResolvedRegularExpression> = new Map();
  if (stale && subscribed.size > 0) {
    resolved = resolveRegularExpressions(subscribed.keys(), topics, now, describable);
    for (const [r, resolution] of resolved) {
      const before = group.resolvedRegularExpressions.get(r);
      if (before === undefined ? resolution.topics.size > 0 : !sameSet(before.topics, resolution.topics)) topicsChanged = true;
      group.resolvedRegularExpressions.set(r, resolution);
    }
    group.regexNamesVersion = topics.namesVersion;
  }
  return { regexChanged, topicsChanged, removed: removed.regexes, resolved };
}

/** After members were removed: drops the resolutions no member needs any more; returns their expressions. */
export function dropUnsubscribed(group: RegexGroup): string[] {
  return dropExcept(group, subscribedRegularExpressions(group.members.values())).regexes;
}

function dropExcept(group: RegexGroup, subscribed: ReadonlyMap<string, number>): { regexes: string[]; topicsChanged: boolean } {
  const regexes: string[] = [];
  let topicsChanged = false;
  for (const [r, resolution] of group.resolvedRegularExpressions) {
    if (subscribed.has(r)) continue;
    group.resolvedRegularExpressions.delete(r);
    regexes.push(r);
    if (resolution.topics.size > 0) topicsChanged = true;
  }
  return { regexes, topicsChanged };
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
