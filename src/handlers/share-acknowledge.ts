/**
 * ShareAcknowledge: v1-2 (KIP-932).
 * Behavior: acknowledges records a member acquired by ShareFetch, in its
 * share session (the epoch must be the session's; -1 closes the session after
 * the acknowledgements and releases what the member still holds). Each
 * partition's batches are checked (INVALID_REQUEST), applied all or none
 * (INVALID_RECORD_STATE for records the member does not hold) and persisted
 * by the share coordinator before the answer: ACCEPT, RELEASE (back to
 * AVAILABLE, archived at group.share.delivery.count.limit), REJECT, GAP, and
 * from v2 with IsRenewAck RENEW (a fresh acquisition lock).
 * Top-level errors: INVALID_GROUP_ID, INVALID_REQUEST (no member id),
 * SHARE_SESSION_NOT_FOUND, INVALID_SHARE_SESSION_EPOCH (epoch 0 included: a
 * session opens with ShareFetch).
 * Authorization (an authorizer's, as Kafka's KafkaApis): READ on the group,
 * checked first (else the top-level GROUP_AUTHORIZATION_FAILED); READ on each
 * topic, else TOPIC_AUTHORIZATION_FAILED on its partitions (not applied).
 * Version notes: v0 is not served; v2 adds IsRenewAck and
 * AcquisitionLockTimeoutMs.
 */
import { apiByKey, ApiKey, ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import { authorize, authorizedTopicIds } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

type Request = MessageValue<typeof schemas.shareAcknowledgeRequest>;
type Response = MessageInput<typeof schemas.shareAcknowledgeResponse>;

export const shareAcknowledgeHandler = defineHandler({
  api: apiByKey(ApiKey.ShareAcknowledge)!,
  request: schemas.shareAcknowledgeRequest,
  response: schemas.shareAcknowledgeResponse,
  minVersion: 1,
  maxVersion: 2,
  async handle(ctx, req: Request): Promise<Response> {
    const { services, version } = ctx;
    const shares = services.shareFetches;
    const groupId = req.groupId ?? '';
    const lockMs = shares.recordLockDurationMs(groupId);
    const fail = (errorCode: number, errorMessage: string | null): Response => ({ throttleTimeMs: 0, errorCode, errorMessage, acquisitionLockTimeoutMs: lockMs, responses: [], nodeEndpoints: [] });
    const memberId = req.memberId ?? '';
    if (!authorize(ctx, 'READ', 'GROUP', groupId)) return { ...fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, null), acquisitionLockTimeoutMs: 0 };
    if (groupId === '') return fail(ErrorCode.INVALID_GROUP_ID, 'The group id is empty');
    if (memberId === '') return fail(ErrorCode.INVALID_REQUEST, 'The member id is empty');
    const context = shares.sessions.acknowledgeContext(groupId, memberId, req.shareSessionEpoch);
    if (context.kind === 'error') return fail(context.errorCode, context.errorMessage);
    const renew = { supportsRenew: version >= 2, isRenewAck: version >= 2 && req.isRenewAck };
    const nodeId = services.identity.nodeId;
    const readable = authorizedTopicIds(ctx, 'READ');
    const responses = await Promise.all(
      req.topics.map(async (t) => ({
        topicId: t.topicId,
        partitions: await Promise.all(
          t.partitions.map(async (p) => {
            const batches = p.acknowledgementBatches.map((b) => ({ firstOffset: Number(b.firstOffset), lastOffset: Number(b.lastOffset), acknowledgeTypes: b.acknowledgeTypes }));
            if (!readable(t.topicId)) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null, currentLeader: { leaderId: -1, leaderEpoch: -1 } };
            const r = await shares.partitions.acknowledge(groupId, memberId, { topicId: t.topicId, partition: p.partitionIndex }, batches, renew);
            return { partitionIndex: p.partitionIndex, errorCode: r.errorCode, errorMessage: r.errorMessage, currentLeader: { leaderId: nodeId, leaderEpoch: 0 } };
          }),
        ),
      })),
    );
    if (context.isFinal) await shares.partitions.releaseMember(groupId, memberId);
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, acquisitionLockTimeoutMs: lockMs, responses, nodeEndpoints: [] };
  },
});
