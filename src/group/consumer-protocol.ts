/**
 * The "consumer" embedded protocol's subscription (ConsumerProtocolSubscription
 * v0-3, int16 version prefix), read by the coordinator only to learn which
 * topics a consumer group is subscribed to: offset expiry keeps the offsets
 * of subscribed topics, and OffsetDelete refuses them
 * (GROUP_SUBSCRIBED_TO_TOPIC). Everything else about member metadata and
 * assignments is opaque to the broker.
 */
import { decode, message, ProtocolError } from '../../protocol/index.js';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/**
 * Version 0 of the subscription, the prefix of every later version (they only
 * append fields): Kafka's coordinator reads every version with it, so do we.
 */
const subscriptionV0 = message({
  name: 'ConsumerProtocolSubscription',
  apiKey: -1,
  kind: 'response',
  valid: '0',
  flexible: 'none',
  fields: [
    { name: 'topics', type: '[]string', versions: '0+' },
    { name: 'userData', type: 'bytes', versions: '0+', nullable: '0+', default: null },
  ],
});

/** The topics of a consumer subscription; throws ProtocolError for bytes that are not one. */
export function subscribedTopics(metadata: Buffer): string[] {
  if (metadata.length < 2) throw new ProtocolError('consumer subscription shorter than its version');
  const version = metadata.readInt16BE(0);
  if (version < 0) throw new ProtocolError(`invalid consumer subscription version ${version}`);
  return decode(subscriptionV0, 0, metadata, 2).topics;
}
