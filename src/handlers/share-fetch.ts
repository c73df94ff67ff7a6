/**
 * ShareFetch: v1-2 (KIP-932).
 * Behavior: works in the member's share session (share/share-session-cache.ts:
 * epoch 0 opens it with the request's partitions, later epochs add the
 * request's partitions and drop its forgotten topics, -1 closes it). First
 * the piggybacked acknowledgements are applied and persisted, per partition;
 * then every partition of the session is read from its share-partition's
 * next fetch offset and the records found are acquired for the member
 * (share/share-partition-manager.ts), up to MaxRecords in all (BatchSize
 * records per AcquiredRecords entry; ShareAcquireMode 1, record_limit, makes
 * MaxRecords exact) and MaxBytes (capped by fetch.max.bytes). Records are the
 * stored batches holding acquired records, as Fetch answers them. When fewer
 * than MinBytes were acquired the request waits up to MaxWaitMs for appends
 * or released records. A closing request (epoch -1) fetches nothing and
 * releases what the member still holds; so does the close of the connection
 * that opened the session (as Kafka's disconnect listener), and a request
 * still waiting on a connection that closes acquires nothing more (its
 * answer would go nowhere). Membership is not
 * checked here, as Kafka does not (the group coordinator decides assignments;
 * a fetch by any member id is served). IsRenewAck (v2) requests only
 * acknowledge (RENEW extends locks). The response lists the partitions with
 * records, an error or an acknowledgement answer, and
 * AcquisitionLockTimeoutMs (group.share.record.lock.duration.ms).
 * Top-level errors: INVALID_GROUP_ID (no group id), INVALID_REQUEST (no member
 * id, MaxRecords or BatchSize not positive, an unknown ShareAcquireMode,
 * acknowledgements in the opening request), SHARE_SESSION_NOT_FOUND,
 * INVALID_SHARE_SESSION_EPOCH, SHARE_SESSION_LIMIT_REACHED (an opening
 * request, epoch 0, when group.share.max.share.sessions sessions are open;
 * answered after MaxWaitMs, as Kafka answers it).
 * Per-partition errors: UNKNOWN_TOPIC_ID, UNKNOWN_TOPIC_OR_PARTITION, the
 * share coordinator's (COORDINATOR_LOAD_IN_PROGRESS, FENCED_STATE_EPOCH, ...)
 * and KAFKA_STORAGE_ERROR; acknowledgement errors (AcknowledgeErrorCode):
 * INVALID_REQUEST for malformed batches, INVALID_RECORD_STATE for records
 * not acquired by the member.
 * Authorization (an authorizer's, as Kafka's KafkaApis): READ on the group,
 * checked first (else the top-level GROUP_AUTHORIZATION_FAILED); READ on each
 * topic of the session: a partition not allowed is answered
 * TOPIC_AUTHORIZATION_FAILED in every response and nothing is acquired from
 * it, and its acknowledgements get TOPIC_AUTHORIZATION_FAILED (not applied).
 * Version notes: v0 (Kafka 4.0's early access) is not served; v1 adds
 * MaxRecords, BatchSize, AcquisitionLockTimeoutMs; v2 ShareAcquireMode and
 * IsRenewAck.
 */
import { apiByKey, ApiKey, ErrorCode, schemas, type MessageInput, type MessageValue } from '../../protocol/index.js';
import type { ShareAcknowledgementBatch } from '../share/acknowledge.js';
import type { AcknowledgeOutcome, ShareFetchedPartition } from '../share/share-partition-manager.js';
import type { SessionPartition } from '../share/share-session-cache.js';
import { authorize, authorizedTopicIds } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

type Request = MessageValue<typeof schemas.shareFetchRequest>;
type Response = MessageInput<typeof schemas.shareFetchResponse>;
type PartitionResponse = NonNullable<NonNullable<Response['responses']>[number]['partitions']>[number];

