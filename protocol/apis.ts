/**
 * The APIs (Kafka 3.9.0's that Gregor knows, plus the newer APIs and
 * versions of Kafka 4.3 it serves, and Kafka 4.3's share-group APIs,
 * KIP-932): key → name and request/response schemas, plus the request and
 * response header rules (notes/api-versions-and-headers.md). An API here is
 * one the codec knows; the handler list (src/handlers/index.ts) decides
 * what the broker serves and ApiVersions lists.
 */
import * as schemas from './schemas/index.js';
import { isFlexible } from './codec.js';
import { parseVersions, type MessageDef } from './schema.js';

export interface ApiDef {
  readonly key: number;
  readonly name: string;
  readonly request: MessageDef;
  readonly response: MessageDef;
  readonly minVersion: number;
  readonly maxVersion: number;
}

const byKey = new Map<number, ApiDef>();
for (const value of Object.values(schemas) as MessageDef[]) {
  if (value.kind !== 'request') continue;
  const name = value.name.slice(0, -'Request'.length);
  const response = (Object.values(schemas) as MessageDef[]).find((m) => m.kind === 'response' && m.apiKey === value.apiKey)!;
  const range = parseVersions(value.valid);
  byKey.set(value.apiKey, { key: value.apiKey, name, request: value, response, minVersion: range.min, maxVersion: range.max });
}

/** Every API that the protocol layer can encode and decode, by key. */
export const APIS: ReadonlyMap<number, ApiDef> = byKey;

export function apiByKey(key: number): ApiDef | undefined {
  return byKey.get(key);
}

export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  SaslHandshake: 17,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  DeleteRecords: 21,
  InitProducerId: 22,
  OffsetForLeaderEpoch: 23,
  AddPartitionsToTxn: 24,
  AddOffsetsToTxn: 25,
  EndTxn: 26,
  TxnOffsetCommit: 28,
  DescribeAcls: 29,
  CreateAcls: 30,
  DeleteAcls: 31,
  DescribeConfigs: 32,
  AlterConfigs: 33,
  DescribeLogDirs: 35,
  SaslAuthenticate: 36,
  CreatePartitions: 37,
  DeleteGroups: 42,
  IncrementalAlterConfigs: 44,
  OffsetDelete: 47,
  DescribeClientQuotas: 48,
  AlterClientQuotas: 49,
  DescribeUserScramCredentials: 50,
  AlterUserScramCredentials: 51,
  DescribeCluster: 60,
  DescribeProducers: 61,
  DescribeTransactions: 65,
  ListTransactions: 66,
  ConsumerGroupHeartbeat: 68,
  ConsumerGroupDescribe: 69,
  GetTelemetrySubscriptions: 71,
  PushTelemetry: 72,
  DescribeTopicPartitions: 75,
  ShareGroupHeartbeat: 76,
  ShareGroupDescribe: 77,
  ShareFetch: 78,
  ShareAcknowledge: 79,
  InitializeShareGroupState: 83,
  ReadShareGroupState: 84,
  WriteShareGroupState: 85,
  DeleteShareGroupState: 86,
  ReadShareGroupStateSummary: 87,
  DescribeShareGroupOffsets: 90,
  AlterShareGroupOffsets: 91,
  DeleteShareGroupOffsets: 92,
} as const;

/** Request header version: 2 for flexible API versions, else 1. */
export function requestHeaderVersion(api: ApiDef, version: number): 1 | 2 {
  return isFlexible(api.request, version) ? 2 : 1;
}

/** Response header version: 1 for flexible API versions, except ApiVersions which always uses 0. */
export function responseHeaderVersion(api: ApiDef, version: number): 0 | 1 {
  if (api.key === ApiKey.ApiVersions) return 0;
  return isFlexible(api.response, version) ? 1 : 0;
}
