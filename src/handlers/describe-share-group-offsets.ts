/**
 * DescribeShareGroupOffsets: v0-1 (KIP-932; the admin view of a share
 * group's start offsets, kafka-share-groups.sh --describe).
 * Behavior: for each group, each requested topic's partitions with their
 * share-partition start offset (SPSO) as the share coordinator holds it
 * (ReadShareGroupStateSummary: -1 for a share-partition with no state yet);
 * a null topic list asks for every share-partition the group has initialized.
 * A topic name no topic has: its partitions with UNKNOWN_TOPIC_OR_PARTITION.
 * The group's error for all its topics: INVALID_GROUP_ID for "",
 * GROUP_ID_NOT_FOUND for no share group of that id (another group type
 * included), COORDINATOR_LOAD_IN_PROGRESS / COORDINATOR_NOT_AVAILABLE from
 * the group coordinator. The leader epoch is the partition's.
 * Authorization (an authorizer's, as Kafka's KafkaApis): DESCRIBE on each
 * group (else GROUP_AUTHORIZATION_FAILED for it); DESCRIBE on each topic: a
 * requested one not allowed gets TOPIC_AUTHORIZATION_FAILED on its
 * partitions (with Kafka's message, the zero topic id), and with a null list
 * the topics not allowed are left out.
 * Version notes: v1 adds each partition's Lag (KIP-1226): the high watermark
 * less the start offset less the records above it already delivered for good
 * (acknowledged or archived), from the share coordinator's state; -1 for a
 * share-partition with no start offset yet.
 */
import { apiByKey, ApiKey, ErrorCode, errorInfo, KafkaError, schemas, type MessageValue } from '../../protocol/index.js';
import { RecordState } from '../share/record-state.js';
import { authorize, authorizedNames } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

type Response = MessageValue<typeof schemas.describeShareGroupOffsetsResponse>;
type ResponseGroup = Response['groups'][number];
type ResponseTopic = ResponseGroup['topics'][number];

/** Kafka's Uuid.ZERO_UUID, for a topic name no topic has. */
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export const describeShareGroupOffsetsHandler = defineHandler({
  api: apiByKey(ApiKey.DescribeShareGroupOffsets)!,
  request: schemas.describeShareGroupOffsetsRequest,
  response: schemas.describeShareGroupOffsetsResponse,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req): Promise<Response> {
    const { services } = ctx;
    const groups: ResponseGroup[] = [];
    for (const g of req.groups) {
      if (!authorize(ctx, 'DESCRIBE', 'GROUP', g.groupId)) {
        groups.push({ groupId: g.groupId, topics: [], errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null });
        continue;
      }
      const initialized = services.groups.shareGroupInitializedTopics(g.groupId);
      if (initialized instanceof KafkaError) {
        groups.push({ groupId: g.groupId, topics: [], errorCode: initialized.code, errorMessage: initialized.message || null });
        continue;
      }
      // the topics asked for, by name; null: the share-partitions the group has initialized
      const wanted =
        g.topics === null
          ? initialized.map((t) => ({ topicName: t.topicName, partitions: t.partitions }))
          : g.topics.map((t) => ({ topicName: t.topicName, partitions: [...t.partitions] }));
      const describable = authorizedNames(ctx, 'DESCRIBE', 'TOPIC', wanted.map((t) => t.topicName));
      const asked = wanted.filter((t) => describable.has(t.topicName));
      // requested topics the session may not describe: refused, after the others (a null list leaves them out)
      const refused: ResponseTopic[] = (g.topics === null ? [] : wanted.filter((t) => !describable.has(t.topicName))).map((t) => ({
        topicName: t.topicName,
        topicId: ZERO_UUID,
        partitions: t.partitions.map((partitionIndex) => ({
          partitionIndex,
          startOffset: -1n,
          leaderEpoch: -1,
          lag: -1n,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: errorInfo(ErrorCode.TOPIC_AUTHORIZATION_FAILED).message,
        })),
      }));
      const topics: ResponseTopic[] = [];
      const known: Array<{ topicName: string; topicId: string; partitions: number[]; leaderEpoch: (p: number) => number }> = [];
      for (const t of asked) {
        const topic = services.topics.get(t.topicName);
        if (topic === undefined) {
          topics.push({
            topicName: t.topicName,
            topicId: ZERO_UUID,
            partitions: t.partitions.map((partitionIndex) => ({
              partitionIndex,
              startOffset: -1n,
              leaderEpoch: -1,
              lag: -1n,
              errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              errorMessage: 'The topic or partition does not exist.',
            })),
          });
          continue;
        }
        known.push({ topicName: t.topicName, topicId: topic.topicId, partitions: t.partitions, leaderEpoch: (p) => topic.partitions[p]?.leaderEpoch ?? -1 });
      }
      const request = {
        groupId: g.groupId,
        topics: known.map((t) => ({ topicId: t.topicId, partitions: t.partitions.map((partition) => ({ partition, leaderEpoch: -1 })) })),
      };
      const summary = known.length === 0 ? { topics: [] } : await services.shareFetches.persister.readSummary(request);
      // v1's lag needs the delivery states too
      const states = known.length === 0 || ctx.version < 1 ? undefined : await services.shareFetches.persister.read(request);
      const lagOf = (topicId: string, partition: number, startOffset: number): bigint => {
        const state = states?.topics.find((s) => s.topicId === topicId)?.partitions.find((x) => x.partition === partition);
        const log = services.topics.getById(topicId)?.partitions[partition]?.log;
        if (startOffset < 0 || state === undefined || state.errorCode !== ErrorCode.NONE || log === undefined) return -1n;
        const hw = log.highWatermark;
        let complete = 0;
        for (const b of state.stateBatches ?? []) {
          if (b.deliveryState !== RecordState.ACKNOWLEDGED && b.deliveryState !== RecordState.ARCHIVED) continue;
          const first = Math.max(b.firstOffset, startOffset);
          const last = Math.min(b.lastOffset, hw - 1);
          if (last >= first) complete += last - first + 1;
        }
        return BigInt(Math.max(0, hw - startOffset - complete));
      };
      for (const t of known) {
        const answered = summary.topics.find((s) => s.topicId === t.topicId);
        topics.push({
          topicName: t.topicName,
          topicId: t.topicId,
          partitions: t.partitions.map((partitionIndex) => {
            const p = answered?.partitions.find((x) => x.partition === partitionIndex);
            if (t.leaderEpoch(partitionIndex) === -1) {
              return { partitionIndex, startOffset: -1n, leaderEpoch: -1, lag: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'The topic or partition does not exist.' };
            }
            if (p === undefined || p.errorCode !== ErrorCode.NONE) {
              return { partitionIndex, startOffset: -1n, leaderEpoch: -1, lag: -1n, errorCode: p?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: p?.errorMessage ?? null };
            }
            const startOffset = p.startOffset ?? -1;
            return { partitionIndex, startOffset: BigInt(startOffset), leaderEpoch: t.leaderEpoch(partitionIndex), lag: lagOf(t.topicId, partitionIndex, startOffset), errorCode: ErrorCode.NONE, errorMessage: null };
          }),
        });
      }
      groups.push({ groupId: g.groupId, topics: [...topics, ...refused], errorCode: ErrorCode.NONE, errorMessage: null });
    }
    return { throttleTimeMs: 0, groups };
  },
});