export const shareFetchHandler = defineHandler({
  api: apiByKey(ApiKey.ShareFetch)!,
  request: schemas.shareFetchRequest,
  response: schemas.shareFetchResponse,
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
    const isRenewAck = version >= 2 && req.isRenewAck;
    if (!isRenewAck && (req.maxRecords <= 0 || req.batchSize <= 0)) return fail(ErrorCode.INVALID_REQUEST, 'MaxRecords and BatchSize must be positive');
    const acquireMode = version >= 2 ? req.shareAcquireMode : 0;
    if (acquireMode !== 0 && acquireMode !== 1) return fail(ErrorCode.INVALID_REQUEST, `Unknown ShareAcquireMode ${acquireMode}`);

    const partitions: SessionPartition[] = [];
    const acks: Array<{ p: SessionPartition; batches: ShareAcknowledgementBatch[] }> = [];
    for (const t of req.topics) {
      for (const p of t.partitions) {
        const sp = { topicId: t.topicId, partition: p.partitionIndex };
        partitions.push(sp);
        if (p.acknowledgementBatches.length > 0) acks.push({ p: sp, batches: p.acknowledgementBatches.map(ackBatch) });
      }
    }
    const forgotten = req.forgottenTopicsData.flatMap((f) => f.partitions.map((partition) => ({ topicId: f.topicId, partition })));
    const closed = shares.watchConnection(ctx.connection);
    const context = shares.sessions.fetchContext({ groupId, memberId, epoch: req.shareSessionEpoch, partitions, forgotten, hasAcknowledgements: acks.length > 0, connectionId: ctx.connection.id });
    if (context.kind === 'error') {
      // a full cache answers after MaxWaitMs, as Kafka's (the client does not retry at once)
      if (context.errorCode === ErrorCode.SHARE_SESSION_LIMIT_REACHED) await shares.idle(req.maxWaitMs, closed);
      return fail(context.errorCode, context.errorMessage);
    }

    const ackResults = new Map<string, AcknowledgeOutcome>();
    const renew = { supportsRenew: version >= 2, isRenewAck };
    const readable = authorizedTopicIds(ctx, 'READ');
    await Promise.all(
      acks.map(async ({ p, batches }) => {
        const outcome = readable(p.topicId) ? await shares.partitions.acknowledge(groupId, memberId, p, batches, renew) : { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null };
        ackResults.set(`${p.topicId}:${p.partition}`, outcome);
      }),
    );
    const sessionPartitions = [...context.session.partitions.values()];
    const refused = sessionPartitions.filter((p) => !readable(p.topicId));
    const allowed = refused.length === 0 ? sessionPartitions : sessionPartitions.filter((p) => readable(p.topicId));
    let fetched: ShareFetchedPartition[] = [];
    if (context.isFinal) {
      await shares.partitions.releaseMember(groupId, memberId);
    } else if (!isRenewAck && (allowed.length > 0 || refused.length === 0)) {
      // (nothing allowed to fetch: answered at once, as Kafka answers a fetch with no partition to read)
      fetched = await shares.partitions.fetch({
        groupId,
        memberId,
        partitions: allowed,
        maxBytes: Math.min(req.maxBytes, services.config.int('fetch.max.bytes')),
        minBytes: req.minBytes,
        maxWaitMs: req.maxWaitMs,
        maxRecords: req.maxRecords,
        batchSize: req.batchSize,
        acquireMode: acquireMode === 1 ? 'record_limit' : 'batch_optimized',
        closed,
      });
      ctx.connection.afterResponse(() => {
        for (const f of fetched) shares.releaseRecords(f.records);
      });
    }

    const nodeId = services.identity.nodeId;
    const byTopic = new Map<string, PartitionResponse[]>();
    const add = (topicId: string, r: PartitionResponse): void => {
      let list = byTopic.get(topicId);
      if (list === undefined) byTopic.set(topicId, (list = []));
      list.push(r);
    };
    const answered = new Set<string>();
    for (const f of fetched) {
      const key = `${f.topicId}:${f.partition}`;
      const ack = ackResults.get(key);
      if (f.acquiredRecords.length === 0 && f.errorCode === ErrorCode.NONE && ack === undefined && !context.isNew) continue;
      answered.add(key);
      add(f.topicId, {
        partitionIndex: f.partition,
        errorCode: f.errorCode,
        errorMessage: f.errorMessage,
        acknowledgeErrorCode: ack?.errorCode ?? ErrorCode.NONE,
        acknowledgeErrorMessage: ack?.errorMessage ?? null,
        currentLeader: { leaderId: f.errorCode === ErrorCode.NONE ? nodeId : -1, leaderEpoch: f.leaderEpoch },
        records: f.records,
        acquiredRecords: f.acquiredRecords.map((a) => ({ firstOffset: BigInt(a.firstOffset), lastOffset: BigInt(a.lastOffset), deliveryCount: a.deliveryCount })),
      });
    }
    for (const p of context.isFinal ? [] : refused) {
      const key = `${p.topicId}:${p.partition}`;
      answered.add(key);
      const ack = ackResults.get(key);
      add(p.topicId, {
        partitionIndex: p.partition,
        errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        errorMessage: null,
        acknowledgeErrorCode: ack?.errorCode ?? ErrorCode.NONE,
        acknowledgeErrorMessage: ack?.errorMessage ?? null,
        currentLeader: { leaderId: -1, leaderEpoch: -1 },
        records: [],
        acquiredRecords: [],
      });
    }
    for (const { p } of acks) {
      const key = `${p.topicId}:${p.partition}`;
      if (answered.has(key)) continue;
      const ack = ackResults.get(key);
      add(p.topicId, {
        partitionIndex: p.partition,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        acknowledgeErrorCode: ack?.errorCode ?? ErrorCode.NONE,
        acknowledgeErrorMessage: ack?.errorMessage ?? null,
        currentLeader: { leaderId: nodeId, leaderEpoch: 0 },
        records: [],
        acquiredRecords: [],
      });
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      acquisitionLockTimeoutMs: lockMs,
      responses: [...byTopic].map(([topicId, parts]) => ({ topicId, partitions: parts })),
      nodeEndpoints: [],
    };
  },
});

function ackBatch(b: { firstOffset: bigint; lastOffset: bigint; acknowledgeTypes: number[] }): ShareAcknowledgementBatch {
  return { firstOffset: Number(b.firstOffset), lastOffset: Number(b.lastOffset), acknowledgeTypes: b.acknowledgeTypes };
}
