/**
 * Kafka's topic name rules (org.apache.kafka.common.internals.Topic): ASCII
 * letters, digits, '.', '_' and '-', at most 249 characters, not '.' or '..';
 * and two names that differ only in '.' versus '_' collide (their metric names
 * would be the same).
 */
export const MAX_TOPIC_NAME_LENGTH = 249;

const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** Topics Kafka treats as internal. */
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set(['__consumer_offsets', '__transaction_state']);

/** Returns why a topic name is illegal (Kafka's wording), or undefined when it is legal. */
export function topicNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'Topic name is illegal, it can\'t be empty';
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name}`;
  }
  if (!LEGAL.test(name)) {
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return undefined;
}

/** The name with '.' read as '_': two topics with the same collision key collide. */
export function collisionKey(name: string): string {
  return name.replace(/\./g, '_');
}
