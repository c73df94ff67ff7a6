/**
 * DescribeLogDirs: v0-5.
 * Behavior: the one log dir (absolute path) with, as Kafka's
 * ReplicaManager.describeLogDirs: every topic that has partitions in it, each
 * listing the requested partitions (all with a null topic list; a topic none
 * of whose partitions was asked for is listed with no partitions, as in
 * Kafka) with their size on disk, offset lag 0 (the one replica is the
 * leader) and is_future_key false; requested partitions that do not exist are
 * left out. v4: the file system's total and usable bytes (statfs; Kafka's
 * getTotalSpace/getUsableSpace); when statfs fails the dir is answered with
 * KAFKA_STORAGE_ERROR. Without an authorizer nothing is refused.
 * Authorization (an authorizer's, as Kafka's KafkaApis): DESCRIBE on the
 * cluster, else the top-level CLUSTER_AUTHORIZATION_FAILED (v3+) and no
 * results.
 * Version notes: v1 same as v0; v2+ flexible; v3+ top-level error code; v4
 * total_bytes and usable_bytes; v5 is_cordoned (KIP-1066: a cordoned log dir
 * takes no new partitions): always false, Gregor has no cordoned.log.dirs.
 */
import { statfs } from 'node:fs/promises';
import { ApiKey, apiByKey, ErrorCode, schemas, type MessageInput } from '../../protocol/index.js';
import { authorizeCluster } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

type TopicResult = NonNullable<NonNullable<MessageInput<typeof schemas.describeLogDirsResponse>['results']>[number]['topics']>[number];

export const describeLogDirsHandler = defineHandler({
  api: apiByKey(ApiKey.DescribeLogDirs)!,
  request: schemas.describeLogDirsRequest,
  response: schemas.describeLogDirsResponse,
  async handle(ctx, req) {
    const { services } = ctx;
    if (!authorizeCluster(ctx, 'DESCRIBE')) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
    const logDir = services.identity.dataDir;
    const wanted = req.topics === null ? null : new Set(req.topics.flatMap((t) => t.partitions.map((p) => `${t.topic}\u0000${p}`)));
    let space: { total: bigint; usable: bigint };
    try {
      const s = await statfs(logDir, { bigint: true });
      space = { total: s.blocks * s.bsize, usable: s.bavail * s.bsize };
    } catch (err) {
      services.logger.warn({ err, logDir }, 'statfs of the log dir failed');
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results: [{ errorCode: ErrorCode.KAFKA_STORAGE_ERROR, logDir, topics: [] }] };
    }
    const topics = new Map<string, TopicResult>();
    for (const log of services.logs.allLogs()) {
      let topic = topics.get(log.topic);
      if (!topic) {
        topic = { name: log.topic, partitions: [] };
        topics.set(log.topic, topic);
      }
      if (wanted !== null && !wanted.has(`${log.topic}\u0000${log.partition}`)) continue;
      topic.partitions!.push({ partitionIndex: log.partition, partitionSize: BigInt(log.sizeInBytes), offsetLag: 0n, isFutureKey: false });
    }
    for (const t of topics.values()) t.partitions!.sort((a, b) => a.partitionIndex! - b.partitionIndex!);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [{ errorCode: ErrorCode.NONE, logDir, topics: [...topics.values()], totalBytes: space.total, usableBytes: space.usable, isCordoned: false }],
    };
  },
});
